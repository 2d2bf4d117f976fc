/**
 * The redirect path, `GET /{code}` and `HEAD /{code}`, served on the front
 * thread without a hop to the shard: a hit in the front's LRU cache, else a
 * read of the shard's committed data through a read-only use of the same
 * LMDB environment (lmdb-js shares one environment between the threads of a
 * process, and a read takes about a microsecond). Writes still go only
 * through the shard actor. Links are never changed or deleted, so a cached
 * target can never be stale.
 *
 * Rules for the short URL: one trailing slash is ignored (`/abc1234/` is
 * `/abc1234`), and a query string is ignored and not passed on: `Location`
 * is always the stored target exactly as stored.
 */
import QuickLRU from 'quick-lru'
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import { LinkNotFoundError, RouteNotFoundError, type ShortenerError } from '../errors.ts'
import type { Router } from '../routing/router.ts'
import type { LinkStore } from '../store/types.ts'
import { sendProblemNow, statusLine } from './http.ts'

export interface RedirectOptions {
  router: Router
  /** One reader per shard, indexed by shard number. */
  readers: readonly LinkStore[]
  cacheEntries: number
  redirectStatus: number
  /** Maximum length of a code or alias; longer paths are not looked up. */
  maxCodeLength: number
  /** Called for an unknown code; returns a 429 error to send instead of 404, or undefined. */
  onNotFound?: (res: HttpResponse, req: HttpRequest) => ShortenerError | undefined
  /** Receives the handler's duration in seconds for one request in `latencySampleInterval`. */
  onLatencySample?: (seconds: number) => void
  /** Requests per latency sample; timing every request would cost more than the lookup. Default 64. */
  latencySampleInterval?: number
}

export class Redirector {
  #router: Router
  #readers: readonly LinkStore[]
  #cache: QuickLRU<string, string> | undefined
  #status: string
  #maxCodeLength: number
  #onNotFound: RedirectOptions['onNotFound']
  #onLatencySample: RedirectOptions['onLatencySample']
  #sampleInterval: number
  #untilSample: number
  hits = 0
  misses = 0
  /** Responses since start by outcome, read at scrape time, so the redirect path pays one increment. */
  redirected = 0
  notFound = 0
  rateLimited = 0

  constructor (options: RedirectOptions) {
    this.#router = options.router
    this.#readers = options.readers
    this.#cache = options.cacheEntries > 0 ? new QuickLRU({ maxSize: options.cacheEntries }) : undefined
    this.#status = statusLine(options.redirectStatus)
    this.#maxCodeLength = options.maxCodeLength
    this.#onNotFound = options.onNotFound
    this.#onLatencySample = options.onLatencySample
    this.#sampleInterval = options.latencySampleInterval ?? 64
    this.#untilSample = this.#sampleInterval
  }

  /** The target of a code, or undefined; a cache miss reads the shard's store. */
  resolve (code: string): string | undefined {
    const cached = this.#cache?.get(code)
    if (cached !== undefined) {
      this.hits++
      return cached
    }
    this.misses++
    if (!this.#isPossibleCode(code)) return undefined
    const reader = this.#readers[this.#router.shardOfCode(code)] as LinkStore
    const url = reader.getUrl(code)
    if (url !== undefined) this.#cache?.set(code, url)
    return url
  }

  handle = (res: HttpResponse, req: HttpRequest): void => {
    if (this.#onLatencySample !== undefined && --this.#untilSample === 0) {
      this.#untilSample = this.#sampleInterval
      const startedAt = performance.now()
      this.#answer(res, req)
      this.#onLatencySample((performance.now() - startedAt) / 1000)
      return
    }
    this.#answer(res, req)
  }

  #answer (res: HttpResponse, req: HttpRequest): void {
    const path = req.getUrl()
    const code = codeOfPath(path)
    const head = req.getMethod() === 'head'
    // A path of several segments (`/api/v1/links`, `/abc1234//`) cannot be a
    // short link; it is an unknown route, not a lookup, and no probe.
    if (code.includes('/')) {
      sendProblemNow(res, new RouteNotFoundError(req.getCaseSensitiveMethod(), path), head)
      return
    }
    const location = this.resolve(code)
    if (location !== undefined) {
      res.writeStatus(this.#status).writeHeader('Location', location)
      if (head) res.endWithoutBody(0)
      else res.end()
      this.redirected++
      return
    }
    const limited = this.#onNotFound?.(res, req)
    if (limited === undefined) this.notFound++
    else this.rateLimited++
    sendProblemNow(res, limited ?? new LinkNotFoundError(code), head)
  }

  #isPossibleCode (code: string): boolean {
    if (code.length === 0 || code.length > this.#maxCodeLength) return false
    for (let i = 0; i < code.length; i++) {
      if (!isCodeChar(code.charCodeAt(i))) return false
    }
    return true
  }
}

function codeOfPath (path: string): string {
  const end = path.length > 1 && path.charCodeAt(path.length - 1) === 47 /* / */ ? path.length - 1 : path.length
  return path.slice(1, end)
}

function isCodeChar (c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95
}
