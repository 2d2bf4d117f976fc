/**
 * The circuit breaker the front holds for each shard, built on mollitia's
 * SlidingTimeBreaker. Defaults (all from config): open at 50 % failures among
 * the calls of the last 10 s once at least 5 were made, stay open 30 s, then
 * let 3 trial calls through. A trial that fails, or does not finish within
 * `trialTimeoutMs`, opens the breaker again.
 *
 * A call is one message to the shard. It fails when the worker dies, when it
 * does not reply in time, or when the store failed the writes in it. Not
 * found, validation errors and client aborts never reach the breaker as
 * failures: they are results inside a successful message.
 *
 * Facts about mollitia 0.1.1 this relies on: the sliding window of
 * SlidingTimeBreaker is in milliseconds (its default of 60 means 60 ms), it
 * keeps at most 1000 calls, and its BreakerMaxAllowedRequestError sets the
 * prototype of BreakerError, so it fails its own `instanceof` and both
 * rejections are recognised as `instanceof BreakerError`.
 *
 * Two half-open rules differ from mollitia's own, see `TrialBreaker`.
 */
import { BreakerError, BreakerState, Circuit, SlidingTimeBreaker, type CircuitFunction, type SerializableRecord, type SlidingWindowBreakerOptions } from 'mollitia'
import type { Config } from '../config/schema.ts'
import { ShardTimeoutError, ShardUnavailableError } from '../errors.ts'

/** The `breaker.*` config keys; their units and ranges are in the config schema. */
export type BreakerOptions = Config['breaker']

export type BreakerStateName = 'closed' | 'open' | 'half-open'

/** Thrown inside a call whose message came back with failed writes; carries the response for delivery. */
export class FailedCallResult<T> extends Error {
  readonly response: T

  constructor (response: T) {
    super('shard reported failed writes')
    this.response = response
  }
}

/**
 * SlidingTimeBreaker with two half-open rules of its own.
 *
 * mollitia 0.1.1 waits for all trials and then applies the failure rate, so
 * one failure among 3 trials (33 %) would close the breaker. Here any failed
 * trial reopens it at once.
 *
 * mollitia's `halfOpenStateMaxDelay` limits the whole half-open phase. A
 * shard that gets fewer than 3 calls in that time would then flap between
 * open and half-open although every trial succeeded, so here the limit
 * applies to each trial call instead.
 */
class TrialBreaker extends SlidingTimeBreaker {
  #shard: number
  #trialTimeoutMs: number

  constructor (shard: number, trialTimeoutMs: number, options: SlidingWindowBreakerOptions) {
    super(options)
    this.#shard = shard
    this.#trialTimeoutMs = trialTimeoutMs
  }

  /**
   * Returns state that mollitia 0.1.1 rejects as invalid, so it keeps its
   * in-memory state. Its `execute` otherwise reloads the state it has just
   * saved, validating and copying every call in the window (up to 1000) on
   * each call. Profiling showed that at about 40 µs per shard message.
   * mollitia reloads state only to support shared external stores, which
   * this breaker does not use.
   */
  override async getState (): Promise<SerializableRecord> {
    return { requests: 'kept in memory' }
  }

  protected override async executeInHalfOpened<T> (call: CircuitFunction, ...params: unknown[]): Promise<T> {
    try {
      return await super.executeInHalfOpened<T>(() => this.#withTrialTimeout(call(...params)))
    } catch (error) {
      // A rejection by the breaker itself is not a trial result.
      if (!(error instanceof BreakerError) && this.state !== BreakerState.OPENED) await this.open()
      throw error
    }
  }

  async #withTrialTimeout<T> (trial: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const hung = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new ShardTimeoutError(this.#shard, this.#trialTimeoutMs)) }, this.#trialTimeoutMs)
    })
    try {
      return await Promise.race([trial, hung])
    } finally {
      clearTimeout(timer)
    }
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
    this.#breaker = new TrialBreaker(shard, options.trialTimeoutMs, {
      slidingWindowSize: options.windowMs,
      minimumNumberOfCalls: options.minCalls,
      failureRateThreshold: options.failureRatePercent,
      openStateDelay: options.openMs,
      permittedNumberOfCallsInHalfOpenState: options.halfOpenCalls,
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
