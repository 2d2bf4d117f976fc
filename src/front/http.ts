/**
 * Small helpers over uWebSockets.js responses: JSON and problem bodies,
 * status lines, and reading a bounded JSON request body.
 *
 * uWebSockets.js rules these helpers follow: a response sent after the
 * handler returned must have registered `onAborted` first and must not be
 * touched once aborted; writes outside the handler's own stack are corked so
 * that status, headers and body leave in one send.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import {
  BodyTooLargeError, InvalidJsonError, ShortenerError, UnsupportedMediaTypeError
} from '../errors.ts'

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage'
}

// Built once, because every response writes a status line and building it per response showed in CPU profiles.
const STATUS_LINES = new Map(Object.entries(STATUS_TEXT).map(([status, text]) => [Number(status), `${status} ${text}`]))

export function statusLine (status: number): string {
  return STATUS_LINES.get(status) ?? String(status)
}

/**
 * State of one request whose response is sent asynchronously. `aborted` is set by
 * uWebSockets.js when the client goes away; after that the response object
 * must not be used.
 */
export class PendingResponse {
  readonly res: HttpResponse
  readonly head: boolean
  aborted = false
  /** Status sent, 0 until then. */
  status = 0
  #onDone: (() => void) | undefined
  #closeAfter: (() => boolean) | undefined

  /**
   * `closeAfter` is asked when the response is sent: true closes the
   * connection after it, so that a client stops sending on a connection
   * the server is about to close (at shutdown).
   */
  constructor (res: HttpResponse, head: boolean, onDone?: () => void, closeAfter?: () => boolean) {
    this.res = res
    this.head = head
    this.#onDone = onDone
    this.#closeAfter = closeAfter
    res.onAborted(() => {
      this.aborted = true
      this.#finish()
    })
  }

  sendJson (status: number, body: unknown, headers?: Record<string, string>): void {
    this.#send(status, 'application/json', JSON.stringify(body), headers)
  }

  sendText (status: number, contentType: string, body: string): void {
    this.#send(status, contentType, body, undefined)
  }

  sendProblem (error: unknown, headers?: Record<string, string>): void {
    const problem = toShortenerError(error)
    const extra: Record<string, string> = { ...problem.fields.headers, ...headers }
    if (problem.fields.retryAfterSeconds !== undefined) extra['Retry-After'] = String(problem.fields.retryAfterSeconds)
    this.#send(problem.status, 'application/problem+json', JSON.stringify(problem.toProblem()), extra)
  }

  #send (status: number, contentType: string, body: string, headers: Record<string, string> | undefined): void {
    if (this.aborted) return
    this.status = status
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status)).writeHeader('Content-Type', contentType)
      if (headers !== undefined) {
        for (const name in headers) this.res.writeHeader(name, headers[name] as string)
      }
      if (this.head) endHead(this.res, body)
      else this.res.end(body, this.#closeAfter?.() === true)
    })
    this.#finish()
  }

  #finish (): void {
    const onDone = this.#onDone
    this.#onDone = undefined
    onDone?.()
  }
}

export function toShortenerError (error: unknown): ShortenerError {
  if (error instanceof ShortenerError) return error
  return new ShortenerError('INTERNAL_ERROR', 500, 'The service failed to handle the request; the error is logged', {}, { cause: error })
}

/**
 * Writes a problem response from inside a handler, before it returned
 * (uWebSockets.js corks that part of a handler already).
 */
export function sendProblemNow (res: HttpResponse, error: ShortenerError, head = false, headers?: Record<string, string>, closeConnection = false): void {
  const body = JSON.stringify(error.toProblem())
  res.writeStatus(statusLine(error.status)).writeHeader('Content-Type', 'application/problem+json')
  if (error.fields.retryAfterSeconds !== undefined) res.writeHeader('Retry-After', String(error.fields.retryAfterSeconds))
  writeHeaders(res, error.fields.headers)
  writeHeaders(res, headers)
  if (head) endHead(res, body)
  else res.end(body, closeConnection)
}

function writeHeaders (res: HttpResponse, headers: Readonly<Record<string, string>> | undefined): void {
  if (headers === undefined) return
  for (const name in headers) res.writeHeader(name, headers[name] as string)
}

/**
 * Ends a HEAD response with the Content-Length a GET would carry. uwebsockets
 * 3.0.6 leaves the response unfinished when `endWithoutBody` gets a length
 * above 0, and then aborts the whole process, so the length is written as a
 * header instead.
 */
function endHead (res: HttpResponse, body: string): void {
  res.writeHeader('Content-Length', String(Buffer.byteLength(body)))
  res.endWithoutBody()
}

export interface BodyLimits {
  maxBodyBytes: number
}

/**
 * Checks the headers of a JSON request; call it inside the handler, since
 * `req` is only valid there. Throws 415 or 413 before any body is read.
 */
export function checkJsonRequest (req: HttpRequest, limits: BodyLimits): void {
  const contentType = req.getHeader('content-type')
  if (!isJsonContentType(contentType)) throw new UnsupportedMediaTypeError(contentType)
  const declared = req.getHeader('content-length')
  if (declared !== '' && Number(declared) > limits.maxBodyBytes) throw new BodyTooLargeError(limits.maxBodyBytes, Number(declared))
}

function isJsonContentType (value: string): boolean {
  if (value === 'application/json') return true
  const type = value.split(';', 1)[0]?.trim().toLowerCase()
  return type === 'application/json' || (type !== undefined && type.startsWith('application/') && type.endsWith('+json'))
}

/** Receives a parsed JSON body, or the 400 or 413 error that ended the read. Neither method may throw. */
export interface JsonBodySink {
  onBody (pending: PendingResponse, body: unknown): void
  onBodyError (pending: PendingResponse, error: ShortenerError): void
}

/**
 * Reads the whole body and parses it as JSON, then calls `sink` once.
 * Fails with 413 as soon as more than `maxBodyBytes` arrived (a chunked body
 * has no length to check up front) and with 400 for malformed JSON. A body
 * that arrives in one chunk, as small creates do, is parsed straight from
 * uWebSockets.js's memory without a copy.
 */
export function readJsonBody (pending: PendingResponse, limits: BodyLimits, sink: JsonBodySink): void {
  let chunks: Buffer[] | undefined
  let received = 0
  let failed = false
  pending.res.onData((chunk, isLast) => {
    if (failed) return
    received += chunk.byteLength
    if (received > limits.maxBodyBytes) {
      failed = true
      sink.onBodyError(pending, new BodyTooLargeError(limits.maxBodyBytes, received))
      return
    }
    if (isLast && chunks === undefined) {
      // The memory is only valid during this callback, and parsing finishes within it.
      parseInto(pending, Buffer.from(chunk), sink)
      return
    }
    // uWebSockets.js reuses the chunk's memory after this callback returns.
    chunks ??= []
    chunks.push(Buffer.from(chunk.slice(0)))
    if (isLast) parseInto(pending, Buffer.concat(chunks, received), sink)
  })
}

// JSON text must be UTF-8 (RFC 8259). A lenient decoder would store U+FFFD
// in place of invalid bytes and create a link to a URL that the client never sent.
const UTF8 = new TextDecoder('utf-8', { fatal: true })

function parseInto (pending: PendingResponse, bytes: Buffer, sink: JsonBodySink): void {
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    sink.onBodyError(pending, new InvalidJsonError('the body is not valid UTF-8'))
    return
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    sink.onBodyError(pending, new InvalidJsonError(error instanceof Error ? error.message : String(error)))
    return
  }
  sink.onBody(pending, body)
}
