/**
 * Every failure the service reports carries a stable machine-readable `code`
 * and the HTTP status it maps to. The API sends them as
 * `application/problem+json`; tests and clients match on `code`, never on the
 * message text. Codes are listed in docs/errors.md and are never reused for a
 * different meaning.
 */

export interface ProblemFields {
  /** The offending value, echoed back (trimmed to a readable length). */
  value?: unknown
  /** The limit that the value broke, in the unit the detail names. */
  limit?: unknown
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  retryAfterSeconds?: number
  /** Further response header fields, such as the RateLimit fields of a 429; never in the body. */
  headers?: Readonly<Record<string, string>>
  /** The shard that failed, for logs; never in the body. */
  shard?: number
}

export class ShortenerError extends Error {
  readonly code: string
  readonly status: number
  readonly fields: ProblemFields

  constructor (code: string, status: number, detail: string, fields: ProblemFields = {}, options?: { cause?: unknown }) {
    super(detail, options)
    this.name = new.target.name
    this.code = code
    this.status = status
    this.fields = fields
  }

  /** The error as a problem document body (RFC 9457). */
  toProblem (): Record<string, unknown> {
    const problem: Record<string, unknown> = {
      type: `urn:shortener:error:${this.code}`,
      title: titleOf(this.code),
      status: this.status,
      code: this.code,
      detail: this.message
    }
    if (this.fields.value !== undefined) problem.value = clip(this.fields.value)
    if (this.fields.limit !== undefined) problem.limit = this.fields.limit
    return problem
  }
}

const MAX_ECHO_CHARS = 200

const ACRONYMS = new Set(['json', 'url'])

/** Returns the problem type's short summary for people: `ALIAS_TAKEN` becomes `Alias taken`, `INVALID_JSON` `Invalid JSON`. */
function titleOf (code: string): string {
  const words = code.toLowerCase().split('_').map((word) => ACRONYMS.has(word) ? word.toUpperCase() : word)
  const title = words.join(' ')
  return title.charAt(0).toUpperCase() + title.slice(1)
}

function clip (value: unknown): unknown {
  if (typeof value !== 'string' || value.length <= MAX_ECHO_CHARS) return value
  return `${value.slice(0, MAX_ECHO_CHARS)}…`
}

// 4xx: the request is wrong and retrying it unchanged cannot help.

export class InvalidJsonError extends ShortenerError {
  constructor (detail: string) {
    super('INVALID_JSON', 400, `Request body is not valid JSON: ${detail}`)
  }
}

export class InvalidBodyError extends ShortenerError {
  constructor (detail: string, fields?: ProblemFields) {
    super('INVALID_BODY', 400, detail, fields)
  }
}

export class UnsupportedMediaTypeError extends ShortenerError {
  constructor (contentType: string) {
    super('UNSUPPORTED_MEDIA_TYPE', 415,
      `Content-Type must be application/json, received ${JSON.stringify(contentType)}`,
      { value: contentType })
  }
}

export class BodyTooLargeError extends ShortenerError {
  /** `receivedBytes` is the declared Content-Length, or the bytes of a chunked body read before the limit was passed. */
  constructor (maxBodyBytes: number, receivedBytes: number) {
    super('BODY_TOO_LARGE', 413,
      `Request body of at least ${receivedBytes} bytes exceeds the limit of ${maxBodyBytes} bytes`,
      { value: receivedBytes, limit: maxBodyBytes })
  }
}

export class BatchTooLargeError extends ShortenerError {
  constructor (received: number, maxBatchSize: number) {
    super('BATCH_TOO_LARGE', 400,
      `A batch may hold at most ${maxBatchSize} links, received ${received}`,
      { value: received, limit: maxBatchSize })
  }
}

export class InvalidUrlError extends ShortenerError {
  constructor (value: string, reason: string) {
    super('INVALID_URL', 400, `Target URL is invalid: ${reason}`, { value })
  }
}

export class UrlTooLongError extends ShortenerError {
  constructor (value: string, length: number, maxUrlLength: number) {
    super('URL_TOO_LONG', 400,
      `Target URL is ${length} characters long, the limit is ${maxUrlLength}`,
      { value, limit: maxUrlLength })
  }
}

export class UnsupportedSchemeError extends ShortenerError {
  constructor (value: string, scheme: string, allowed: readonly string[]) {
    super('UNSUPPORTED_SCHEME', 400,
      `Target URL scheme ${JSON.stringify(scheme)} is not allowed, use one of: ${allowed.join(', ')}`,
      { value, limit: allowed })
  }
}

export class UrlHasCredentialsError extends ShortenerError {
  constructor (value: string) {
    super('URL_HAS_CREDENTIALS', 400, 'Target URL must not contain a user name or password', { value })
  }
}

export class UrlPointsToServiceError extends ShortenerError {
  constructor (value: string, baseUrl: string) {
    super('URL_POINTS_TO_SERVICE', 400,
      `Target URL points back into this service (${baseUrl}), which would create a redirect loop`,
      { value })
  }
}

export class InvalidAliasError extends ShortenerError {
  constructor (value: unknown, reason: string, limit?: unknown) {
    super('INVALID_ALIAS', 400, `Alias is invalid: ${reason}`, { value, limit })
  }
}

export class AliasReservedError extends ShortenerError {
  constructor (value: string) {
    super('ALIAS_RESERVED', 400, `Alias ${JSON.stringify(value)} is reserved by the service`, { value })
  }
}

export class AliasTakenError extends ShortenerError {
  constructor (value: string) {
    super('ALIAS_TAKEN', 409, `Alias ${JSON.stringify(value)} is already in use`, { value })
  }
}

export class LinkNotFoundError extends ShortenerError {
  constructor (code: string) {
    super('LINK_NOT_FOUND', 404, `No link has the code ${JSON.stringify(code)}`, { value: code })
  }
}

export class RouteNotFoundError extends ShortenerError {
  constructor (method: string, path: string) {
    super('ROUTE_NOT_FOUND', 404, `No route for ${method} ${path}`, { value: path })
  }
}

export class RateLimitedError extends ShortenerError {
  /**
   * @param what the requests counted, e.g. "create requests"
   * @param limit the bucket that ran empty
   * @param headers the RateLimit-Policy and RateLimit fields to send
   */
  constructor (retryAfterSeconds: number, what: string, limit?: { burst: number, perSecond: number }, headers?: Record<string, string>) {
    super('RATE_LIMITED', 429,
      `Too many ${what} from this client, retry after ${retryAfterSeconds} s`,
      { retryAfterSeconds, limit, headers })
  }
}

// 5xx: the service could not do the work; the request itself may be fine.

export class ShardOverloadedError extends ShortenerError {
  constructor (shard: number, maxQueuedOperations: number) {
    super('SHARD_OVERLOADED', 503,
      `Shard ${shard} has ${maxQueuedOperations} operations queued, its limit; retry shortly`,
      { limit: maxQueuedOperations, retryAfterSeconds: 1, shard })
  }
}

export class ShardUnavailableError extends ShortenerError {
  constructor (shard: number, reason: string, retryAfterSeconds = 1, options?: { cause?: unknown }) {
    super('SHARD_UNAVAILABLE', 503, `Shard ${shard} is unavailable: ${reason}`, { retryAfterSeconds, shard }, options)
  }
}

export class ShardTimeoutError extends ShortenerError {
  constructor (shard: number, timeoutMs: number) {
    super('SHARD_TIMEOUT', 503,
      `Shard ${shard} did not answer within ${timeoutMs} ms; the outcome of a write is unknown, ` +
      'so look the link up or retry the same request',
      { limit: timeoutMs, retryAfterSeconds: 1, shard })
  }
}

export class StorageFullError extends ShortenerError {
  constructor (shard: number, options?: { cause?: unknown }) {
    super('STORAGE_FULL', 507, `Shard ${shard} cannot write because its disk or map is full`,
      { retryAfterSeconds: 30, shard }, options)
  }
}

export class StoreFailedError extends ShortenerError {
  constructor (shard: number, reason: string, options?: { cause?: unknown }) {
    super('STORE_FAILED', 503, `Shard ${shard} failed to write: ${reason}; nothing was stored`,
      { retryAfterSeconds: 1, shard }, options)
  }
}

export class CodeSpaceExhaustedError extends ShortenerError {
  constructor () {
    super('CODE_SPACE_EXHAUSTED', 503, 'Every generated code of the longest supported length is in use')
  }
}

export class ShuttingDownError extends ShortenerError {
  constructor () {
    super('SHUTTING_DOWN', 503, 'The service is shutting down; retry against another instance', { retryAfterSeconds: 1 })
  }
}
