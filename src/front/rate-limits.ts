/**
 * The service's two per-client limits, built from the `rateLimit.*` config:
 *
 * - create: every `POST /api/v1/links` and `POST /api/v1/links/batch`
 *   request takes one token, whatever the batch size (`maxBatchSize` bounds
 *   a batch, and a batch of many links is cheaper per link than single
 *   creates). It is checked after the header checks (415, 413) and before
 *   the body is read, so a rejected client costs no parsing and no shard
 *   work.
 * - not-found: every lookup that finds no link takes one token, on the
 *   redirect path (`GET|HEAD /{code}`) and on `GET /api/v1/links/{code}`.
 *   Lookups that find a link take nothing, so normal traffic never meets
 *   this limit while code scanning, which misses almost always, is slowed
 *   to `notFoundPerSecond`. The lookup runs first and its 404 turns into a
 *   429, so a limited client can still follow links it really holds.
 *
 * A rejection is `429 RATE_LIMITED` with an integer `Retry-After` and the
 * fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026):
 *
 *     RateLimit-Policy: "create";q=200;w=4
 *     RateLimit: "create";r=0;t=1
 *
 * `q` is the burst (the bucket size) and `w` the seconds a drained bucket
 * takes to fill, rounded up. `r` is the whole tokens left (always 0 in a
 * 429) and `t` the seconds until the next request can pass, the same value
 * as `Retry-After`. A token bucket has no fixed window, so `w` and `t` are
 * the nearest fit for the draft's window-based terms. The fields go on 429
 * responses only: adding them to every redirect would cost the hot path.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import type { Config } from '../config/schema.ts'
import { RateLimitedError } from '../errors.ts'
import type { RequestHooks } from './app.ts'
import { ClientAddress } from './client-address.ts'
import { TokenBuckets } from './token-bucket.ts'

export type LimitName = 'create' | 'not-found'

export interface RateLimitOptions {
  /** Clock in milliseconds for the buckets; tests inject one. */
  now?: () => number
  /** Called for each rejection with the limit and the client key, for logs. */
  onReject?: (limit: LimitName, client: string) => void
}

export class Limit {
  readonly name: LimitName
  readonly buckets: TokenBuckets
  rejected = 0
  #what: string
  #policy: string

  constructor (name: LimitName, what: string, buckets: TokenBuckets) {
    this.name = name
    this.buckets = buckets
    this.#what = what
    const windowSeconds = Math.max(1, Math.ceil(buckets.refillSeconds))
    this.#policy = `"${name}";q=${buckets.burst};w=${windowSeconds}`
  }

  /** Takes a token for `client`; returns the 429 to send when there was none. */
  check (client: string): RateLimitedError | undefined {
    const waitMs = this.buckets.take(client)
    if (waitMs === 0) return undefined
    this.rejected++
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000))
    return new RateLimitedError(retryAfterSeconds, this.#what,
      { burst: this.buckets.burst, perSecond: this.buckets.ratePerSecond },
      { 'RateLimit-Policy': this.#policy, RateLimit: `"${this.name}";r=0;t=${retryAfterSeconds}` })
  }
}

export class RateLimits {
  readonly create: Limit
  readonly notFound: Limit
  readonly address: ClientAddress
  #onReject: RateLimitOptions['onReject']

  constructor (config: Config['rateLimit'], options: RateLimitOptions = {}) {
    const { now } = options
    this.address = new ClientAddress({ mode: config.clientAddress, trustedProxies: config.trustedProxies })
    this.create = new Limit('create', 'create requests', new TokenBuckets({
      ratePerSecond: config.createPerSecond, burst: config.createBurst, maxClients: config.maxClients, now
    }))
    this.notFound = new Limit('not-found', 'lookups of unknown codes', new TokenBuckets({
      ratePerSecond: config.notFoundPerSecond, burst: config.notFoundBurst, maxClients: config.maxClients, now
    }))
    this.#onReject = options.onReject
  }

  /** Request hooks for the API routes. */
  get hooks (): RequestHooks {
    return { checkCreate: this.checkCreate, clientOf: this.clientOf, checkNotFound: this.checkNotFoundOf }
  }

  checkCreate = (res: HttpResponse, req: HttpRequest): RateLimitedError | undefined => {
    return this.#check(this.create, this.address.of(res, req))
  }

  /** For the redirect path: called inside the handler once a code was not found. */
  checkNotFound = (res: HttpResponse, req: HttpRequest): RateLimitedError | undefined => {
    return this.#check(this.notFound, this.address.of(res, req))
  }

  /** Checks the not-found limit for a lookup completed after the handler returned, using the client read in the handler. */
  checkNotFoundOf = (client: string): RateLimitedError | undefined => {
    return this.#check(this.notFound, client)
  }

  clientOf = (res: HttpResponse, req: HttpRequest): string => this.address.of(res, req)

  #check (limit: Limit, client: string): RateLimitedError | undefined {
    const rejection = limit.check(client)
    if (rejection !== undefined) this.#onReject?.(limit.name, client)
    return rejection
  }
}
