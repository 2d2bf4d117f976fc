/**
 * h2load (nghttp2) as the redirect load generator: HTTP/1.1 keep-alive, one
 * request in flight per connection, URIs replayed from a file. It does not
 * print percentiles, so the run writes `--log-file` (one line per request:
 * start time in µs, status, duration in µs) and the percentiles come from
 * there. Like any closed-loop client it does not correct for coordinated
 * omission: a stalled server also stalls the requests that would have waited.
 */
import { readFileSync } from 'node:fs'
import { percentile } from './stats.ts'

export interface H2loadSummary {
  rps: number
  requests: number
  succeeded: number
  failed: number
  errored: number
  timeouts: number
  status2xx: number
  status3xx: number
  status4xx: number
  status5xx: number
}

/** Parses h2load's closing summary; throws if the run printed none (it failed to connect, for one). */
export function parseH2loadOutput (text: string): H2loadSummary {
  const finished = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(text)
  const requests = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text)
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text)
  if (finished === null || requests === null || codes === null) {
    throw new Error(`h2load printed no summary:\n${text.slice(-600)}`)
  }
  return {
    rps: Number(finished[1]),
    requests: Number(requests[1]),
    succeeded: Number(requests[2]),
    failed: Number(requests[3]),
    errored: Number(requests[4]),
    timeouts: Number(requests[5]),
    status2xx: Number(codes[1]),
    status3xx: Number(codes[2]),
    status4xx: Number(codes[3]),
    status5xx: Number(codes[4])
  }
}

export interface LatencySummary {
  count: number
  p50Ms: number | undefined
  p99Ms: number | undefined
  maxMs: number | undefined
}

/** Computes latency percentiles from h2load `--log-file` text (tab-separated: start µs, status, duration µs). */
export function parseH2loadLog (text: string): LatencySummary {
  const durations: number[] = []
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    // A line has three fields; one cut short when h2load was stopped has fewer and is skipped.
    const firstTab = text.indexOf('\t', start)
    const secondTab = firstTab < 0 ? -1 : text.indexOf('\t', firstTab + 1)
    if (secondTab > start && secondTab < end) {
      const micros = Number(text.slice(secondTab + 1, end))
      if (Number.isFinite(micros)) durations.push(micros / 1000)
    }
    start = end + 1
  }
  const sorted = Float64Array.from(durations).sort()
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1] : undefined
  }
}

export function readH2loadLog (path: string): LatencySummary {
  return parseH2loadLog(readFileSync(path, 'utf8'))
}

export interface H2loadArgs {
  uriFile: string
  connections: number
  threads: number
  durationSeconds: number
  warmupSeconds: number
  logFile: string
}

export function h2loadArgs (options: H2loadArgs): string[] {
  return [
    '--h1',
    '-c', String(options.connections),
    '-t', String(options.threads),
    '-D', `${Math.round(options.durationSeconds * 1000)}ms`,
    '--warm-up-time', `${Math.round(options.warmupSeconds * 1000)}ms`,
    '--log-file', options.logFile,
    '-i', options.uriFile
  ]
}
