/**
 * The shard actor: the only writer of one store. Because one thread runs all
 * of a shard's operations, dedup and alias uniqueness need no locks. The only
 * interleaving comes from awaiting a commit, and the in-flight maps below
 * cover exactly that window.
 *
 * The creates of one message are planned synchronously (dedup checks, code
 * minting) and their writes queued in one go, so they commit in a single
 * LMDB transaction and the message waits for one commit and one flush, not
 * one per link. A create is acknowledged only once it is durable in the
 * configured sense: committed (`commit`) or on disk (`flush`). A create that
 * finds the same URL or alias still in flight waits for that write, so it
 * never reports a link that could still be lost.
 *
 * A generated link commits without its `urls` index entry. The shard keeps
 * committed links it has not indexed yet in memory, finds them there, and
 * writes their entries in large batches once `indexBatchEntries` are
 * waiting or `indexLagMs` has passed (lmdb.ts explains why). The record of how far
 * the index reaches moves only past links that are indexed or failed, so
 * after a crash the store rebuilds exactly the entries that are missing.
 */
import QuickLRU from 'quick-lru'
import { AliasTakenError, ShortenerError } from '../errors.ts'
import { CodeCodec } from '../codec/code.ts'
import { URL_KEY_BYTES, urlKey } from '../routing/router.ts'
import { KIND_ALIAS, KIND_GENERATED, type IndexEntry, type LinkRecord, type LinkStore } from '../store/types.ts'
import { indexKeyOf, MAX_INDEX_PROBES } from '../store/url-index.ts'
import { commitFailureCause, toStoreError } from './failures.ts'
import { LeasedSequence, type RangeLeaser } from './sequence.ts'
import { retryWithBackoff, type RetryPolicy } from './retry.ts'
import {
  OP_CREATE, OP_CREATE_ALIAS, OP_GET, RESULT_CREATED, RESULT_EXISTED, RESULT_FAILED, RESULT_FOUND, RESULT_NOT_FOUND,
  type BatchRequest, type BatchResponse, type OpKind, type ShardStats, type WireError
} from './protocol.ts'

export interface ShardOptions {
  shard: number
  store: LinkStore
  leaser: RangeLeaser
  permutationKey: Uint8Array
  slots: number
  durability: 'flush' | 'commit'
  /** Entries in the LRU cache of links by code; 0 disables it. */
  cacheEntries: number
  leaseSize: number
  retry: RetryPolicy
  /** Index entries that, once waiting, are written at once. */
  indexBatchEntries: number
  /** Time after which waiting index entries are written, in milliseconds. A write in progress delays them. */
  indexLagMs: number
  onLease?: (start: number, size: number) => void
  onStoreRetry?: (error: unknown, attempt: number) => void
  onStoreError?: (error: ShortenerError, codes: readonly string[]) => void
  onIndexError?: (error: unknown, entries: number) => void
  /** Tells whether the store's disk is out of space; a failed commit is then reported as STORAGE_FULL. */
  isDiskFull?: () => boolean
}

/** A write queued by this shard and not yet durable. */
interface PendingLink {
  code: string
  /** The number a generated code encodes; -1 for an alias. */
  number: number
  record: LinkRecord
  /** The `urls` index key for a generated code; undefined for an alias. */
  indexKey: Buffer | undefined
  /** Key of the in-flight map entry to drop when the write settles. */
  inFlightKey: string
  /** Settles when the write is durable or has failed. */
  done: Promise<void>
}

/** The writes planned from one message, committed together. */
class WriteSet {
  readonly links: PendingLink[] = []
  readonly indexes: number[] = []
  readonly done: Promise<void>
  resolve!: () => void
  reject!: (error: ShortenerError) => void

  constructor () {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Waiters attach their own handlers. This one only keeps a failure that
    // no create waits for from becoming an unhandled rejection.
    this.done.catch(() => {})
  }
}

/** An index entry waiting to be written, with its key in the form `#unindexed` uses. */
interface QueuedIndexEntry extends IndexEntry {
  mapKey: string
}

export class Shard {
  readonly id: number
  #store: LinkStore
  #codec: CodeCodec
  #sequence: LeasedSequence
  #slots: number
  #durability: 'flush' | 'commit'
  #retry: RetryPolicy
  #onStoreRetry: ShardOptions['onStoreRetry']
  #onStoreError: ShardOptions['onStoreError']
  #isDiskFull: ShardOptions['isDiskFull']
  #linkCache: QuickLRU<string, LinkRecord> | undefined
  /** Generated links in flight, by URL digest (as a latin1 string). */
  #inFlightUrls = new Map<string, PendingLink>()
  /** Codes and aliases in flight, so a minted code never takes an alias being written, and the reverse. */
  #inFlightCodes = new Map<string, PendingLink>()
  /** Committed generated links whose index entry is not written yet: number by index key (latin1). */
  #unindexed = new Map<string, number>()
  #indexQueue: QueuedIndexEntry[] = []
  #indexedThrough: number
  #indexBatchEntries: number
  #indexLagMs: number
  #indexTimer: NodeJS.Timeout | undefined
  #indexWrite: Promise<void> | undefined
  /** Set when the timer fired during an index write, so the next write follows at once. */
  #indexDue = false
  #onIndexError: ShardOptions['onIndexError']
  #closing = false
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
    this.#onStoreError = options.onStoreError
    this.#isDiskFull = options.isDiskFull
    this.#onIndexError = options.onIndexError
    this.#indexedThrough = options.store.indexedThrough()
    this.#indexBatchEntries = options.indexBatchEntries
    this.#indexLagMs = options.indexLagMs
    if (options.cacheEntries > 0) {
      this.#linkCache = new QuickLRU({ maxSize: options.cacheEntries })
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
    const writes = new WriteSet()
    const waits: Array<Promise<void>> = []

    for (let i = 0; i < count; i++) {
      try {
        const wait = this.#plan(response, i, request, writes)
        if (wait !== undefined) waits.push(wait)
      } catch (error) {
        // A store read that throws fails its own operation, not the message.
        const failure = toStoreError(error, this.id)
        this.#onStoreError?.(failure, [request.args[i] as string])
        fillError(response, i, failure)
      }
    }

    if (writes.links.length > 0) waits.push(this.#commit(writes, response))
    await Promise.all(waits)
    return response
  }

  #plan (response: BatchResponse, i: number, request: BatchRequest, writes: WriteSet): Promise<void> | undefined {
    const kind = request.kinds[i] as OpKind
    const arg = request.args[i] as string
    if (kind === OP_GET) {
      this.#fillGet(response, i, arg)
      return undefined
    }
    if (kind === OP_CREATE) return this.#planGenerated(response, i, arg, urlKeyAt(request, i, arg), writes)
    return this.#planAlias(response, i, arg, request.aliases[i] as string, writes)
  }

  stats (): ShardStats {
    return {
      shard: this.id,
      links: this.#store.countLinks(),
      storeBytes: this.#store.sizeBytes(),
      leasesGranted: this.#sequence.leasesGranted,
      leaseRemaining: this.#sequence.remaining,
      indexLag: this.#unindexed.size,
      ...this.#stats
    }
  }

  async close (): Promise<void> {
    await Promise.allSettled([...this.#inFlightCodes.values()].map((link) => link.done))
    // Index what is left, so that the next start has nothing to rebuild.
    this.#closing = true
    clearTimeout(this.#indexTimer)
    this.#indexTimer = undefined
    await this.#indexWrite
    await this.#writeIndex()
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

  /**
   * Fills in a create's result from what is stored or in flight, or queues
   * its write in `writes`. Returns a promise to wait for when the result depends on
   * another write or on a lease.
   */
  #planGenerated (response: BatchResponse, i: number, url: string, key: Buffer, writes: WriteSet): Promise<void> | undefined {
    const inFlightKey = key.toString('latin1')
    const inFlight = this.#inFlightUrls.get(inFlightKey)
    if (inFlight !== undefined) return this.#answerAfter(inFlight, response, i)

    const indexKey = this.#findByUrl(response, i, url, key, inFlightKey)
    if (indexKey === undefined) return undefined

    const seq = this.#sequence.take()
    if (seq === undefined) return this.#afterLease(response, i, OP_CREATE, url, '', key)

    const slot = key.readUInt32BE(0) % this.#slots
    const minted = this.#mintFreeCode(seq, slot)
    if (minted === undefined) return this.#afterLease(response, i, OP_CREATE, url, '', key)

    const link = this.#queue(writes, i, minted.code, minted.number, { url, createdAt: Date.now(), kind: KIND_GENERATED }, indexKey, inFlightKey)
    this.#inFlightUrls.set(inFlightKey, link)
    return undefined
  }

  #planAlias (response: BatchResponse, i: number, url: string, alias: string, writes: WriteSet): Promise<void> | undefined {
    const inFlight = this.#inFlightCodes.get(alias)
    if (inFlight !== undefined) {
      // The first write of the alias wins. If that write fails, try again.
      return inFlight.done.then(
        () => { fillError(response, i, new AliasTakenError(alias)) },
        () => this.#executeOne(response, i, OP_CREATE_ALIAS, url, alias, undefined)
      )
    }
    if (this.#getLink(alias) !== undefined) {
      fillError(response, i, new AliasTakenError(alias))
      return undefined
    }
    this.#queue(writes, i, alias, -1, { url, createdAt: Date.now(), kind: KIND_ALIAS }, undefined, alias)
    return undefined
  }

  #queue (writes: WriteSet, i: number, code: string, number: number, record: LinkRecord, indexKey: Buffer | undefined, inFlightKey: string): PendingLink {
    const link: PendingLink = { code, number, record, indexKey, inFlightKey, done: writes.done }
    writes.links.push(link)
    writes.indexes.push(i)
    this.#inFlightCodes.set(code, link)
    return link
  }

  /** Fills in a create for a URL already in flight once that write settles. */
  #answerAfter (link: PendingLink, response: BatchResponse, i: number): Promise<void> {
    return link.done.then(
      () => { fillLink(response, i, RESULT_EXISTED, link.code, link.record) },
      (error: unknown) => { fillError(response, i, error) }
    )
  }

  /** Runs one create once a lease is available (the current one ran out while planning). */
  #afterLease (response: BatchResponse, i: number, kind: OpKind, url: string, alias: string, key: Buffer | undefined): Promise<void> {
    return this.#sequence.ready().then(
      () => this.#executeOne(response, i, kind, url, alias, key),
      (error: unknown) => { fillError(response, i, toStoreError(error, this.id)) }
    )
  }

  async #executeOne (response: BatchResponse, i: number, kind: OpKind, url: string, alias: string, key: Buffer | undefined): Promise<void> {
    const urlKeys = new Uint8Array(URL_KEY_BYTES)
    if (key !== undefined) urlKeys.set(key)
    const single = await this.execute({ type: 'batch', kinds: [kind], args: [url], aliases: [alias], urlKeys })
    response.statuses[i] = single.statuses[0] as BatchResponse['statuses'][number]
    response.codes[i] = single.codes[0] as string
    response.urls[i] = single.urls[0] as string
    response.createdAt[i] = single.createdAt[0] as number
    response.errors[i] = single.errors[0]
  }

  /**
   * Looks a URL up in the `urls` index, confirming the stored URL so that a
   * digest collision cannot merge two URLs. Fills the response and returns
   * undefined when the URL exists; otherwise returns the index key to use.
   */
  #findByUrl (response: BatchResponse, i: number, url: string, key: Buffer, mapKey: string): Buffer | undefined {
    for (let probe = 0; probe < MAX_INDEX_PROBES; probe++) {
      const indexKey = probe === 0 ? key : indexKeyOf(url, probe)
      const code = this.#lookupCodeByUrlKey(indexKey, probe === 0 ? mapKey : indexKey.toString('latin1'))
      if (code === undefined) return indexKey
      const record = this.#getLink(code)
      // An entry whose link is not stored survives only a power loss (lmdb.ts), so the new link takes it over.
      if (record === undefined) return indexKey
      if (record.url === url) {
        fillLink(response, i, RESULT_EXISTED, code, record)
        return undefined
      }
    }
    fillError(response, i, new ShortenerError('STORE_FAILED', 503, `Shard ${this.id} found ${MAX_INDEX_PROBES} digest collisions for one URL`))
    return undefined
  }

  #lookupCodeByUrlKey (key: Buffer, mapKey: string): string | undefined {
    const unindexed = this.#unindexed.get(mapKey)
    if (unindexed !== undefined) return this.#codec.codeOfNumber(unindexed)
    return this.#store.getCodeByUrlKey(key)
  }

  /** Mints the code of `seq`, skipping numbers whose code an alias holds; undefined when the lease ran out. */
  #mintFreeCode (seq: number, slot: number): { code: string, number: number } | undefined {
    let next: number | undefined = seq
    while (next !== undefined) {
      const code = this.#codec.mint(next, slot)
      if (!this.#inFlightCodes.has(code) && !this.#store.hasAlias(code)) return { code, number: next * this.#slots + slot }
      next = this.#sequence.take()
    }
    return undefined
  }

  /** Writes every queued link in one transaction, with bounded retries, then waits for durability. */
  async #commit (writes: WriteSet, response: BatchResponse): Promise<void> {
    const store = this.#store
    const writeAll = (): Promise<unknown> => {
      let last: Promise<unknown> | undefined
      const commits: Array<Promise<unknown>> = []
      for (const link of writes.links) {
        const commit = store.putLink(link.code, link.record)
        // Writes of one turn share a transaction and usually one promise.
        if (commit !== last) commits.push(commit)
        last = commit
      }
      return Promise.all(commits)
    }

    try {
      // Retrying is safe: a failed commit stored none of its writes, and
      // rewriting the same values is idempotent.
      await retryWithBackoff(writeAll, this.#retry, isTransient, this.#onStoreRetry)
      // Committed links need their index entries even if the flush fails.
      this.#queueIndexEntries(writes)
      if (this.#durability === 'flush') await this.#flush()
      writes.links.forEach((link, n) => {
        fillLink(response, writes.indexes[n] as number, RESULT_CREATED, link.code, link.record)
      })
      writes.resolve()
    } catch (error) {
      const failure = toStoreError(await commitFailureCause(error), this.id, this.#isDiskFull?.() ?? false)
      this.#stats.storeErrors++
      this.#onStoreError?.(failure, writes.links.map((link) => link.code))
      for (const i of writes.indexes) fillError(response, i, failure)
      writes.reject(failure)
    } finally {
      for (const link of writes.links) this.#forget(link)
    }
  }

  #queueIndexEntries (writes: WriteSet): void {
    for (const link of writes.links) {
      if (link.indexKey === undefined) continue
      const mapKey = link.indexKey.toString('latin1')
      this.#unindexed.set(mapKey, link.number)
      this.#indexQueue.push({ urlKey: link.indexKey, number: link.number, mapKey })
    }
    this.#maybeWriteIndex()
  }

  /** Writes the index now when enough entries wait or the timer came due, else makes sure a timer will. */
  #maybeWriteIndex (): void {
    if (this.#indexDue || this.#indexQueue.length >= this.#indexBatchEntries) {
      void this.#writeIndex()
      return
    }
    this.#scheduleIndexWrite()
  }

  #scheduleIndexWrite (): void {
    if (this.#indexTimer !== undefined || this.#indexQueue.length === 0) return
    this.#indexTimer = setTimeout(() => {
      this.#indexTimer = undefined
      this.#indexDue = true
      void this.#writeIndex()
    }, this.#indexLagMs)
  }

  /**
   * Writes every queued index entry, one write at a time. A failed write
   * keeps its entries queued and in memory, and the next try waits a full
   * `indexLagMs` however many entries wait, so a failing store is not
   * retried in a loop.
   */
  async #writeIndex (): Promise<void> {
    if (this.#indexWrite !== undefined) return
    this.#indexDue = false
    if (this.#indexQueue.length === 0) return
    const batch = this.#indexQueue
    this.#indexQueue = []
    const through = this.#indexedThroughAfter(batch)
    let failed = false
    const write = this.#putIndexEntries(batch, through).then(
      () => {
        for (const entry of batch) this.#unindexed.delete(entry.mapKey)
        this.#indexedThrough = through
      },
      (error: unknown) => {
        failed = true
        this.#indexQueue = batch.concat(this.#indexQueue)
        this.#onIndexError?.(error, batch.length)
      }
    )
    this.#indexWrite = write
    await write
    this.#indexWrite = undefined
    if (this.#closing) return
    if (failed) {
      this.#indexDue = false
      this.#scheduleIndexWrite()
      return
    }
    this.#maybeWriteIndex()
  }

  /** Calls the store's write and returns a promise, even when the store throws at once. */
  async #putIndexEntries (batch: readonly QueuedIndexEntry[], through: number): Promise<unknown> {
    return await this.#store.putIndexEntries(batch, through)
  }

  /**
   * Returns the number up to which every generated link is indexed once `batch` is:
   * just below the lowest number still in flight, since numbers are minted
   * in increasing order. With nothing in flight, every committed link is in
   * `batch` or indexed before it.
   */
  #indexedThroughAfter (batch: readonly QueuedIndexEntry[]): number {
    let through = this.#indexedThrough
    for (const entry of batch) through = Math.max(through, entry.number)
    for (const link of this.#inFlightUrls.values()) through = Math.min(through, link.number - 1)
    return Math.max(through, this.#indexedThrough)
  }

  #forget (link: PendingLink): void {
    this.#inFlightCodes.delete(link.code)
    if (link.indexKey !== undefined) this.#inFlightUrls.delete(link.inFlightKey)
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

/** Returns the digest the front sent for operation `i`, or computes it when the front sent none. */
function urlKeyAt (request: BatchRequest, i: number, url: string): Buffer {
  const keys = request.urlKeys
  const key = Buffer.from(keys.buffer, keys.byteOffset + i * URL_KEY_BYTES, URL_KEY_BYTES)
  for (let b = 0; b < URL_KEY_BYTES; b++) {
    if (key[b] !== 0) return key
  }
  return urlKey(url)
}

function fillLink (response: BatchResponse, i: number, status: typeof RESULT_CREATED | typeof RESULT_EXISTED, code: string, record: LinkRecord): void {
  response.statuses[i] = status
  response.codes[i] = code
  response.urls[i] = record.url
  response.createdAt[i] = record.createdAt
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
