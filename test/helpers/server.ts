/**
 * Test helpers that start the real service: in this process on port 0, or
 * as a child process (for restart, SIGKILL and SIGTERM tests). Every server
 * gets its own temporary data directory unless one is passed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { loadConfig, type DeepPartial } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { createLogger } from '../../src/log.ts'
import { startServer, type Server, type ServerOptions } from '../../src/server.ts'

const REPO_ROOT = new URL('../../', import.meta.url)

export function tempDataDir (prefix = 'shortener-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** Config for tests: loopback, port 0, a temp data dir, 2 shards, no rate limits, quiet logs. */
export function testConfig (overrides: DeepPartial<Config> = {}): Config {
  return loadConfig({
    overrides: {
      host: '127.0.0.1',
      port: 0,
      baseUrl: 'http://short.test/',
      dataDir: overrides.dataDir ?? tempDataDir(),
      shards: 2,
      logLevel: 'silent',
      ...overrides,
      rateLimit: { enabled: false, ...overrides.rateLimit }
    }
  })
}

export interface TestServer extends Server {
  /** `http://127.0.0.1:PORT` without the trailing slash. */
  readonly url: string
}

/** Starts the real service in this process; close it (and remove its data dir) in `after`. */
export async function startTestServer (overrides: DeepPartial<Config> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const config = testConfig(overrides)
  const server = await startServer(config, { logger: createLogger(config.logLevel), ...options })
  return Object.assign(server, { url: `http://127.0.0.1:${server.port}` })
}

export interface ChildServer {
  readonly process: ChildProcess
  readonly port: number
  readonly url: string
  /** Every stdout line so far (pino JSON). */
  readonly lines: string[]
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>
}

/**
 * Starts `src/cli/serve.ts` as a child process with the given flags and
 * resolves once it logs that it listens.
 */
export async function spawnServer (args: readonly string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/serve.ts', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SHORTENER_RATE_LIMIT_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })

  const port = await new Promise<number>((resolve, reject) => {
    const reader = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    reader.on('line', (line) => {
      lines.push(line)
      try {
        const entry = JSON.parse(line) as { msg?: string, port?: number }
        if (entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port)
      } catch {
        // Not every line need be JSON (a crash prints a stack trace).
      }
    })
    exited.then((code) => { reject(new Error(`server exited with ${code} before listening: ${stderr}`)) }, reject)
  })
  return { process: child, port, url: `http://127.0.0.1:${port}`, lines, exited }
}

export async function postJson (url: string, body: unknown): Promise<{ status: number, headers: Headers, body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual'
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) }
}

/** Reads a short link without following it. */
export async function resolveCode (baseUrl: string, code: string): Promise<{ status: number, location: string | null }> {
  const response = await fetch(`${baseUrl}/${code}`, { redirect: 'manual' })
  await response.arrayBuffer()
  return { status: response.status, location: response.headers.get('location') }
}
