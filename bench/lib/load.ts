/**
 * Runs one load against one server and turns it into a Measurement: the load
 * tool's figures, the CPU both the server and the tool used (sampled from
 * /proc while the tool runs), and the server's peak RSS so far.
 *
 * Tool per load:
 *   replay      h2load -i (URIs replayed in file order by every connection)
 *   random-get  wrk + bench/lua/random-get.lua (uniform pick per request)
 *   rate-get    wrk + bench/lua/rate-get.lua (the same, paced by a delay after each response)
 *   create      wrk + bench/lua/create.lua (a new target per request)
 *   mixed       wrk + bench/lua/mixed.lua
 * Without h2load, a replay runs on wrk over the same sample. Without wrk, the
 * autocannon client replaces it, and its own CPU then limits the figures.
 */
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { runTool, type ToolResult } from './children.ts'
import { parseAutocannonResult } from './autocannon.ts'
import { h2loadArgs, parseH2loadOutput, readH2loadLog } from './h2load.ts'
import { CpuWindow, MachineWindow, readPeakRssBytes, type CpuUsage } from './proc.ts'
import type { Measurement } from './results.ts'
import type { ServerHandle } from './servers.ts'
import { REPO_ROOT } from './servers.ts'
import { writeCodeFile, writeUriFile } from './uri-file.ts'
import { parseWrkOutput, wrkArgs } from './wrk.ts'

export interface LoadSettings {
  connections: number
  clientThreads: number
  durationSeconds: number
  warmupSeconds: number
  hasH2load: boolean
  hasWrk: boolean
  workDir: string
  seed: number
  cpus: number
}

export type LoadPlan =
  | { kind: 'replay', codes: readonly string[] }
  | { kind: 'random-get', codeFile: string }
  | { kind: 'rate-get', codeFile: string, meanDelayMs: number }
  | { kind: 'create', runTag: string }
  | { kind: 'mixed', codeFile: string, runTag: string, createPercent: number }

interface ToolRun {
  tool: string
  latencyMethod: string
  rps: number
  requests: number
  errors: number
  p50Ms: number | undefined
  p99Ms: number | undefined
}

let fileCounter = 0
const warmedUp = new WeakSet<ChildProcess>()

function workFile (settings: LoadSettings, name: string): string {
  fileCounter++
  return join(settings.workDir, `${fileCounter}-${name}`)
}

export async function measureLoad (server: ServerHandle, plan: LoadPlan, settings: LoadSettings): Promise<Measurement> {
  // Both windows open when the measured tool process starts, after any warm-up run.
  let serverWindow: CpuWindow | undefined
  let clientWindow: CpuWindow | undefined
  let machineWindow: MachineWindow | undefined
  const onStart = (child: ChildProcess): void => {
    machineWindow = new MachineWindow()
    serverWindow = new CpuWindow(server.pid)
    if (child.pid !== undefined) clientWindow = new CpuWindow(child.pid, 100)
  }

  let run: ToolRun
  try {
    run = await runPlan(server, plan, settings, onStart)
  } catch (error) {
    serverWindow?.stop()
    clientWindow?.stop()
    return { server: server.label, tool: toolFor(plan, settings), error: (error as Error).message.slice(0, 2000) }
  }

  const serverCpu = serverWindow?.stop()
  const clientCpu = clientWindow?.stop()
  const machineCores = machineWindow?.stop()
  return {
    server: server.label,
    tool: run.tool,
    rps: run.rps,
    requests: run.requests,
    errors: run.errors,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    latencyMethod: run.latencyMethod,
    ...cpuFields(serverCpu, clientCpu, run.rps, settings.cpus, machineCores),
    peakRssBytes: readPeakRssBytes(server.pid)
  }
}

/**
 * CPU figures of a run. Requests in the sampled window are estimated as rps ×
 * window length. `machineCores` is the machine's mean busy cores over the run,
 * from which the cores used by other processes follow.
 */
export function cpuFields (server: CpuUsage | undefined, client: CpuUsage | undefined, rps: number, cpus: number, machineCores?: number): Partial<Measurement> {
  const fields: Partial<Measurement> = {}
  const otherCores = machineCores === undefined ? undefined : Math.max(0, machineCores - (server?.cores ?? 0) - (client?.cores ?? 0))
  if (otherCores !== undefined) fields.otherCores = otherCores
  if (server !== undefined) {
    fields.serverCpuSeconds = server.cpuSeconds
    fields.serverCores = server.cores
    fields.serverBusiestThreadCores = server.busiestThreadCores
    if (rps > 0) fields.cpuSecondsPer100k = server.cpuSeconds / (rps * server.wallSeconds) * 100_000
  }
  if (client !== undefined) {
    fields.clientCores = client.cores
    fields.clientBusiestThreadCores = client.busiestThreadCores
  }
  fields.saturation = describeSaturation(server, client, cpus, otherCores)
  return fields
}

/**
 * Says which side used up a core (a busiest thread at ≥ 0.9 cores) or the
 * whole machine, counting the cores that other processes took during the run.
 */
export function describeSaturation (server: CpuUsage | undefined, client: CpuUsage | undefined, cpus: number, otherCores = 0): string {
  const parts: string[] = []
  if (client !== undefined && client.busiestThreadCores >= 0.9) parts.push('client thread at 1 core')
  if (server !== undefined && server.busiestThreadCores >= 0.9) parts.push(`server thread ${server.busiestThreadName} at 1 core`)
  const total = (server?.cores ?? 0) + (client?.cores ?? 0) + otherCores
  if (total >= 0.9 * cpus) parts.push(`all ${cpus} cores busy`)
  if (parts.length === 0) parts.push('no core saturated')
  let numbers = `server ${(server?.cores ?? 0).toFixed(2)} cores, client ${(client?.cores ?? 0).toFixed(2)}`
  if (otherCores >= 0.05) numbers += `, other processes ${otherCores.toFixed(2)}`
  return `${parts.join(', ')} (${numbers})`
}

function toolFor (plan: LoadPlan, settings: LoadSettings): string {
  if (plan.kind === 'replay' && settings.hasH2load) return 'h2load'
  return settings.hasWrk ? 'wrk' : 'autocannon'
}

async function runPlan (server: ServerHandle, plan: LoadPlan, settings: LoadSettings, onStart: (child: ChildProcess) => void): Promise<ToolRun> {
  const tool = toolFor(plan, settings)
  if (plan.kind === 'replay' && tool === 'h2load') return await runH2load(server, plan.codes, settings, onStart)
  if (plan.kind === 'rate-get' && tool !== 'wrk') throw new Error('a paced request rate needs wrk (its delay() hook)')

  const codeFile = plan.kind === 'replay' ? workFile(settings, 'codes.txt') : undefined
  if (plan.kind === 'replay') writeCodeFile(codeFile as string, plan.codes)

  const script = scriptFor(plan, codeFile, settings.seed)
  if (tool === 'wrk') return await runWrk(server, script, settings, onStart)
  return await runAutocannon(server, script, settings, onStart)
}

interface Script {
  name: string
  args: string[]
  autocannon: Record<string, unknown>
}

function scriptFor (plan: LoadPlan, replayCodeFile: string | undefined, seed: number): Script {
  switch (plan.kind) {
    case 'replay':
    case 'random-get': {
      const file = plan.kind === 'replay' ? replayCodeFile as string : plan.codeFile
      return { name: 'random-get.lua', args: [file, String(seed)], autocannon: { mode: 'get', codeFile: file } }
    }
    case 'rate-get':
      return { name: 'rate-get.lua', args: [plan.codeFile, String(seed), plan.meanDelayMs.toFixed(3)], autocannon: { mode: 'get', codeFile: plan.codeFile } }
    case 'create':
      return { name: 'create.lua', args: [plan.runTag], autocannon: { mode: 'create', runTag: plan.runTag } }
    case 'mixed':
      return {
        name: 'mixed.lua',
        args: [plan.codeFile, plan.runTag, String(plan.createPercent), String(seed)],
        autocannon: { mode: 'mixed', codeFile: plan.codeFile, runTag: plan.runTag, createPercent: plan.createPercent }
      }
  }
}

function timeoutFor (settings: LoadSettings): number {
  return (settings.durationSeconds + settings.warmupSeconds) * 1000 + 30_000
}

function failIfBad (result: ToolResult, tool: string): void {
  if (result.timedOut) throw new Error(`${tool} did not finish in time and was killed`)
  if (result.exitCode !== 0) throw new Error(`${tool} exited with ${result.exitCode}: ${(result.stderr + result.stdout).slice(-800)}`)
}

async function runH2load (server: ServerHandle, codes: readonly string[], settings: LoadSettings, onStart: (child: ChildProcess) => void): Promise<ToolRun> {
  const uriFile = workFile(settings, 'uris.txt')
  const logFile = workFile(settings, 'h2load.log')
  writeUriFile(uriFile, server.origin, codes)

  const args = h2loadArgs({
    uriFile,
    logFile,
    connections: settings.connections,
    threads: settings.clientThreads,
    durationSeconds: settings.durationSeconds,
    warmupSeconds: settings.warmupSeconds
  })
  const result = await runTool('h2load', args, timeoutFor(settings), onStart)
  failIfBad(result, 'h2load')

  const summary = parseH2loadOutput(result.stdout)
  const latency = readH2loadLog(logFile)
  return {
    tool: 'h2load',
    latencyMethod: 'h2load --log-file, closed loop, uncorrected',
    rps: summary.rps,
    requests: summary.requests,
    errors: summary.failed + summary.errored + summary.timeouts + summary.status4xx + summary.status5xx,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms
  }
}

async function runWrk (server: ServerHandle, script: Script, settings: LoadSettings, onStart: (child: ChildProcess) => void): Promise<ToolRun> {
  const argsFor = (durationSeconds: number): string[] => wrkArgs({
    url: `${server.origin}/`,
    connections: settings.connections,
    threads: settings.clientThreads,
    durationSeconds,
    script: script.name,
    scriptArgs: script.args
  })

  // wrk has no warm-up phase of its own (h2load has --warm-up-time), so a
  // short unmeasured run lets the server's JIT and caches settle before the
  // first wrk run on each server process.
  if (!warmedUp.has(server.child)) {
    const warmup = await runTool('wrk', argsFor(Math.max(1, settings.warmupSeconds)), timeoutFor(settings))
    failIfBad(warmup, 'wrk (warm-up)')
    warmedUp.add(server.child)
  }

  const result = await runTool('wrk', argsFor(settings.durationSeconds), timeoutFor(settings), onStart)
  failIfBad(result, 'wrk')

  const summary = parseWrkOutput(result.stdout)
  return {
    tool: 'wrk',
    latencyMethod: 'wrk --latency, uncorrected',
    rps: summary.rps,
    requests: summary.requests,
    errors: summary.non2xx3xx + summary.socketErrors,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms
  }
}

async function runAutocannon (server: ServerHandle, script: Script, settings: LoadSettings, onStart: (child: ChildProcess) => void): Promise<ToolRun> {
  const options = {
    url: server.origin,
    connections: settings.connections,
    durationSeconds: settings.durationSeconds,
    runTag: 'ac',
    seed: settings.seed,
    ...script.autocannon
  }
  const args = ['--import', 'tsx', join(REPO_ROOT, 'bench/lib/autocannon-client.ts'), JSON.stringify(options)]
  const result = await runTool(process.execPath, args, timeoutFor(settings), onStart)
  failIfBad(result, 'autocannon')

  const summary = parseAutocannonResult(result.stdout)
  return {
    tool: 'autocannon',
    latencyMethod: 'autocannon (1 ms resolution), uncorrected',
    rps: summary.rps,
    requests: summary.requests,
    errors: summary.errors,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms
  }
}
