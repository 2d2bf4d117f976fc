/**
 * The link operations behind the API: validate on the front thread, route,
 * and hand the rest to the owning shard. Validation happens before anything
 * is queued, so bad input never reaches a store and is never half-written.
 */
import { BatchTooLargeError, InvalidBodyError, ShortenerError } from '../errors.ts'
import { validateAlias, type AliasRules } from '../links/alias.ts'
import { normalizeTarget, type TargetRules } from '../links/target.ts'
import { urlKey, type Router } from '../routing/router.ts'
import { OP_CREATE, OP_CREATE_ALIAS, OP_GET, RESULT_CREATED, RESULT_NOT_FOUND } from '../shard/protocol.ts'
import { LinkNotFoundError } from '../errors.ts'
import { MAX_CODE_LENGTH } from '../codec/code.ts'
import type { OpResult, ResultSink, ShardClient } from './shard-client.ts'

/** Characters of generated codes (base62) and aliases. */
const CODE_PATTERN = /^[A-Za-z0-9_-]+$/

export interface Link {
  code: string
  shortUrl: string
  url: string
  createdAt: string
}

export interface BatchItemError {
  error: { code: string, status: number, detail: string, value?: unknown, limit?: unknown }
}

export type BatchItem = (Link & { created: boolean }) | BatchItemError

export interface LinkServiceOptions {
  router: Router
  shards: readonly ShardClient[]
  baseUrl: string
  targetRules: TargetRules
  aliasRules: AliasRules
  maxBatchSize: number
}

export class LinkService {
  #router: Router
  #shards: readonly ShardClient[]
  #baseUrl: string
  #targetRules: TargetRules
  #aliasRules: AliasRules
  #maxBatchSize: number
  #lastTimeMs = Number.NaN
  #lastTimeIso = ''

  constructor (options: LinkServiceOptions) {
    this.#router = options.router
    this.#shards = options.shards
    this.#baseUrl = options.baseUrl
    this.#targetRules = options.targetRules
    this.#aliasRules = options.aliasRules
    this.#maxBatchSize = options.maxBatchSize
  }

  /**
   * Creates one link from a request body `{url, alias?}` and reports the
   * outcome to `sink` under index 0: a 400 error at once, before anything is
   * queued, or the shard's result later. A sink costs less than a promise on
   * this busiest API call.
   */
  create (body: unknown, sink: ResultSink): void {
    try {
      this.#queueCreate(body, sink, 0)
    } catch (error) {
      sink.onError(0, error as Error)
    }
  }

  /** Creates every link of `{links: [...]}`; one bad item yields an error entry, never a failed batch. */
  async createBatch (body: unknown): Promise<BatchItem[]> {
    const items = this.#batchItems(body)
    const collector = new BatchCollector(items.length, this)
    for (let i = 0; i < items.length; i++) {
      try {
        this.#queueCreate(items[i], collector, i)
      } catch (error) {
        collector.onError(i, error as Error)
      }
    }
    return await collector.done
  }

  async get (code: string): Promise<Link> {
    // A key that no link can have never goes to the shard: an over-long key
    // makes the LMDB read throw, which fails every operation in that message.
    if (!this.#isPossibleCode(code)) throw new LinkNotFoundError(code)
    const shard = this.#shards[this.#router.shardOfCode(code)] as ShardClient
    const result = await shard.submit(OP_GET, code, '')
    if (result.status === RESULT_NOT_FOUND) throw new LinkNotFoundError(code)
    return this.toLink(result)
  }

  shortUrl (code: string): string {
    return this.#baseUrl + code
  }

  /** Validates one create and queues it on its shard; throws the 400 errors. */
  #queueCreate (body: unknown, sink: ResultSink, index: number): void {
    const { url, alias } = this.#parseCreate(body)
    if (alias !== undefined) {
      const shard = this.#shards[this.#router.shardOfCode(alias)] as ShardClient
      shard.submitTo(sink, index, OP_CREATE_ALIAS, url, alias)
      return
    }
    // The digest routes the URL, and the shard reuses it as its index key.
    const key = urlKey(url)
    const shard = this.#shards[this.#router.shardOfSlot(this.#router.slotOfUrlKey(key))] as ShardClient
    shard.submitTo(sink, index, OP_CREATE, url, '', key)
  }

  #isPossibleCode (code: string): boolean {
    const maxLength = Math.max(MAX_CODE_LENGTH, this.#aliasRules.maxLength)
    return code.length > 0 && code.length <= maxLength && CODE_PATTERN.test(code)
  }

  #parseCreate (body: unknown): { url: string, alias: string | undefined } {
    if (!isPlainObject(body) || body.url === undefined) {
      throw new InvalidBodyError('Request body must be a JSON object with a "url" member', { value: describe(body, 'url') })
    }
    const url = normalizeTarget(body.url, this.#targetRules)
    const alias = body.alias === undefined || body.alias === null ? undefined : validateAlias(body.alias, this.#aliasRules)
    return { url, alias }
  }

  #batchItems (body: unknown): unknown[] {
    if (!isPlainObject(body) || !Array.isArray(body.links)) {
      throw new InvalidBodyError('Request body must be a JSON object with a "links" array', { value: describe(body, 'links') })
    }
    if (body.links.length > this.#maxBatchSize) throw new BatchTooLargeError(body.links.length, this.#maxBatchSize)
    return body.links
  }

  /** The link as the API returns it. */
  toLink (result: OpResult): Link {
    return {
      code: result.code,
      shortUrl: this.#baseUrl + result.code,
      url: result.url,
      createdAt: this.#isoTime(result.createdAt)
    }
  }

  /** The link with its `created` flag, as a create returns it and as a batch result item. */
  toBatchItem (result: OpResult): Link & { created: boolean } {
    return {
      code: result.code,
      shortUrl: this.#baseUrl + result.code,
      url: result.url,
      createdAt: this.#isoTime(result.createdAt),
      created: result.status === RESULT_CREATED
    }
  }

  // The links of one commit share their creation millisecond, so the last
  // formatted time is nearly always the one asked for next.
  #isoTime (ms: number): string {
    if (ms !== this.#lastTimeMs) {
      this.#lastTimeMs = ms
      this.#lastTimeIso = new Date(ms).toISOString()
    }
    return this.#lastTimeIso
  }
}

/** Collects the outcomes of one API batch in input order and resolves when all are in. */
class BatchCollector implements ResultSink {
  readonly done: Promise<BatchItem[]>
  #items: BatchItem[]
  #missing: number
  #links: LinkService
  #resolve!: (items: BatchItem[]) => void

  constructor (count: number, links: LinkService) {
    this.#items = new Array(count)
    this.#missing = count
    this.#links = links
    this.done = new Promise((resolve) => { this.#resolve = resolve })
    if (count === 0) this.#resolve(this.#items)
  }

  onResult (index: number, result: OpResult): void {
    this.#settle(index, this.#links.toBatchItem(result))
  }

  onError (index: number, error: Error): void {
    this.#settle(index, toBatchError(error))
  }

  #settle (index: number, item: BatchItem): void {
    this.#items[index] = item
    if (--this.#missing === 0) this.#resolve(this.#items)
  }
}

function toBatchError (error: unknown): BatchItemError {
  const problem = error instanceof ShortenerError
    ? error
    : new ShortenerError('INTERNAL_ERROR', 500, 'The service failed to create this link; the error is logged')
  const entry: BatchItemError['error'] = { code: problem.code, status: problem.status, detail: problem.message }
  const { value, limit } = problem.toProblem()
  if (value !== undefined) entry.value = value
  if (limit !== undefined) entry.limit = limit
  return { error: entry }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Describes a body that lacks the expected `member` (`url` for a create, `links` for a batch), for the error's `value`. */
function describe (value: unknown, member: 'url' | 'links'): string {
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (isPlainObject(value)) {
    if (value[member] === undefined) return `an object without "${member}"`
    return `an object whose "${member}" is not an array`
  }
  return typeof value
}
