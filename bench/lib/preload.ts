/**
 * Fills a server with links through its batch API and returns their codes in
 * creation order. The same pass is the `create-batch` measurement: links per
 * second over the whole import, with a few batches in flight so the server
 * rarely waits for the client. Targets are `https://example.com/bench/<prefix>/<n>`
 * and are never contacted.
 */
import { percentile } from './stats.ts'

export interface PreloadOptions {
  origin: string
  links: number
  batchSize: number
  /** Batches in flight at once. */
  concurrency: number
  /** Distinguishes this import's targets from other runs on the same data dir. */
  prefix: string
  /** Give up after this long; the codes loaded so far are returned with `complete: false`. */
  timeoutMs: number
}

export interface PreloadResult {
  codes: string[]
  complete: boolean
  wallSeconds: number
  linksPerSecond: number
  requests: number
  p50Ms: number | undefined
  p99Ms: number | undefined
  failedLinks: number
  /** The first per-link error the server returned, as `CODE: detail`. */
  firstError?: string
  /** CPU seconds this (client) process spent during the import. */
  clientCpuSeconds: number
}

interface BatchItem {
  code?: string
  error?: { code: string, detail: string }
}

export function targetUrl (prefix: string, n: number): string {
  return `https://example.com/bench/${prefix}/${n}`
}

export function batchBody (prefix: string, from: number, to: number): string {
  const links: Array<{ url: string }> = []
  for (let n = from; n < to; n++) links.push({ url: targetUrl(prefix, n) })
  return JSON.stringify({ links })
}

export async function preload (options: PreloadOptions): Promise<PreloadResult> {
  const codes: string[] = new Array(options.links)
  const latenciesMs: number[] = []
  const deadline = performance.now() + options.timeoutMs
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  let nextStart = 0
  let failedLinks = 0
  let firstError: string | undefined
  let loaded = 0

  const worker = async (): Promise<void> => {
    while (nextStart < options.links && performance.now() < deadline) {
      const from = nextStart
      const to = Math.min(from + options.batchSize, options.links)
      nextStart = to

      const sent = performance.now()
      if (sent >= deadline) return
      const response = await fetch(`${options.origin}/api/v1/links/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: batchBody(options.prefix, from, to),
        redirect: 'manual',
        signal: AbortSignal.timeout(Math.max(Math.floor(deadline - sent), 1))
      })
      const text = await response.text()
      latenciesMs.push(performance.now() - sent)
      if (response.status !== 200) throw new Error(`batch import returned ${response.status}: ${text.slice(0, 300)}`)

      const results = (JSON.parse(text) as { results: BatchItem[] }).results
      results.forEach((item, i) => {
        if (item.code !== undefined) {
          codes[from + i] = item.code
          return
        }
        failedLinks++
        firstError ??= `${item.error?.code ?? 'NO_CODE'}: ${item.error?.detail ?? JSON.stringify(item).slice(0, 200)}`
      })
      loaded += to - from
    }
  }

  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker))
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error
  }

  const wallSeconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const sorted = latenciesMs.sort((a, b) => a - b)
  const loadedCodes = codes.slice(0, nextStart).filter((code) => code !== undefined)
  return {
    codes: loadedCodes,
    complete: loaded === options.links,
    wallSeconds,
    linksPerSecond: loadedCodes.length / wallSeconds,
    requests: latenciesMs.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    failedLinks,
    ...(firstError === undefined ? {} : { firstError }),
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6
  }
}
