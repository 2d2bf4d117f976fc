/**
 * The HTTP routes of the front process on one uWebSockets.js app.
 *
 * uWebSockets.js picks the most specific pattern, so the fixed API paths win
 * over the catch-all that treats every other path as a short code.
 */
import uWS, { type HttpRequest, type HttpResponse, type TemplatedApp } from 'uWebSockets.js'
import { LinkNotFoundError, RouteNotFoundError, ShuttingDownError, type ShortenerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { RateLimitedLog } from '../log.ts'
import { checkJsonRequest, PendingResponse, readJsonBody, sendProblemNow, toShortenerError, type BodyLimits, type JsonBodySink } from './http.ts'
import type { BatchItem, LinkService } from './links.ts'
import type { OpResult, ResultSink } from './shard-client.ts'
import type { Redirector } from './redirect.ts'

export interface RequestHooks {
  /** Returns an error (429) when this client may not create now. */
  checkCreate?: (res: HttpResponse, req: HttpRequest) => ShortenerError | undefined
  /**
   * Called once per request with its route and response status, for
   * metrics; `startedAt` is from `performance.now()`. The redirect route
   * does not call it, because the Redirector counts its own responses.
   */
  onResponse?: (route: string, status: number, startedAt: number) => void
  /** Returns the client's rate-limit key; read inside the handler, for checks made after it returned. */
  clientOf?: (res: HttpResponse, req: HttpRequest) => string
  /** Returns an error (429) to send to this client instead of a not-found response. */
  checkNotFound?: (client: string) => ShortenerError | undefined
}

export interface AppOptions {
  links: LinkService
  redirector: Redirector
  limits: BodyLimits
  logger: Logger
  hooks: RequestHooks
  /** Reports whether every shard replies to a ping; `/readyz` calls it. */
  isReady: () => Promise<{ ready: boolean, detail: Record<string, unknown> }>
  /** Renders `/metrics`, or undefined when metrics are off. */
  metrics?: () => Promise<{ contentType: string, body: string }>
}

export class FrontApp {
  readonly app: TemplatedApp
  #options: AppOptions
  #errors: RateLimitedLog
  #inFlight = 0
  #draining = false
  #onIdle: (() => void) | undefined

  constructor (options: AppOptions) {
    this.#options = options
    this.#errors = new RateLimitedLog(options.logger)
    this.app = uWS.App()
      .get('/healthz', (res) => {
        res.writeHeader('Content-Type', 'application/json').end('{"status":"ok"}')
        this.#options.hooks.onResponse?.('healthz', 200, performance.now())
      })
      .get('/readyz', this.#onReady)
      .post('/api/v1/links', (res, req) => { this.#onJson(res, req, 'create', this.#create) })
      .post('/api/v1/links/batch', (res, req) => { this.#onJson(res, req, 'batch', this.#batch) })
      .get('/api/v1/links/:code', this.#onGetLink)
      .get('/*', options.redirector.handle)
      .head('/*', options.redirector.handle)
      .any('/*', (res, req) => {
        sendProblemNow(res, new RouteNotFoundError(req.getCaseSensitiveMethod(), req.getUrl()))
        this.#options.hooks.onResponse?.('other', 404, performance.now())
      })
    if (options.metrics !== undefined) this.app.get('/metrics', this.#onMetrics)
  }

  get inFlight (): number {
    return this.#inFlight
  }

  /** Turns `/readyz` to 503 and rejects new API requests with 503 from now on. */
  #isDraining = (): boolean => this.#draining

  startDraining (): void {
    this.#draining = true
  }

  /** Resolves once no request is waiting for its response. */
  idle (): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => { this.#onIdle = resolve })
  }

  #track (res: HttpResponse, head: boolean, route: string): PendingResponse {
    this.#inFlight++
    const startedAt = performance.now()
    const pending = new PendingResponse(res, head, () => {
      this.#inFlight--
      this.#options.hooks.onResponse?.(route, pending.aborted ? 499 : pending.status, startedAt)
      if (this.#inFlight === 0) this.#onIdle?.()
    }, this.#isDraining)
    return pending
  }

  #onJson (res: HttpResponse, req: HttpRequest, route: string, sink: JsonBodySink): void {
    const rejection = this.#rejectJson(res, req)
    if (rejection !== undefined) {
      sendProblemNow(res, rejection, false, undefined, this.#draining)
      this.#options.hooks.onResponse?.(route, rejection.status, performance.now())
      return
    }
    readJsonBody(this.#track(res, false, route), this.#options.limits, sink)
  }

  /** Returns the error that rejects a JSON request before its body is read (draining, bad headers, rate limit), if any. */
  #rejectJson (res: HttpResponse, req: HttpRequest): ShortenerError | undefined {
    if (this.#draining) return new ShuttingDownError()
    try {
      checkJsonRequest(req, this.#options.limits)
      return this.#options.hooks.checkCreate?.(res, req)
    } catch (error) {
      return toShortenerError(error)
    }
  }

  #create: JsonBodySink = {
    onBody: (pending, body) => { this.#options.links.create(body, new CreateReply(pending, this.#options.links, this.#fail)) },
    onBodyError: (pending, error) => { this.#fail(pending, error) }
  }

  #batch: JsonBodySink = {
    onBody: (pending, body) => {
      this.#options.links.createBatch(body).then(
        (items) => { this.#sendBatch(pending, items) },
        (error: unknown) => { this.#fail(pending, error) }
      )
    },
    onBodyError: (pending, error) => { this.#fail(pending, error) }
  }

  #sendBatch (pending: PendingResponse, results: BatchItem[]): void {
    for (const item of results) {
      if ('error' in item && item.error.status >= 500) {
        this.#errors.error(`batch:${item.error.code}`, { code: item.error.code, detail: item.error.detail }, 'batch item failed')
      }
    }
    pending.sendJson(200, { results })
  }

  #onGetLink = (res: HttpResponse, req: HttpRequest): void => {
    const code = req.getParameter(0) ?? ''
    const client = this.#options.hooks.clientOf?.(res, req)
    const pending = this.#track(res, false, 'get')
    this.#options.links.get(code).then(
      (link) => { pending.sendJson(200, link) },
      (error: unknown) => { this.#fail(pending, this.#limitNotFound(error, client)) }
    )
  }

  /** Turns a not-found result into a 429 once the client's not-found bucket is empty. */
  #limitNotFound (error: unknown, client: string | undefined): unknown {
    if (client === undefined || !(error instanceof LinkNotFoundError)) return error
    return this.#options.hooks.checkNotFound?.(client) ?? error
  }

  #onReady = (res: HttpResponse): void => {
    const pending = this.#track(res, false, 'readyz')
    if (this.#draining) {
      pending.sendJson(503, { status: 'draining' })
      return
    }
    this.#options.isReady().then(
      ({ ready, detail }) => { pending.sendJson(ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable', ...detail }) },
      (error: unknown) => { this.#fail(pending, error) }
    )
  }

  #onMetrics = (res: HttpResponse): void => {
    const pending = this.#track(res, false, 'metrics')
    this.#options.metrics?.().then(
      ({ contentType, body }) => { pending.sendText(200, contentType, body) },
      (error: unknown) => { this.#fail(pending, error) }
    )
  }

  #fail = (pending: PendingResponse, error: unknown): void => {
    const problem = toShortenerError(error)
    if (problem.status >= 500) {
      const { shard } = problem.fields
      // Keyed per shard too, so that one failing shard cannot hide another's errors.
      this.#errors.error(`api:${problem.code}:${shard ?? ''}`, { err: problem.cause ?? problem, code: problem.code, shard }, problem.message)
    }
    pending.sendProblem(problem)
  }
}

/**
 * Sends the outcome of one single create: 201 with `Location` for a new
 * link, 200 for a URL that already had one. The shard client calls it while
 * it delivers a whole message's results, so it catches its own errors and
 * sends them as the request's error response.
 */
class CreateReply implements ResultSink {
  #pending: PendingResponse
  #links: LinkService
  #fail: (pending: PendingResponse, error: unknown) => void

  constructor (pending: PendingResponse, links: LinkService, fail: (pending: PendingResponse, error: unknown) => void) {
    this.#pending = pending
    this.#links = links
    this.#fail = fail
  }

  onResult (_index: number, result: OpResult): void {
    try {
      const link = this.#links.toBatchItem(result)
      this.#pending.sendJson(link.created ? 201 : 200, link, link.created ? { Location: link.shortUrl } : undefined)
    } catch (error) {
      this.#fail(this.#pending, error)
    }
  }

  onError (_index: number, error: Error): void {
    this.#fail(this.#pending, error)
  }
}
