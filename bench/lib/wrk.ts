/**
 * wrk as the load generator where every request must differ in a way a
 * request file cannot express: unique create bodies, a random key per request,
 * a 90/10 mix of redirects and creates. A Lua script (bench/lua/) builds each
 * request in wrk's own threads, so the client stays native code. Its latency
 * percentiles come from `--latency` and are uncorrected: wrk measures a
 * closed loop and does not account for coordinated omission.
 */
import { fileURLToPath } from 'node:url'
import { parseDurationMs } from './stats.ts'

export const LUA_DIR = fileURLToPath(new URL('../lua/', import.meta.url))

export interface WrkSummary {
  rps: number
  requests: number
  durationSeconds: number
  /** Responses outside 2xx and 3xx. */
  non2xx3xx: number
  socketErrors: number
  p50Ms: number | undefined
  p75Ms: number | undefined
  p90Ms: number | undefined
  p99Ms: number | undefined
  maxMs: number | undefined
}

/** Parses wrk's text report run with `--latency`; throws if it holds no request count. */
export function parseWrkOutput (text: string): WrkSummary {
  const total = /(\d+) requests in ([\d.]+\w+),/.exec(text)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)
  if (total === null || rps === null) throw new Error(`wrk printed no summary:\n${text.slice(-600)}`)

  const distribution = new Map<string, number | undefined>()
  for (const match of text.matchAll(/^\s+(50|75|90|99)%\s+(\S+)\s*$/gm)) {
    distribution.set(match[1] as string, parseDurationMs(match[2] as string))
  }
  const max = /^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(text)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  const socketErrors = socket === null ? 0 : socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0)

  return {
    rps: Number(rps[1]),
    requests: Number(total[1]),
    durationSeconds: (parseDurationMs(total[2] as string) ?? 0) / 1000,
    non2xx3xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors,
    p50Ms: distribution.get('50'),
    p75Ms: distribution.get('75'),
    p90Ms: distribution.get('90'),
    p99Ms: distribution.get('99'),
    maxMs: max === null ? undefined : parseDurationMs(max[1] as string)
  }
}

export interface WrkArgs {
  url: string
  connections: number
  threads: number
  durationSeconds: number
  /** File name under bench/lua/. */
  script: string
  /** Arguments passed to the script's init(). */
  scriptArgs: readonly string[]
}

export function wrkArgs (options: WrkArgs): string[] {
  return [
    '-t', String(options.threads),
    '-c', String(options.connections),
    '-d', `${Math.max(1, Math.round(options.durationSeconds))}s`,
    '--latency',
    '-s', `${LUA_DIR}${options.script}`,
    options.url,
    '--',
    ...options.scriptArgs
  ]
}
