/**
 * The circuit breaker the front holds for each shard, built on mollitia's
 * SlidingTimeBreaker. Defaults (all from config): open at 50 % failures among
 * the calls of the last 10 s once at least 5 were made, stay open 30 s, then
 * let 3 trial calls through; if the trials do not all finish within
 * `trialTimeoutMs`, the breaker opens again.
 *
 * A call is one message to the shard. It fails when the worker dies, when it
 * does not answer in time, or when the store failed the writes in it. Not
 * found, validation errors and client aborts never reach the breaker as
 * failures: they are results inside a successful message.
 *
 * Facts about mollitia 0.1.1 this relies on: the sliding window of
 * SlidingTimeBreaker is in milliseconds (its default of 60 means 60 ms), it
 * keeps at most 1000 calls, and its BreakerMaxAllowedRequestError sets the
 * prototype of BreakerError, so it fails its own `instanceof` and both
 * rejections are recognised as `instanceof BreakerError`.
 */
import { BreakerError, BreakerState, Circuit, SlidingTimeBreaker } from 'mollitia'
import { ShardUnavailableError } from '../errors.ts'

export interface BreakerOptions {
  windowMs: number
  minCalls: number
  failureRatePercent: number
  openMs: number
  halfOpenCalls: number
  trialTimeoutMs: number
}

export type BreakerStateName = 'closed' | 'open' | 'half-open'

/** Thrown inside a call whose message came back with failed writes; carries the response for delivery. */
export class FailedCallResult<T> extends Error {
  readonly response: T

  constructor (response: T) {
    super('shard reported failed writes')
    this.response = response
  }
}

export class ShardBreaker {
  readonly shard: number
  #circuit: Circuit
  #breaker: SlidingTimeBreaker
  #openMs: number

  constructor (shard: number, options: BreakerOptions, onStateChange?: (state: BreakerStateName) => void) {
    this.shard = shard
    this.#openMs = options.openMs
    this.#breaker = new SlidingTimeBreaker({
      slidingWindowSize: options.windowMs,
      minimumNumberOfCalls: options.minCalls,
      failureRateThreshold: options.failureRatePercent,
      openStateDelay: options.openMs,
      permittedNumberOfCallsInHalfOpenState: options.halfOpenCalls,
      halfOpenStateMaxDelay: options.trialTimeoutMs,
      // Slow calls are handled by the shard timeout, which fails the call.
      slowCallRateThreshold: 100
    })
    this.#circuit = new Circuit({ name: `shard-${shard}`, options: { modules: [this.#breaker] } })
    if (onStateChange !== undefined) {
      this.#breaker.on('state-changed', (state: BreakerState) => { onStateChange(toName(state)) })
    }
  }

  get state (): BreakerStateName {
    return toName(this.#breaker.state)
  }

  /** Runs `call` through the breaker; rejects with SHARD_UNAVAILABLE without calling it when open. */
  async run<T> (call: () => Promise<T>): Promise<T> {
    if (this.#breaker.state === BreakerState.OPENED) throw this.#rejection()
    try {
      return await this.#circuit.fn(call).execute() as T
    } catch (error) {
      if (error instanceof BreakerError) throw this.#rejection()
      throw error
    }
  }

  dispose (): void {
    this.#circuit.dispose()
  }

  #rejection (): ShardUnavailableError {
    const retryAfterSeconds = Math.max(1, Math.ceil(this.#openMs / 1000))
    return new ShardUnavailableError(this.shard, `its circuit breaker is ${this.state}`, retryAfterSeconds)
  }
}

function toName (state: BreakerState): BreakerStateName {
  if (state === BreakerState.OPENED) return 'open'
  if (state === BreakerState.HALF_OPENED) return 'half-open'
  return 'closed'
}
