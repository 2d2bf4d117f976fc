/**
 * The importer's requests to a running shortener, with bounded retries.
 *
 * A request is retried after a network error, a timeout, a 429 or a 5xx
 * status. The wait is the server's `Retry-After` when it sends one (capped
 * at `MAX_RETRY_AFTER_MS`), else exponential backoff with full jitter.
 * Retrying a batch is safe because the server deduplicates by URL: a link
 * stored by an attempt whose response was lost is found by the next attempt.
 * Redirects are never followed, because short links point at real hosts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { DeliveryError } from './errors.ts'

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number
  /** Time one attempt may take, in milliseconds. */
  timeoutMs: number
}

/** One entry of a batch response, in the order of the links sent. */
export type BatchResult =
  | { code: string, url: string, created: boolean }
  | { error: { code: string, status: number, detail: string } }

export interface Resolution {
  status: number
  location: string | null
}

const BASE_DELAY_MS = 250
const MAX_DELAY_MS = 10_000
/** Longest `Retry-After` honoured; a longer one is cut to this, so a wrong header cannot stall the import for hours. */
const MAX_RETRY_AFTER_MS = 300_000
const MAX_DETAIL_CHARS = 300

export class ServerClient {
  #origin: string
  #policy: RetryPolicy

  constructor (origin: string, policy: RetryPolicy) {
    this.#origin = origin
    this.#policy = policy
  }

  get origin (): string {
    return this.#origin
  }

  get retries (): number {
    return this.#policy.retries
  }

  /** Checks that `GET /healthz` returns 200 and throws `DeliveryError` otherwise, so a wrong `--server` fails before any work. */
  async checkHealth (signal?: AbortSignal): Promise<void> {
    let response: Response
    try {
      response = await this.#request('GET', '/healthz', undefined, signal)
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error
      throw new DeliveryError(`cannot reach the shortener at ${this.#origin}: ${error.message}`)
    }
    await response.arrayBuffer()
    if (response.status !== 200) {
      throw new DeliveryError(`${this.#origin}/healthz responded with ${response.status}, expected 200; check that --server is the shortener's address`)
    }
  }

  /** Sends one batch body and returns its `count` results; a whole-batch 4xx is a `DeliveryError`. */
  async postBatch (body: string, count: number, signal?: AbortSignal): Promise<BatchResult[]> {
    const response = await this.#request('POST', '/api/v1/links/batch', body, signal)
    const text = await response.text()
    if (response.status !== 200) throw rejectedBatchError(response.status, text)

    const results = parseResults(text)
    if (results === undefined || results.length !== count) {
      throw new DeliveryError(
        `the server returned ${results === undefined ? 'a body without a results array' : `${results.length} results`} for a batch of ${count} links; ` +
        'this is a bug in the server or the import tool')
    }
    return results
  }

  /** Requests `GET /{code}` without following the redirect. */
  async resolve (code: string, signal?: AbortSignal): Promise<Resolution> {
    const response = await this.#request('GET', `/${code}`, undefined, signal)
    await response.arrayBuffer()
    return { status: response.status, location: response.headers.get('location') }
  }

  /** Waits the backoff delay before retry number `retry` (0 for the first retry). */
  async backoff (retry: number, signal?: AbortSignal): Promise<void> {
    await sleep(backoffMs(retry), undefined, { signal })
  }

  /** Returns the first response that is not 429 or 5xx, retrying those and network errors. */
  async #request (method: string, path: string, body: string | undefined, signal: AbortSignal | undefined): Promise<Response> {
    const url = `${this.#origin}${path}`
    let failure = ''
    let hintedWaitMs: number | undefined
    for (let attempt = 0; attempt <= this.#policy.retries; attempt++) {
      if (attempt > 0) await sleep(hintedWaitMs ?? backoffMs(attempt - 1), undefined, { signal })
      hintedWaitMs = undefined

      let response: Response
      try {
        response = await fetch(url, {
          method,
          body,
          headers: body === undefined ? undefined : { 'content-type': 'application/json' },
          redirect: 'manual',
          signal: anySignal(signal, AbortSignal.timeout(this.#policy.timeoutMs))
        })
      } catch (error) {
        if (signal?.aborted === true) throw error
        failure = describeNetworkError(error, this.#policy.timeoutMs)
        continue
      }

      if (!isRetryable(response.status)) return response
      failure = `${response.status} ${await problemSummary(response)}`
      hintedWaitMs = retryAfterMs(response.headers.get('retry-after'))
    }
    throw new DeliveryError(`${method} ${url} failed after ${this.#policy.retries + 1} attempts; last error: ${failure}`)
  }
}

function isRetryable (status: number): boolean {
  return status === 429 || status >= 500
}

/** Full jitter: a random wait up to `BASE_DELAY_MS * 2^retry`, at most `MAX_DELAY_MS`. */
function backoffMs (retry: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retry)
}

/** Parses `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs (header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now
  if (Number.isNaN(ms)) return undefined
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms))
}

function anySignal (outer: AbortSignal | undefined, timeout: AbortSignal): AbortSignal {
  return outer === undefined ? timeout : AbortSignal.any([outer, timeout])
}

function describeNetworkError (error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no response within ${timeoutMs} ms`
  // fetch wraps the socket error (ECONNREFUSED, ECONNRESET, ...) as `cause` of a generic "fetch failed".
  const cause = error instanceof Error ? error.cause : undefined
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code === undefined ? cause.message : `${code} (${cause.message})`
  }
  return error instanceof Error ? error.message : String(error)
}

/** `CODE: detail` of a problem+json body, else the start of the body. */
async function problemSummary (response: Response): Promise<string> {
  return summarizeProblem(await response.text())
}

function summarizeProblem (text: string): string {
  try {
    const problem = JSON.parse(text) as { code?: unknown, detail?: unknown }
    if (typeof problem.code === 'string') return `${problem.code}: ${String(problem.detail ?? '')}`
  } catch {
    // Not JSON (a proxy's HTML page, for example); show the raw start instead.
  }
  return text.slice(0, MAX_DETAIL_CHARS)
}

function rejectedBatchError (status: number, text: string): DeliveryError {
  const summary = summarizeProblem(text)
  let hint = 'this is a bug in the import tool, please report it with this message'
  if (summary.startsWith('BODY_TOO_LARGE')) hint = "lower --max-body-bytes to the server's maxBodyBytes"
  if (summary.startsWith('BATCH_TOO_LARGE')) hint = "lower --batch-size to the server's maxBatchSize"
  return new DeliveryError(`the server rejected a whole batch with ${status} ${summary}; ${hint}`)
}

function parseResults (text: string): BatchResult[] | undefined {
  try {
    const body = JSON.parse(text) as { results?: unknown }
    return Array.isArray(body.results) ? body.results as BatchResult[] : undefined
  } catch {
    return undefined
  }
}
