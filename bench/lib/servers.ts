/**
 * Starts the three servers the bench compares, each as its own process on
 * 127.0.0.1 with port 0, and waits until it serves: the JSON log line with
 * `"msg":"listening"` gives the port, then `GET /readyz` must return 200
 * (the ceiling answers every path, so it is ready once listening).
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { hasExited, startChild, stopChild } from './children.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const PRODUCT_ENTRY = 'src/cli/serve.ts'
/** The compiled entry that `npm run build` writes; `npm start` runs it. */
export const PRODUCT_BUILD_ENTRY = 'dist/cli/serve.js'

export type ServerKind = 'ceiling' | 'product' | 'reference'

export interface ServerHandle {
  kind: ServerKind
  label: string
  child: ChildProcess
  pid: number
  origin: string
  dataDir: string | undefined
  spawnToListeningMs: number
  spawnToReadyMs: number
  /** The last lines the server printed, for error messages. */
  logTail: () => string
  stop: () => Promise<void>
}

export interface ProductOptions {
  dataDir: string
  shards: number
  durability: 'flush' | 'commit'
  /** More flags, for example `--cache.front-entries 1000`. */
  extraArgs?: readonly string[]
  /** `tsx` runs src/cli/serve.ts through tsx; `dist` runs the compiled build, which must be current. */
  entry?: 'tsx' | 'dist'
}

export function productAvailable (entry: 'tsx' | 'dist' = 'tsx'): boolean {
  if (entry === 'dist') return existsSync(`${REPO_ROOT}${PRODUCT_BUILD_ENTRY}`)
  return existsSync(`${REPO_ROOT}${PRODUCT_ENTRY}`) && existsSync(`${REPO_ROOT}src/server.ts`)
}

export async function startCeiling (location: string, timeoutMs: number): Promise<ServerHandle> {
  return await startServer('ceiling', 'ceiling', ['--import', 'tsx', 'bench/ceiling/server.ts', '--port', '0', '--host', '127.0.0.1', '--location', location], undefined, timeoutMs)
}

export async function startProduct (options: ProductOptions, timeoutMs: number): Promise<ServerHandle> {
  const args = [
    ...(options.entry === 'dist' ? [PRODUCT_BUILD_ENTRY] : ['--import', 'tsx', PRODUCT_ENTRY]),
    '--port', '0',
    '--host', '127.0.0.1',
    '--data-dir', options.dataDir,
    '--shards', String(options.shards),
    '--durability', options.durability,
    '--rate-limit.enabled', 'false',
    '--log-level', 'info',
    ...(options.extraArgs ?? [])
  ]
  const label = `product (${options.durability}, ${options.shards} shards${options.entry === 'dist' ? ', dist' : ''})`
  return await startServer('product', label, args, options.dataDir, timeoutMs)
}

export async function startReference (dataDir: string, synchronous: 'FULL' | 'NORMAL', cacheEntries: number, timeoutMs: number): Promise<ServerHandle> {
  const args = [
    '--import', 'tsx',
    'bench/reference/server.ts',
    '--port', '0',
    '--host', '127.0.0.1',
    '--data-dir', dataDir,
    '--synchronous', synchronous,
    '--cache-entries', String(cacheEntries)
  ]
  return await startServer('reference', `reference (synchronous=${synchronous})`, args, dataDir, timeoutMs)
}

async function startServer (kind: ServerKind, label: string, nodeArgs: string[], dataDir: string | undefined, timeoutMs: number): Promise<ServerHandle> {
  const spawnedAt = performance.now()
  const child = startChild(process.execPath, nodeArgs, { cwd: REPO_ROOT })
  const tail: string[] = []
  const remember = (line: string): void => {
    tail.push(line)
    if (tail.length > 40) tail.shift()
  }
  const logTail = (): string => tail.join('\n')
  child.stderr?.setEncoding('utf8').on('data', (text: string) => text.split('\n').forEach(remember))

  const handle = (port: number, listeningAt: number, readyAt: number): ServerHandle => ({
    kind,
    label,
    child,
    pid: child.pid as number,
    origin: `http://127.0.0.1:${port}`,
    dataDir,
    spawnToListeningMs: listeningAt - spawnedAt,
    spawnToReadyMs: readyAt - spawnedAt,
    logTail,
    stop: async () => await stopChild(child)
  })

  try {
    const port = await waitForListening(child, remember, timeoutMs)
    const listeningAt = performance.now()
    if (kind !== 'ceiling') await waitForReady(`http://127.0.0.1:${port}`, child, spawnedAt + timeoutMs)
    return handle(port, listeningAt, performance.now())
  } catch (error) {
    await stopChild(child, 1000)
    throw new Error(`${label} did not become ready: ${(error as Error).message}\n--- last output ---\n${logTail()}`)
  }
}

/** Resolves with the port from the first JSON log line with `"msg":"listening"`. */
async function waitForListening (child: ChildProcess, remember: (line: string) => void, timeoutMs: number): Promise<number> {
  return await new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`no "listening" log line within ${timeoutMs} ms`)), timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${signal ?? code} before listening`))
    })
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      buffered += text
      let newline = buffered.indexOf('\n')
      while (newline >= 0) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        remember(line)
        const port = listeningPort(line)
        if (port !== undefined) {
          clearTimeout(timer)
          resolve(port)
        }
        newline = buffered.indexOf('\n')
      }
    })
  })
}

/** Returns the port of a pino line `{"msg":"listening","port":N}`, or undefined for any other line. */
export function listeningPort (line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined
  try {
    const record = JSON.parse(line) as { msg?: unknown, port?: unknown }
    return record.msg === 'listening' && typeof record.port === 'number' ? record.port : undefined
  } catch {
    return undefined
  }
}

async function waitForReady (origin: string, child: ChildProcess, deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    if (hasExited(child)) throw new Error('exited before /readyz returned 200')
    try {
      const response = await fetch(`${origin}/readyz`, { redirect: 'manual', signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.status === 200) return
    } catch {
      // Not accepting connections yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error('/readyz did not return 200 in time')
}
