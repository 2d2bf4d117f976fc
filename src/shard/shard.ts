/**
 * The shard actor: the only writer of one store. Because one thread runs all
 * of a shard's operations, dedup and alias uniqueness need no locks; the only
 * interleaving comes from awaiting a commit, and the in-flight maps below
 * cover exactly that window.
 *
 * A create is answered only once it is durable in the configured sense:
 * committed (`commit`) or on disk (`flush`). A create that finds the same URL
 * or alias still in flight waits for that write, so it never reports a link
 * that could still be lost.
 */
import QuickLRU from 'quick-lru'
import { AliasTakenError, ShortenerError } from '../errors.ts'
import { CodeCodec } from '../codec/code.ts'
import { urlKey } from '../routing/router.ts'
import { KIND_ALIAS, KIND_GENERATED, type LinkRecord, type LinkStore } from '../store/types.ts'
import { toStoreError } from './failures.ts'
import { LeasedSequence, type RangeLeaser } from './sequence.ts'
import { retryWithBackoff, type RetryPolicy } from './retry.ts'
import {
  OP_CREATE, OP_CREATE_ALIAS, OP_GET, RESULT_CREATED, RESULT_EXISTED, RESULT_FAILED, RESULT_FOUND, RESULT_NOT_FOUND,
  type BatchRequest, type BatchResponse, type ResultStatus, type ShardStats, type WireError
} from './protocol.ts'

export interface ShardOptions {
  shard: number
  store: LinkStore
  leaser: RangeLeaser
  permutationKey: Uint8Array
  slots: number
  durability: 'flush' | 'commit'
  /** Entries in each of the two LRU maps; 0 disables caching. */
  cacheEntries: number
  leaseSize: number
  retry: RetryPolicy
  onLease?: (start: number, size: number) => void
  onStoreRetry?: (error: unknown, attempt: number) => void
}

interface Outcome {
  status: ResultStatus
  code: string
  record: LinkRecord
}

// How many differently salted digests to try when two URLs share a digest.
// With 128-bit digests a single collision is already beyond practical reach.
const MAX_DIGEST_PROBES = 4

export class Shard {
  readonly id: number
  #store: LinkStore
  #codec: CodeCodec
  #sequence: LeasedSequence
  #slots: number
  #durability: 'flush' | 'commit'
  #retry: RetryPolicy
  #onStoreRetry: ShardOptions['onStoreRetry']
  #linkCache: QuickLRU<string, LinkRecord> | undefined
  #urlCache: QuickLRU<string, string> | undefined
  #inFlightUrls = new Map<string, Promise<Outcome>>()
  #inFlightAliases = new Map<string, Promise<Outcome>>()
  #stats = { cacheHits: 0, cacheMisses: 0, flushes: 0, flushSecondsTotal: 0, storeErrors: 0 }

  constructor (options: ShardOptions) {
    this.id = options.shard
    this.#store = options.store
    this.#codec = new CodeCodec({ key: options.permutationKey, slots: options.slots })
    this.#sequence = new LeasedSequence(options.leaser, options.leaseSize, options.onLease)
    this.#slots = options.slots
    this.#durability = options.durability
    this.#retry = options.retry
    this.#onStoreRetry = options.onStoreRetry
    if (options.cacheEntries > 0) {
      this.#linkCache = new QuickLRU({ maxSize: options.cacheEntries })
      this.#urlCache = new QuickLRU({ maxSize: options.cacheEntries })
    }
  }

  async execute (request: BatchRequest): Promise<BatchResponse> {
    const count = request.kinds.length
    const response: BatchResponse = {
      statuses: new Array(count),
      codes: new Array(count),
      urls: new Array(count),
      createdAt: new Array(count),
      errors: new Array(count)
    }
    const waits: Array<Promise<void>> = []

    for (let i = 0; i < count; i++) {
      const kind = request.kinds[i]
      const arg = request.args[i] as string
      if (kind === OP_GET) {
        this.#fillGet(response, i, arg)
      } else {
        const outcome = kind === OP_CREATE
          ? this.#createGenerated(arg)
          : this.#createAlias(arg, request.aliases[i] as string)
        waits.push(outcome.then(
          (result) => { fillOutcome(response, i, result) },
          (error: unknown) => { fillError(response, i, error) }
        ))
      }
    }

    await Promise.all(waits)
    return response
  }

  stats (): ShardStats {
    return {
      shard: this.id,
      links: this.#store.countLinks(),
      storeBytes: this.#store.sizeBytes(),
      leasesGranted: this.#sequence.leasesGranted,
      leaseRemaining: this.#sequence.remaining,
      ...this.#stats
    }
  }

  async close (): Promise<void> {
    await Promise.allSettled([...this.#inFlightUrls.values(), ...this.#inFlightAliases.values()])
    await this.#store.close()
  }

  #fillGet (response: BatchResponse, i: number, code: string): void {
    const record = this.#getLink(code)
    response.codes[i] = code
    if (record === undefined) {
      response.statuses[i] = RESULT_NOT_FOUND
      return
    }
    response.statuses[i] = RESULT_FOUND
    response.urls[i] = record.url
    response.createdAt[i] = record.createdAt
  }

  #getLink (code: string): LinkRecord | undefined {
    const cached = this.#linkCache?.get(code)
    if (cached !== undefined) {
      this.#stats.cacheHits++
      return cached
    }
    this.#stats.cacheMisses++
    const record = this.#store.getLink(code)
    if (record !== undefined) this.#linkCache?.set(code, record)
    return record
  }

  #createGenerated (url: string): Promise<Outcome> {
    const key = urlKey(url)
    const existing = this.#findByUrl(url, key)
    if (existing !== undefined) return Promise.resolve(existing)

    const cacheKey = key.toString('base64')
    const inFlight = this.#inFlightUrls.get(cacheKey)
    if (inFlight !== undefined) return inFlight.then(asExisting)

    const write = this.#insertGenerated(url, key)
    this.#inFlightUrls.set(cacheKey, write)
    const forget = (): void => { this.#inFlightUrls.delete(cacheKey) }
    write.then(forget, forget)
    return write
  }

  /** Finds the code stored for a URL, confirming the URL so that a digest collision cannot merge two URLs. */
  #findByUrl (url: string, key: Buffer): Outcome | undefined {
    for (let probe = 0; probe < MAX_DIGEST_PROBES; probe++) {
      const indexKey = probe === 0 ? key : saltedKey(url, probe)
      const code = this.#lookupCodeByUrlKey(indexKey)
      if (code === undefined) return undefined
      const record = this.#getLink(code)
      if (record?.url === url) return { status: RESULT_EXISTED, code, record }
    }
    return undefined
  }

  #lookupCodeByUrlKey (key: Buffer): string | undefined {
    const cacheKey = key.toString('base64')
    const cached = this.#urlCache?.get(cacheKey)
    if (cached !== undefined) return cached
    const code = this.#store.getCodeByUrlKey(key)
    if (code !== undefined) this.#urlCache?.set(cacheKey, code)
    return code
  }

  /** The first digest slot not taken by another URL; probe 0 unless a collision happened. */
  #freeIndexKey (url: string, key: Buffer): Buffer {
    for (let probe = 0; probe < MAX_DIGEST_PROBES; probe++) {
      const indexKey = probe === 0 ? key : saltedKey(url, probe)
      if (this.#lookupCodeByUrlKey(indexKey) === undefined) return indexKey
    }
    throw new ShortenerError('STORE_FAILED', 503, `Shard ${this.id} found ${MAX_DIGEST_PROBES} digest collisions for one URL`)
  }

  async #insertGenerated (url: string, key: Buffer): Promise<Outcome> {
    const slot = key.readUInt32BE(0) % this.#slots
    const indexKey = this.#freeIndexKey(url, key)
    const record: LinkRecord = { url, createdAt: Date.now(), kind: KIND_GENERATED }

    for (;;) {
      const seq = this.#sequence.take() ?? await this.#sequence.next()
      const code = this.#codec.mint(seq, slot)
      // An alias may already hold the code this number maps to; skip it.
      if (this.#store.getLink(code) !== undefined) continue
      const written = await this.#writeDurably(code, record, indexKey)
      if (!written) continue
      this.#urlCache?.set(indexKey.toString('base64'), code)
      return { status: RESULT_CREATED, code, record }
    }
  }

  #createAlias (url: string, alias: string): Promise<Outcome> {
    const inFlight = this.#inFlightAliases.get(alias)
    if (inFlight !== undefined) {
      // Whoever got there first wins; if that write failed, try again.
      return inFlight.then(() => { throw new AliasTakenError(alias) }, () => this.#createAlias(url, alias))
    }
    if (this.#getLink(alias) !== undefined) return Promise.reject(new AliasTakenError(alias))

    const write = this.#insertAlias(url, alias)
    this.#inFlightAliases.set(alias, write)
    const forget = (): void => { this.#inFlightAliases.delete(alias) }
    write.then(forget, forget)
    return write
  }

  async #insertAlias (url: string, alias: string): Promise<Outcome> {
    const record: LinkRecord = { url, createdAt: Date.now(), kind: KIND_ALIAS }
    const written = await this.#writeDurably(alias, record, undefined)
    if (!written) throw new AliasTakenError(alias)
    return { status: RESULT_CREATED, code: alias, record }
  }

  /** Inserts with bounded retries; resolves false when the code is taken. */
  async #writeDurably (code: string, record: LinkRecord, indexKey: Buffer | undefined): Promise<boolean> {
    const store = this.#store
    const insert = (): Promise<boolean> => store.insertLink(code, record, indexKey)
    try {
      // Only the insert is retried: a failed commit wrote nothing, while a
      // failed flush leaves a committed write that a retry would duplicate.
      const written = await retryWithBackoff(insert, this.#retry, isTransient, this.#onStoreRetry)
      if (written && this.#durability === 'flush') await this.#flush()
      if (written) this.#linkCache?.set(code, record)
      return written
    } catch (error) {
      this.#stats.storeErrors++
      throw toStoreError(error, this.id)
    }
  }

  async #flush (): Promise<void> {
    const startedAt = performance.now()
    await this.#store.flushed()
    this.#stats.flushes++
    this.#stats.flushSecondsTotal += (performance.now() - startedAt) / 1000
  }
}

function isTransient (error: unknown): boolean {
  return !(error instanceof ShortenerError && error.status < 500)
}

function saltedKey (url: string, probe: number): Buffer {
  return urlKey(`${probe}\n${url}`)
}

function asExisting (outcome: Outcome): Outcome {
  return { ...outcome, status: RESULT_EXISTED }
}

function fillOutcome (response: BatchResponse, i: number, outcome: Outcome): void {
  response.statuses[i] = outcome.status
  response.codes[i] = outcome.code
  response.urls[i] = outcome.record.url
  response.createdAt[i] = outcome.record.createdAt
}

function fillError (response: BatchResponse, i: number, error: unknown): void {
  response.statuses[i] = RESULT_FAILED
  response.errors[i] = toWireError(error)
}

export function toWireError (error: unknown): WireError {
  if (error instanceof ShortenerError) {
    return { code: error.code, status: error.status, message: error.message, fields: { ...error.fields } }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'INTERNAL_ERROR', status: 500, message, fields: {} }
}
