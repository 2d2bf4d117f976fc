/** Reads the summary of an autocannon result object (printed as JSON by autocannon-client.ts). */
export interface AutocannonSummary {
  rps: number
  requests: number
  p50Ms: number | undefined
  p99Ms: number | undefined
  maxMs: number | undefined
  /** Responses outside 2xx and 3xx (autocannon's own `non2xx` also counts 3xx, so it is not used). */
  errors: number
}

export function parseAutocannonResult (text: string): AutocannonSummary {
  const line = text.trim().split('\n').filter((l) => l.startsWith('{')).pop()
  if (line === undefined) throw new Error(`autocannon printed no result:\n${text.slice(-600)}`)
  const result = JSON.parse(line) as {
    duration: number
    requests: { total: number }
    latency: { p50?: number, p99?: number, max?: number }
    errors: number
    timeouts: number
    '4xx'?: number
    '5xx'?: number
  }
  return {
    rps: result.requests.total / Math.max(result.duration, 1e-9),
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts + (result['4xx'] ?? 0) + (result['5xx'] ?? 0)
  }
}
