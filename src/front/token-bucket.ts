/**
 * Per-client token buckets in a bounded map, cheap enough for the redirect
 * miss path.
 *
 * Each client's bucket contains at most `burst` tokens and gains
 * `ratePerSecond` tokens per second. A request takes one token, and a
 * request that finds less than one is rejected without taking anything, so
 * a client that keeps trying still gets through at the refill rate.
 *
 * The state per client is one number, as in the generic cell rate
 * algorithm (GCRA): the time at which the client's bucket is full again.
 * At time `now` the bucket contains
 * `burst - (fullAt - now) / 1000 * ratePerSecond` tokens (times in
 * milliseconds), so this is the same policy as storing a token count and a
 * refill time, without an object per client and without a timer.
 *
 * Clients live in a quick-lru map of `maxClients` entries; the least
 * recently seen are dropped first. quick-lru keeps two generations of up to
 * `maxClients` entries each, so memory holds up to twice that many numbers.
 * A dropped client comes back with a full bucket, which matters only when
 * more than `maxClients` clients are active within one refill time.
 */
import QuickLRU from 'quick-lru'

export interface TokenBucketOptions {
  /** Tokens added per second, sustained rate. */
  ratePerSecond: number
  /** Capacity of a bucket: requests a client may make at once. */
  burst: number
  /** Clients tracked before the least recently seen are dropped. */
  maxClients: number
  /** Clock in milliseconds; tests inject one. Must not go backwards. */
  now?: () => number
}

// Absorbs float rounding in `burst * intervalMs` comparisons.
const EPSILON_MS = 1e-6

export class TokenBuckets {
  readonly ratePerSecond: number
  readonly burst: number
  #intervalMs: number
  #toleranceMs: number
  #fullAt: QuickLRU<string, number>
  #now: () => number

  constructor (options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, received ${options.ratePerSecond}`)
    if (!Number.isInteger(options.burst) || options.burst < 1) throw new RangeError(`burst must be an integer of at least 1, received ${options.burst}`)
    this.ratePerSecond = options.ratePerSecond
    this.burst = options.burst
    this.#intervalMs = 1000 / options.ratePerSecond
    // A request is allowed while the bucket is short of full by at most
    // burst - 1 tokens, i.e. while it still contains one.
    this.#toleranceMs = (options.burst - 1) * this.#intervalMs
    this.#fullAt = new QuickLRU({ maxSize: options.maxClients })
    this.#now = options.now ?? performance.now.bind(performance)
  }

  /**
   * Takes one token from `client`'s bucket. Returns 0 when the request may
   * proceed, else the milliseconds until the bucket contains a token again.
   */
  take (client: string): number {
    const now = this.#now()
    const fullAt = this.#fullAt.get(client)
    const start = fullAt === undefined || fullAt < now ? now : fullAt
    const waitMs = start - now - this.#toleranceMs
    if (waitMs > EPSILON_MS) return waitMs
    this.#fullAt.set(client, start + this.#intervalMs)
    return 0
  }

  /** Tokens in `client`'s bucket now, rounded down. */
  remaining (client: string): number {
    const now = this.#now()
    const fullAt = this.#fullAt.peek(client)
    if (fullAt === undefined || fullAt <= now) return this.burst
    return Math.max(0, Math.floor(this.burst - (fullAt - now) / this.#intervalMs + EPSILON_MS))
  }

  /** Seconds a drained bucket takes to fill completely. */
  get refillSeconds (): number {
    return this.burst / this.ratePerSecond
  }

  /** Clients tracked now. Costs a pass over the older generation, so call it at scrape time only. */
  get clients (): number {
    return this.#fullAt.size
  }
}
