/**
 * `npm run bench`: loads the ceiling, the product and the reference one after
 * another with the same tools and settings, then writes
 * bench/results/latest.json and latest.md and prints the tables.
 * docs/benchmarks.md describes the method. Every child process is stopped on
 * exit, on SIGINT and when the time limit runs out.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onProcessExit, stopAllChildren } from './lib/children.ts'
import { diskUsageBytes } from './lib/disk.ts'
import { cpuFields, measureLoad, type LoadSettings } from './lib/load.ts'
import { describeMachine, toolInstalled } from './lib/machine.ts'
import { BENCH_HELP, parseBenchOptions, type BenchConfig } from './lib/options.ts'
import { preload } from './lib/preload.ts'
import { CpuWindow, MachineWindow, readPeakRssBytes } from './lib/proc.ts'
import { renderMarkdown, type BenchReport } from './lib/report.ts'
import { buildScenario, computeTargets, SCENARIO_NAMES, withSharedCeiling, type Measurement, type Scenario, type ScenarioName, type StartupFigure } from './lib/results.ts'
import { productAvailable, REPO_ROOT, startCeiling, startProduct, startReference, type ServerHandle } from './lib/servers.ts'
import { medianItem } from './lib/stats.ts'
import { sampleZipfCodes, syntheticCodes, writeCodeFile } from './lib/uri-file.ts'

type Side = 'product' | 'ceiling' | 'reference'
type Runs = Partial<Record<ScenarioName, Partial<Record<Side, Measurement>>>>

const RESULTS_DIR = join(REPO_ROOT, 'bench/results')
const START_TIMEOUT_MS = 60_000
/** Length of the stand-in codes that the ceiling gets, the product's generated code length. */
const CODE_LENGTH = 7

const parsed = parseBenchOptions(process.argv.slice(2))
if (parsed === 'help') {
  process.stdout.write(BENCH_HELP)
  process.exit(0)
}
const config: BenchConfig = parsed

const machine = describeMachine()
const hasH2load = config.loadTool === 'auto' && toolInstalled(machine.tools.h2load as string)
const hasWrk = config.loadTool === 'auto' && toolInstalled(machine.tools.wrk as string)
const workDir = mkdtempSync(join(tmpdir(), 'shortener-bench-'))
if (!config.keepData) onProcessExit(() => rmSync(workDir, { recursive: true, force: true }))
const startedMs = performance.now()
const runs: Runs = {}
const notes: string[] = []
let startup: StartupFigure | undefined
const startupDetails: Record<string, unknown> = {}
let finished = false

const settings: LoadSettings = {
  connections: config.connections,
  clientThreads: config.clientThreads,
  durationSeconds: config.durationSeconds,
  warmupSeconds: config.warmupSeconds,
  hasH2load,
  hasWrk,
  workDir,
  seed: config.seed,
  cpus: machine.cpus
}

const report: BenchReport = {
  machine,
  startedAt: new Date().toISOString(),
  quick: config.quick,
  tool: {
    'redirect-hot, shards-N': hasH2load ? 'h2load --h1 -i (replay)' : (hasWrk ? 'wrk (random pick from the same sample)' : 'autocannon'),
    'p99 at ½ max': hasWrk ? 'wrk + Lua delay() pacing, uncorrected' : 'not measured',
    'redirect-uniform, create-single, mixed': hasWrk ? 'wrk + Lua' : 'autocannon',
    'create-batch': 'bench fetch client (batch API)'
  },
  settings: { ...config },
  scenarios: {},
  targets: [],
  notes
}

function log (message: string): void {
  const seconds = ((performance.now() - startedMs) / 1000).toFixed(1)
  process.stderr.write(`[${seconds.padStart(6)} s] ${message}\n`)
}

function remainingMs (): number {
  return config.timeLimitMs - (performance.now() - startedMs)
}

function record (scenario: ScenarioName, side: Side, measurement: Measurement): void {
  const entry = runs[scenario] ?? {}
  entry[side] = measurement
  runs[scenario] = entry
  const figure = measurement.error === undefined
    ? `${Math.round(measurement.rps ?? 0)} ${scenario.startsWith('create-batch') ? 'links' : 'req'}/s, ${measurement.errors ?? 0} errors, p99 ${measurement.p99Ms?.toFixed(2) ?? '–'} ms; ${measurement.saturation ?? ''}`
    : `failed: ${measurement.error.split('\n')[0]}`
  log(`${scenario} on ${measurement.server}: ${figure}`)
}

/** Runs one step; a failure is noted and the run goes on with the next step. */
async function step (name: string, minimumMs: number, body: () => Promise<void>): Promise<void> {
  if (remainingMs() < minimumMs) {
    notes.push(`Skipped "${name}": not enough time left within the run's limit.`)
    log(`skip ${name} (time limit)`)
    return
  }
  try {
    await body()
  } catch (error) {
    const message = (error as Error).message
    notes.push(`"${name}" failed: ${message.split('\n')[0]}`)
    log(`${name} failed: ${message}`)
  }
}

function loadMs (): number {
  return (config.durationSeconds + config.warmupSeconds) * 1000 + 2000
}

async function withServer (start: () => Promise<ServerHandle>, body: (server: ServerHandle) => Promise<void>): Promise<void> {
  const server = await start()
  log(`started ${server.label}: ready in ${server.spawnToReadyMs.toFixed(0)} ms`)
  try {
    await body(server)
  } finally {
    await server.stop()
  }
}

/**
 * Sends one create after a create run that counted errors and notes its
 * response, because wrk counts failed responses without keeping any of them.
 */
async function noteCreateErrors (server: ServerHandle, scenario: string, measurement: Measurement): Promise<void> {
  if ((measurement.errors ?? 0) === 0 || measurement.error !== undefined) return
  try {
    const response = await fetch(`${server.origin}/api/v1/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `https://example.com/bench/probe/${Date.now()}` }),
      redirect: 'manual',
      signal: AbortSignal.timeout(5000)
    })
    const text = (await response.text()).slice(0, 300)
    notes.push(`${scenario} on ${server.label}: ${measurement.errors} failed responses; a create sent afterwards returned ${response.status} ${text}`)
  } catch (error) {
    notes.push(`${scenario} on ${server.label}: ${measurement.errors} failed responses; a create sent afterwards failed: ${(error as Error).message}`)
  }
}

/** Imports `links` links through the batch API and measures it as a create-batch run. */
async function preloadMeasured (server: ServerHandle, links: number, prefix: string): Promise<{ codes: string[], measurement: Measurement }> {
  const window = new CpuWindow(server.pid)
  const machineWindow = new MachineWindow()
  const result = await preload({
    origin: server.origin,
    links,
    batchSize: config.batchSize,
    concurrency: config.preloadConcurrency,
    prefix,
    timeoutMs: Math.max(Math.floor(Math.min(remainingMs() - 5000, config.maxPreloadMs)), 1000)
  })
  const serverCpu = window.stop()
  const machineCores = machineWindow.stop()
  if (result.firstError !== undefined) {
    notes.push(`${server.label}: ${result.failedLinks} of ${links} imported links failed, the first with ${result.firstError}`)
  }
  if (!result.complete) notes.push(`${server.label}: import stopped at ${result.codes.length} of ${links} links (time limit of one import).`)

  const clientCpu = {
    cpuSeconds: result.clientCpuSeconds,
    wallSeconds: result.wallSeconds,
    cores: result.clientCpuSeconds / result.wallSeconds,
    busiestThreadCores: result.clientCpuSeconds / result.wallSeconds,
    busiestThreadName: 'bench'
  }
  const measurement: Measurement = {
    server: server.label,
    tool: `fetch client, ${config.batchSize} links a request, ${config.preloadConcurrency} in flight`,
    rps: result.linksPerSecond,
    requests: result.codes.length + result.failedLinks,
    batchRequests: result.requests,
    errors: result.failedLinks,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    latencyMethod: 'per batch request',
    ...cpuFields(serverCpu, clientCpu, result.linksPerSecond, machine.cpus, machineCores),
    peakRssBytes: readPeakRssBytes(server.pid),
    linksStored: result.codes.length
  }
  if (server.dataDir !== undefined && result.codes.length > 0) {
    measurement.bytesOnDisk = diskUsageBytes(server.dataDir)
    measurement.bytesPerLink = measurement.bytesOnDisk / result.codes.length
  }
  return { codes: result.codes, measurement }
}

/**
 * Adds "p99 at half the measured max rps" to a redirect measurement. wrk
 * paces each connection with random delays (bench/lua/rate-get.lua) over the
 * same code sample. h2load's --rps is not used: with HTTP/1.1 it neither held
 * the rate nor spread the requests (nghttp2 1.52, measured on the ceiling).
 *
 * A connection's cycle is its delay plus the response time plus wrk's timer
 * overshoot, so a 1 s calibration run measures that overhead first and the
 * measured run shortens the delay by it.
 */
async function addHalfRate (server: ServerHandle, codes: readonly string[], measurement: Measurement): Promise<void> {
  if (!hasWrk) {
    const note = 'p99 at half max rps needs wrk (paced with its delay() hook); not measured.'
    if (!notes.includes(note)) notes.push(note)
    return
  }
  if (measurement.rps === undefined || measurement.error !== undefined) return
  const offered = measurement.rps / 2
  const file = codeFile(`half-rate-${server.kind}-${server.pid}.txt`, codes)
  const cycleMs = (config.connections * 1000) / offered

  const calibration = await measureLoad(server, { kind: 'rate-get', codeFile: file, meanDelayMs: cycleMs }, { ...settings, durationSeconds: 1 })
  if (calibration.error !== undefined || calibration.rps === undefined) throw new Error(calibration.error ?? 'calibration measured no rate')
  const overheadMs = Math.max(0, (config.connections * 1000) / calibration.rps - cycleMs)

  const half = await measureLoad(server, { kind: 'rate-get', codeFile: file, meanDelayMs: Math.max(0, cycleMs - overheadMs) }, settings)
  if (half.error !== undefined) throw new Error(half.error)
  measurement.p99AtHalfRateMs = half.p99Ms
  measurement.halfRateOfferedRps = offered
  measurement.halfRateMeasuredRps = half.rps
  log(`  ${server.label}: p99 at ${Math.round(half.rps ?? 0)} req/s (target ${Math.round(offered)}, half of max) = ${half.p99Ms?.toFixed(2)} ms`)
}

function zipfSample (codes: readonly string[]): string[] {
  return sampleZipfCodes(codes, { count: config.uriCount, exponent: config.zipfExponent, seed: config.seed })
}

function codeFile (name: string, codes: readonly string[]): string {
  const path = join(workDir, name)
  writeCodeFile(path, codes)
  return path
}

let ceilingHot: string[] = []
/** The ceiling's first hot-redirect rate, which the repeat at the end of the run is compared with. */
let firstCeilingHotRps: number | undefined

function ceilingLocation (): string {
  return `https://example.com/bench/p/${config.links - 1}`
}

async function benchCeiling (): Promise<void> {
  const codes = syntheticCodes(config.links, CODE_LENGTH, config.seed)
  const hot = zipfSample(codes)
  ceilingHot = hot
  const allCodes = codeFile('ceiling-codes.txt', codes)

  await withServer(async () => await startCeiling(ceilingLocation(), START_TIMEOUT_MS), async (server) => {
    const hotRun = await measureLoad(server, { kind: 'replay', codes: hot }, settings)
    record('redirect-hot', 'ceiling', hotRun)
    firstCeilingHotRps = hotRun.rps
    await step('ceiling p99 at half max', loadMs(), async () => await addHalfRate(server, hot, hotRun))
    await step('ceiling redirect-uniform', loadMs(), async () => {
      record('redirect-uniform', 'ceiling', await measureLoad(server, { kind: 'random-get', codeFile: allCodes }, settings))
    })
    // The product's single-create POSTs, to which the ceiling returns its fixed
    // 302 unread: the most that the HTTP stack and the load tool allow.
    await step('ceiling create-single', loadMs(), async () => {
      record('create-single', 'ceiling', await measureLoad(server, { kind: 'create', runTag: 'ceiling-single' }, settings))
    })
  })
}

/**
 * Repeats the ceiling's hot-redirect run at the end. The ceiling does the same
 * work both times, so a difference between the two is what other work on
 * the machine and its CPU did to the figures in between. The ratios keep
 * using the first run.
 */
async function checkCeilingDrift (): Promise<void> {
  const firstRps = firstCeilingHotRps
  if (firstRps === undefined || ceilingHot.length === 0) return

  await withServer(async () => await startCeiling(ceilingLocation(), START_TIMEOUT_MS), async (server) => {
    const again = await measureLoad(server, { kind: 'replay', codes: ceilingHot }, settings)
    if (again.rps === undefined || again.error !== undefined) throw new Error(again.error ?? 'no rate measured')
    const driftPercent = ((again.rps - firstRps) / firstRps) * 100
    report.ceilingDrift = { firstRps, lastRps: again.rps, driftPercent }
    notes.push(`Ceiling redirect-hot: ${Math.round(firstRps)} req/s at the start of the run and ${Math.round(again.rps)} at the end ` +
      `(${driftPercent >= 0 ? '+' : ''}${driftPercent.toFixed(1)} %). Differences of that size between servers are noise.`)
    log(`ceiling again: ${Math.round(again.rps)} req/s (${driftPercent.toFixed(1)} % against the first run)`)
  })
}

/**
 * Hot redirects on the product in rounds that alternate with a ceiling
 * started beside it, so that both figures of `vsCeiling` come from the same
 * minutes. The ceiling's median round replaces its redirect-hot figure from
 * the start of the run, and the product's median round is returned.
 */
async function hotBesideCeiling (product: ServerHandle, hot: readonly string[]): Promise<Measurement> {
  const productRuns: Measurement[] = []
  const ceilingRuns: Measurement[] = []
  await withServer(async () => await startCeiling(ceilingLocation(), START_TIMEOUT_MS), async (ceiling) => {
    for (let round = 0; round < config.hotRounds; round++) {
      ceilingRuns.push(await measureLoad(ceiling, { kind: 'replay', codes: ceilingHot }, settings))
      productRuns.push(await measureLoad(product, { kind: 'replay', codes: hot }, settings))
      log(`redirect-hot round ${round + 1}: ceiling ${Math.round(ceilingRuns.at(-1)?.rps ?? 0)}, product ${Math.round(productRuns.at(-1)?.rps ?? 0)} req/s`)
    }
  })
  const ceilingMedian = medianRun(ceilingRuns)
  const productMedian = medianRun(productRuns)
  if (ceilingMedian === undefined || productMedian === undefined) throw new Error('no hot-redirect round ran')
  if (productRuns.length > 1) {
    notes.push(`redirect-hot: median of ${productRuns.length} rounds alternating with the ceiling (ceiling ${roundRates(ceilingRuns)}; product ${roundRates(productRuns)} req/s).`)
  }
  record('redirect-hot', 'ceiling', ceilingMedian)
  return productMedian
}

type Target = 'product' | 'reference'

interface MainSuite {
  side: Target
  start: (dataDir: string, smallCache: boolean) => Promise<ServerHandle>
}

/** Preload, hot redirects, creates, mix; then a restart with a small cache for uniform redirects and start-up time. */
async function benchMain (suite: MainSuite): Promise<void> {
  const dataDir = join(workDir, `${suite.side}-main`)
  let codes: string[] = []

  await withServer(async () => await suite.start(dataDir, false), async (server) => {
    const loaded = await preloadMeasured(server, config.links, 'p')
    codes = loaded.codes
    record('create-batch', suite.side, loaded.measurement)
    if (codes.length === 0) throw new Error('preload stored no links')

    const hot = zipfSample(codes)
    await step(`${suite.side} redirect-hot`, (suite.side === 'product' ? 2 * config.hotRounds : 1) * loadMs(), async () => {
      const hotRun = suite.side === 'product' ? await hotBesideCeiling(server, hot) : await measureLoad(server, { kind: 'replay', codes: hot }, settings)
      hotRun.bytesPerLink = loaded.measurement.bytesPerLink
      record('redirect-hot', suite.side, hotRun)
      await step(`${suite.side} p99 at half max`, loadMs(), async () => await addHalfRate(server, hot, hotRun))
    })
    await step(`${suite.side} create-single`, loadMs(), async () => {
      const run = await measureLoad(server, { kind: 'create', runTag: `${suite.side}-single` }, settings)
      record('create-single', suite.side, run)
      await noteCreateErrors(server, 'create-single', run)
    })
    await step(`${suite.side} mixed`, loadMs(), async () => {
      const file = codeFile(`${suite.side}-hot-codes.txt`, hot)
      record('mixed', suite.side, await measureLoad(server, { kind: 'mixed', codeFile: file, runTag: `${suite.side}-mixed`, createPercent: config.createPercent }, settings))
    })
  })

  await step(`${suite.side} restart with a small cache, redirect-uniform`, loadMs() + 5000, async () => {
    const allCodes = codeFile(`${suite.side}-codes.txt`, codes)
    await withServer(async () => await suite.start(dataDir, true), async (server) => {
      startupDetails[suite.side] = { spawnToListeningMs: server.spawnToListeningMs, spawnToReadyMs: server.spawnToReadyMs, links: codes.length }
      if (suite.side === 'product') startup = { ms: server.spawnToReadyMs, links: codes.length }
      const uniform = await measureLoad(server, { kind: 'random-get', codeFile: allCodes }, settings)
      uniform.bytesPerLink = runs['create-batch']?.[suite.side]?.bytesPerLink
      record('redirect-uniform', suite.side, uniform)
    })
  })
}

/** Creates at the weaker durability: the product's `commit` against the reference's synchronous=NORMAL. */
async function benchCommitDurability (side: Target, start: (dataDir: string) => Promise<ServerHandle>): Promise<void> {
  await withServer(async () => await start(join(workDir, `${side}-commit`)), async (server) => {
    const loaded = await preloadMeasured(server, config.smallLinks, 'c')
    record('create-batch-commit', side, loaded.measurement)
    await step(`${side} create-single-commit`, loadMs(), async () => {
      const run = await measureLoad(server, { kind: 'create', runTag: `${side}-commit` }, settings)
      record('create-single-commit', side, run)
      await noteCreateErrors(server, 'create-single-commit', run)
    })
  })
}

/**
 * Hot redirects at each shard count. One server per count runs from the
 * start, each with its own preloaded links, and every round loads them one
 * after another. A change in the machine's speed during the phase then
 * reaches every count alike, where measuring the counts in sequence once
 * gave one of them the slow minute. Each count's figure is its median round.
 */
async function benchShardCounts (): Promise<void> {
  const entries: Array<{ name: ScenarioName, server: ServerHandle, hot: string[], rounds: Measurement[] }> = []
  try {
    for (const shards of config.shardCounts) {
      const name = `shards-${shards}` as ScenarioName
      const server = await startProduct({ dataDir: join(workDir, `product-${name}`), shards, durability: 'flush', entry: config.productEntry }, START_TIMEOUT_MS)
      log(`started ${server.label}: ready in ${server.spawnToReadyMs.toFixed(0)} ms`)
      const entry = { name, server, hot: [] as string[], rounds: [] as Measurement[] }
      entries.push(entry)
      entry.hot = zipfSample((await preloadMeasured(server, config.smallLinks, 's')).codes)
    }
    for (let round = 0; round < config.shardRounds; round++) {
      if (remainingMs() < entries.length * loadMs()) {
        notes.push(`Shard counts: stopped after ${round} of ${config.shardRounds} rounds (time limit of the run).`)
        break
      }
      for (const entry of entries) {
        const run = await measureLoad(entry.server, { kind: 'replay', codes: entry.hot }, settings)
        entry.rounds.push(run)
        log(`${entry.name} round ${round + 1}: ${Math.round(run.rps ?? 0)} req/s`)
      }
    }
  } finally {
    await Promise.all(entries.map(async (entry) => { await entry.server.stop() }))
  }
  for (const entry of entries) {
    const median = medianRun(entry.rounds)
    if (median === undefined) continue
    record(entry.name, 'product', median)
    if (entry.rounds.length > 1) notes.push(`${entry.name}: median of ${entry.rounds.length} interleaved rounds (${roundRates(entry.rounds)} req/s).`)
  }
}

/** Returns the round with the median rate. */
function medianRun (runs: readonly Measurement[]): Measurement | undefined {
  return medianItem(runs, (run) => run.rps ?? 0)
}

/** Lists the rates of the rounds, for the notes. */
function roundRates (runs: readonly Measurement[]): string {
  return runs.map((run) => Math.round(run.rps ?? 0)).join(', ')
}

function smallCacheArgs (): string[] {
  const entries = String(config.smallCacheEntries)
  return ['--cache.front-entries', entries, '--cache.shard-entries', entries]
}

function buildReport (incomplete?: string): void {
  const scenarios: Partial<Record<ScenarioName, Scenario>> = {}
  for (const name of SCENARIO_NAMES) {
    const entry = runs[name]
    if (entry === undefined) continue
    scenarios[name] = buildScenario(withSharedCeiling(name, entry, runs))
  }
  report.scenarios = scenarios
  report.startup = startupDetails
  report.targets = computeTargets(scenarios, startup)
  report.finishedAt = new Date().toISOString()
  if (incomplete !== undefined) report.incomplete = incomplete
}

function previousMicro (): unknown {
  const path = join(RESULTS_DIR, 'latest.json')
  if (!existsSync(path)) return undefined
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { micro?: unknown }).micro
  } catch {
    return undefined
  }
}

async function finish (incomplete?: string): Promise<void> {
  if (finished) return
  finished = true
  await stopAllChildren()
  buildReport(incomplete)

  const micro = previousMicro()
  if (micro !== undefined) report.micro = micro
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(RESULTS_DIR, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  const markdown = renderMarkdown(report)
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown)
  process.stdout.write('\n' + markdown)
  log(`wrote bench/results/latest.json and latest.md`)

  if (config.keepData) log(`kept data in ${workDir}`)
}

/** Compiles the product, so that the build the bench runs matches the sources. */
function buildProduct (): void {
  log('building the product (npm run build)')
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  if (result.status !== 0) throw new Error(`npm run build failed with exit code ${result.status ?? result.signal}; fix the build or pass --product-entry tsx`)
}

async function main (): Promise<void> {
  if (config.productEntry === 'dist') buildProduct()
  if (config.loadTool === 'autocannon') {
    notes.push('--load-tool autocannon: every load ran on autocannon, so figures near the top are limited by the load tool.')
  } else if (!hasH2load || !hasWrk) {
    const missing = [hasH2load ? undefined : 'h2load', hasWrk ? undefined : 'wrk'].filter(Boolean).join(' and ')
    const message = `${missing} not installed (apt-get install nghttp2-client wrk); autocannon replaces them, so figures near the top are limited by the load tool.`
    notes.push(message)
    log(message)
  }
  log(`${config.quick ? 'quick' : 'full'} run: ${config.links} links, ${config.durationSeconds} s per load, ${config.connections} connections, work dir ${workDir}`)

  const watchdog = setTimeout(() => {
    log('time limit reached, stopping')
    finish(`stopped by the time limit of ${config.timeLimitMs / 1000} s`).finally(() => process.exit(1))
  }, config.timeLimitMs)

  await step('ceiling', 0, benchCeiling)

  // The product runs before the reference in each pair. The ceiling runs
  // again after the pairs, and the shard-count runs come last, so that a
  // slow product still leaves time for the pairs.
  const product = productAvailable(config.productEntry)
  if (product) {
    const startMain = async (dataDir: string, smallCache: boolean): Promise<ServerHandle> => await startProduct({
      dataDir,
      shards: config.shards,
      durability: 'flush',
      entry: config.productEntry,
      ...(smallCache ? { extraArgs: smallCacheArgs() } : {})
    }, START_TIMEOUT_MS)
    await step('product', 10_000, async () => await benchMain({ side: 'product', start: startMain }))
  } else {
    notes.push(config.productEntry === 'dist'
      ? 'dist/cli/serve.js does not exist (run npm run build): only the ceiling and the reference ran.'
      : 'The product (src/cli/serve.ts and src/server.ts) does not exist yet: only the ceiling and the reference ran.')
    log('product not found, skipping it')
  }
  await step('reference', 10_000, async () => await benchMain({
    side: 'reference',
    start: async (dataDir, smallCache) => await startReference(dataDir, 'FULL', smallCache ? config.smallCacheEntries * 2 : 100_000, START_TIMEOUT_MS)
  }))

  if (product) {
    await step('product commit durability', 10_000, async () => await benchCommitDurability('product',
      async (dataDir) => await startProduct({ dataDir, shards: config.shards, durability: 'commit', entry: config.productEntry }, START_TIMEOUT_MS)))
  }
  await step('reference NORMAL', 5_000, async () => await benchCommitDurability('reference',
    async (dataDir) => await startReference(dataDir, 'NORMAL', 100_000, START_TIMEOUT_MS)))

  await step('ceiling again', loadMs() + 1000, checkCeilingDrift)
  if (product) await step('product shard counts', config.shardCounts.length * (loadMs() + 5000), benchShardCounts)

  clearTimeout(watchdog)
  await finish()
}

main().catch(async (error: unknown) => {
  log(`bench failed: ${(error as Error).stack ?? String(error)}`)
  await finish(`failed: ${(error as Error).message}`)
  process.exit(1)
})
