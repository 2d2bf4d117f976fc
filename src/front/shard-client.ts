/**
 * The front's handle on one shard: a piscina pool of exactly one worker
 * thread, and a queue that turns every operation submitted during one
 * event-loop turn into a single message. The thread hop costs tens of
 * microseconds and a message of many operations costs little more than a
 * message of one, so batching is what keeps the hop off the throughput.
 *
 * Limits, each enforced with an immediate 503 instead of an unbounded wait:
 * - at most `maxQueuedOperations` operations queued or in the worker;
 * - the worker must reply to each message within `timeoutMs`, after which its
 *   operations fail with SHARD_TIMEOUT (a create's outcome is then unknown);
 * - the breaker, when open, rejects without calling the shard.
 */
import { Piscina } from 'piscina'
import { ShardOverloadedError, ShardTimeoutError, ShardUnavailableError, ShortenerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import { URL_KEY_BYTES } from '../routing/router.ts'
import {
  RESULT_FAILED,
  type BatchRequest, type BatchResponse, type OpKind, type ResultStatus, type ShardRequest, type ShardStats, type ShardWorkerData
} from '../shard/protocol.ts'
import { FailedCallResult, type ShardBreaker } from './breaker.ts'

// Run from the sources (tsx) the worker is a .ts file; from the build, .js.
const WORKER_URL = new URL(`../shard/worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href

export interface OpResult {
  status: ResultStatus
  code: string
  url: string
  createdAt: number
}

/**
 * Receives the outcome of operations submitted with `submitTo`: one object
 * serves a whole API batch, so a batch of 1000 links allocates no promise
 * or closure per link.
 */
export interface ResultSink {
  onResult (index: number, result: OpResult): void
  onError (index: number, error: Error): void
}

/** Adapts one operation's outcome to a promise. */
export class PromiseSink implements ResultSink {
  readonly promise: Promise<OpResult>
  #resolve!: (result: OpResult) => void
  #reject!: (error: Error) => void

  constructor () {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  onResult (_index: number, result: OpResult): void {
    this.#resolve(result)
  }

  onError (_index: number, error: Error): void {
    this.#reject(error)
  }
}

const NO_URL_KEY = new Uint8Array(URL_KEY_BYTES)

export interface ShardClientOptions {
  workerData: ShardWorkerData
  maxQueuedOperations: number
  maxBatchOperations: number
  timeoutMs: number
  breaker: ShardBreaker
  logger: Logger
}

export class ShardClient {
  readonly id: number
  #pool: Piscina
  #breaker: ShardBreaker
  #logger: Logger
  #maxQueued: number
  #maxBatch: number
  #timeoutMs: number
  #kinds: OpKind[] = []
  #args: string[] = []
  #aliases: string[] = []
  #urlKeys: Uint8Array[] = []
  #sinks: ResultSink[] = []
  #indexes: number[] = []
  #outstanding = 0
  #scheduled = false
  #closed = false
  #restarts = 0

  constructor (options: ShardClientOptions) {
    this.id = options.workerData.shard
    this.#breaker = options.breaker
    this.#logger = options.logger
    this.#maxQueued = options.maxQueuedOperations
    this.#maxBatch = options.maxBatchOperations
    this.#timeoutMs = options.timeoutMs
    this.#pool = new Piscina({
      filename: WORKER_URL,
      minThreads: 1,
      maxThreads: 1,
      // Several messages may wait on commits or flushes at once while the
      // worker goes on serving reads; ordering is the worker's own business.
      concurrentTasksPerWorker: 64,
      // The default 'sync' parks an idle worker in Atomics.wait, which
      // stalls the lmdb-js commits and flushes it is waiting on.
      atomics: 'disabled',
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: options.workerData
    })
    this.#pool.on('error', (error: unknown) => {
      this.#logger.error({ shard: this.id, err: error }, 'shard worker failed')
    })
    this.#pool.on('workerDestroy', () => {
      if (this.#closed) return
      this.#restarts++
      this.#logger.warn({ shard: this.id, restarts: this.#restarts }, 'shard worker exited; piscina starts a new one')
    })
  }

  /** Operations queued or in the worker. */
  get outstanding (): number {
    return this.#outstanding
  }

  get restarts (): number {
    return this.#restarts
  }

  /**
   * Queues one operation for this turn's message. `urlKey` is the digest of
   * the URL of an OP_CREATE (the front computed it to route), so the shard
   * need not compute it again.
   */
  submit (kind: OpKind, arg: string, alias: string, urlKey?: Uint8Array): Promise<OpResult> {
    const sink = new PromiseSink()
    this.submitTo(sink, 0, kind, arg, alias, urlKey)
    return sink.promise
  }

  /** Queues one operation whose outcome goes to `sink` under `index`; a full queue is reported the same way. */
  submitTo (sink: ResultSink, index: number, kind: OpKind, arg: string, alias: string, urlKey?: Uint8Array): void {
    if (this.#outstanding >= this.#maxQueued) {
      sink.onError(index, new ShardOverloadedError(this.id, this.#maxQueued))
      return
    }
    this.#outstanding++
    this.#kinds.push(kind)
    this.#args.push(arg)
    this.#aliases.push(alias)
    this.#urlKeys.push(urlKey ?? NO_URL_KEY)
    this.#sinks.push(sink)
    this.#indexes.push(index)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flush)
    }
  }

  /** Resolves when the worker completes a round trip within the timeout. */
  async ping (timeoutMs: number): Promise<void> {
    await this.#runWithTimeout({ type: 'ping' }, timeoutMs)
  }

  async stats (timeoutMs: number): Promise<ShardStats> {
    return await this.#runWithTimeout({ type: 'stats' }, timeoutMs) as ShardStats
  }

  /** Lets the worker finish in-flight writes and close its stores, then stops the thread. */
  async close (): Promise<void> {
    this.#closed = true
    try {
      await this.#runWithTimeout({ type: 'close' }, this.#timeoutMs)
    } catch (error) {
      this.#logger.error({ shard: this.id, err: error }, 'shard did not close its stores cleanly')
    }
    await this.#pool.destroy()
  }

  #flush = (): void => {
    this.#scheduled = false
    while (this.#kinds.length > 0) {
      const take = Math.min(this.#kinds.length, this.#maxBatch)
      const request: BatchRequest = {
        type: 'batch',
        kinds: this.#kinds.splice(0, take),
        args: this.#args.splice(0, take),
        aliases: this.#aliases.splice(0, take),
        urlKeys: joinKeys(this.#urlKeys.splice(0, take))
      }
      this.#send(request, new Waiters(this.#sinks.splice(0, take), this.#indexes.splice(0, take)))
    }
  }

  #send (request: BatchRequest, waiters: Waiters): void {
    let sent = false
    const release = (): void => { this.#outstanding -= waiters.sinks.length }
    // The message leaves only once the breaker lets the call through, so an
    // open breaker spares the shard and a create it rejects is never written.
    const call = (): Promise<BatchResponse> => {
      sent = true
      const run = this.#pool.run(request) as Promise<BatchResponse>
      // The queue bound counts what the worker still holds, so a slot frees
      // up when the worker replies, even after the front stopped waiting.
      run.then(release, release)
      return this.#awaitAnswer(run)
    }

    this.#breaker.run(call).then(
      (response) => { deliver(response, waiters) },
      (error: unknown) => {
        if (!sent) release()
        if (error instanceof FailedCallResult) {
          deliver(error.response as BatchResponse, waiters)
          return
        }
        // Anything else is the worker failing (or dying) with the message in
        // hand, and its store may have committed the creates in it.
        const failure = error instanceof ShortenerError
          ? error
          : new ShardUnavailableError(this.id, `${describe(error)}; the outcome of a write is unknown, ` +
            'so look the link up or retry the same request', 1, { cause: error })
        waiters.failAll(failure)
      }
    )
  }

  /** Waits for the worker's reply and fails on timeout or on a failed store write, so the breaker counts either. */
  async #awaitAnswer (run: Promise<BatchResponse>): Promise<BatchResponse> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new ShardTimeoutError(this.id, this.#timeoutMs)) }, this.#timeoutMs)
    })
    try {
      const response = await Promise.race([run, timeout])
      if (hasServerFailure(response)) throw new FailedCallResult(response)
      return response
    } finally {
      clearTimeout(timer)
    }
  }

  async #runWithTimeout (request: ShardRequest, timeoutMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new ShardTimeoutError(this.id, timeoutMs)) }, timeoutMs)
    })
    try {
      return await Promise.race([this.#pool.run(request), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The sinks of one message's operations, in message order. */
class Waiters {
  readonly sinks: ResultSink[]
  readonly indexes: number[]

  constructor (sinks: ResultSink[], indexes: number[]) {
    this.sinks = sinks
    this.indexes = indexes
  }

  failAll (error: Error): void {
    for (let i = 0; i < this.sinks.length; i++) (this.sinks[i] as ResultSink).onError(this.indexes[i] as number, error)
  }
}

function deliver (response: BatchResponse, waiters: Waiters): void {
  for (let i = 0; i < waiters.sinks.length; i++) {
    const sink = waiters.sinks[i] as ResultSink
    const index = waiters.indexes[i] as number
    const status = response.statuses[i] as ResultStatus
    if (status === RESULT_FAILED) {
      const wire = response.errors[i]
      sink.onError(index, new ShortenerError(wire?.code ?? 'INTERNAL_ERROR', wire?.status ?? 500,
        wire?.message ?? 'Shard returned a failure without details', wire?.fields ?? {}))
      continue
    }
    sink.onResult(index, {
      status,
      code: response.codes[i] as string,
      url: response.urls[i] as string,
      createdAt: response.createdAt[i] as number
    })
  }
}

/** Packs the digests into one fresh buffer, so structured cloning copies only them. */
function joinKeys (keys: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(keys.length * URL_KEY_BYTES)
  for (let i = 0; i < keys.length; i++) joined.set(keys[i] as Uint8Array, i * URL_KEY_BYTES)
  return joined
}

function hasServerFailure (response: BatchResponse): boolean {
  for (const error of response.errors) {
    if (error !== undefined && error.status >= 500) return true
  }
  return false
}

function describe (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
