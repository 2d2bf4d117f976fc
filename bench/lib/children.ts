/**
 * Every process the bench starts goes through here, so all of them can be
 * stopped when the run ends, fails, times out or is interrupted. A server gets
 * SIGTERM first, because the product shuts down gracefully on it, and SIGKILL
 * if it is still running after the grace period. Whatever is left when the
 * bench process exits gets SIGKILL synchronously.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'

const running = new Set<ChildProcess>()
const exitCleanups: Array<() => void> = []
let handlersInstalled = false
let interrupted = false

/** Registers a synchronous cleanup (removing temp files) that runs when the process exits, however it exits. */
export function onProcessExit (cleanup: () => void): void {
  installHandlers()
  exitCleanups.push(cleanup)
}

export function startChild (command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  installHandlers()
  // After SIGINT the run is stopping, and a child started now could outlive it.
  if (interrupted) throw new Error(`not starting ${command}: the bench was interrupted`)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  running.add(child)
  child.once('exit', () => running.delete(child))
  child.once('error', () => running.delete(child))
  return child
}

export function hasExited (child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild (child: ChildProcess, graceMs = 5000): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}

export async function stopAllChildren (graceMs = 3000): Promise<void> {
  await Promise.all([...running].map(async (child) => await stopChild(child, graceMs)))
}

function killAllNow (): void {
  for (const child of running) {
    if (!hasExited(child)) child.kill('SIGKILL')
  }
  for (const cleanup of exitCleanups) {
    try {
      cleanup()
    } catch (error) {
      process.stderr.write(`bench: cleanup on exit failed: ${(error as Error).message}\n`)
    }
  }
}

function installHandlers (): void {
  if (handlersInstalled) return
  handlersInstalled = true

  process.once('exit', killAllNow)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true
      process.stderr.write(`\nbench: ${signal} received, stopping ${running.size} child process(es)\n`)
      stopAllChildren(2000).finally(() => process.exit(130))
    })
  }
}

export interface ToolResult {
  stdout: string
  stderr: string
  exitCode: number | null
  timedOut: boolean
}

/** Runs a command to completion, killing it after `timeoutMs`. `onStart` receives the child, for CPU sampling. */
export async function runTool (
  command: string,
  args: readonly string[],
  timeoutMs: number,
  onStart?: (child: ChildProcess) => void
): Promise<ToolResult> {
  const child = startChild(command, args)
  onStart?.(child)

  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })

  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)

  const [exitCode] = await once(child, 'close') as [number | null]
  clearTimeout(timer)
  return { stdout, stderr, exitCode, timedOut }
}
