/**
 * Two LMDB environments per shard under the data directory. `shard-<n>.mdb`
 * contains the links:
 * - `links`: number `n` of a generated code → [url, createdAt, kind];
 * - `aliases`: alias → [url, createdAt, kind].
 * `shard-<n>-index.mdb` contains the URL index, which can be rebuilt from the
 * links:
 * - `urls`: index key of the normalized URL (url-index.ts) → `n`;
 * - `state`: `urlsIndexedThrough`, the number up to which every generated
 *   link has its `urls` entry.
 *
 * Generated links are keyed by their number, not their code. A shard mints
 * numbers in increasing order, so each new link is appended to the B-tree
 * instead of landing on a random page. On a 200,000-link store, appends
 * measured about 5 times the rate of random-key inserts in commits of 1000
 * (lmdb-js 3.5, this project's 2-core test machine). The code converts to
 * its number by the keyed permutation, which costs well under a microsecond.
 *
 * The `urls` index is the opposite case: its keys are digests, so every
 * insert lands on a random page, and LMDB copies and writes each page a
 * transaction touches. The shard therefore commits a link without its index
 * entry and writes the entries later, many per transaction. Inserting 500,000
 * random keys cost about 8.5 µs of CPU a key in transactions of 250 and about
 * 2.1 µs in transactions of 20,000 (same machine). Until its entry is
 * written, the shard finds a link through its own memory. After a crash,
 * `catchUpIndex` rebuilds the missing entries from the links numbered above
 * `urlsIndexedThrough`, which are the tail of the `links` database.
 *
 * The index has its own environment because a create under `durability:
 * flush` waits for every transaction committed before it to reach the disk.
 * In the links' environment, a create would wait behind the sync of an index
 * transaction of thousands of pages. On a 1M-link store, single creates at 64
 * connections measured 15,900/s with a p99 of 46 ms that way, and 21,600/s
 * with a p99 of 11 ms with the index apart. After a power loss the index may
 * contain an entry for a link that did not reach the disk. A lookup treats
 * such an entry as free, so the next create of that URL replaces it.
 *
 * lmdb-js batches every write of one event-loop turn into one transaction and,
 * with `overlappingSync` (its default on Linux), resolves a write at commit:
 * visible to readers, but only on disk once `flushed` resolves. The shard
 * decides which of the two it waits for (config `durability`).
 *
 * Threads of one process share one environment, so the front thread opens the
 * links' file to read committed links without a thread hop. It never writes,
 * and it never opens the index.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import type { CodeCodec } from '../codec/code.ts'
import { KIND_ALIAS, type IndexEntry, type LinkRecord, type LinkStore } from './types.ts'
import { indexKeyOf, MAX_INDEX_PROBES } from './url-index.ts'

type StoredLink = [url: string, createdAt: number, kind: LinkRecord['kind']]

const INDEXED_THROUGH_KEY = 'urlsIndexedThrough'
const CATCH_UP_LINKS_PER_TRANSACTION = 100_000

export interface LmdbStoreOptions {
  dataDir: string
  shard: number
  /** The deployment's codec, which maps generated codes to their numbers. */
  codec: CodeCodec
  /** LMDB map size in bytes; 0 lets lmdb-js choose and grow it. */
  mapSizeBytes: number
}

export function shardStorePath (dataDir: string, shard: number): string {
  return join(dataDir, `shard-${shard}.mdb`)
}

export function shardIndexPath (dataDir: string, shard: number): string {
  return join(dataDir, `shard-${shard}-index.mdb`)
}

/** The URL index's environment and its two databases. */
interface IndexDbs {
  root: RootDatabase
  urls: Database<number, Uint8Array>
  state: Database<number, string>
}

export class LmdbLinkStore implements LinkStore {
  readonly path: string
  readonly indexPath: string
  #codec: CodeCodec
  #mapSizeBytes: number
  #root: RootDatabase
  #links: Database<StoredLink, number>
  #aliases: Database<StoredLink, string>
  #index: IndexDbs | undefined

  constructor (options: LmdbStoreOptions) {
    this.path = shardStorePath(options.dataDir, options.shard)
    this.indexPath = shardIndexPath(options.dataDir, options.shard)
    this.#codec = options.codec
    this.#mapSizeBytes = options.mapSizeBytes
    this.#root = open({
      path: this.path,
      maxDbs: 4,
      ...(options.mapSizeBytes > 0 ? { mapSize: options.mapSizeBytes } : {})
    })
    this.#links = this.#root.openDB<StoredLink, number>({ name: 'links' })
    this.#aliases = this.#root.openDB<StoredLink, string>({ name: 'aliases' })
  }

  /** Opens the index on first use, so readers of links (the front) never open it. */
  #indexDbs (): IndexDbs {
    if (this.#index !== undefined) return this.#index
    const root = open({
      path: this.indexPath,
      maxDbs: 4,
      ...(this.#mapSizeBytes > 0 ? { mapSize: this.#mapSizeBytes } : {})
    })
    this.#index = {
      root,
      urls: root.openDB<number, Uint8Array>({ name: 'urls', keyEncoding: 'binary' }),
      state: root.openDB<number, string>({ name: 'state' })
    }
    return this.#index
  }

  getLink (code: string): LinkRecord | undefined {
    const stored = this.#get(code)
    if (stored === undefined) return undefined
    return { url: stored[0], createdAt: stored[1], kind: stored[2] }
  }

  getUrl (code: string): string | undefined {
    return this.#get(code)?.[0]
  }

  hasAlias (code: string): boolean {
    return this.#aliases.doesExist(code)
  }

  getCodeByUrlKey (urlKey: Uint8Array): string | undefined {
    const n = this.#indexDbs().urls.get(urlKey)
    return n === undefined ? undefined : this.#codec.codeOfNumber(n)
  }

  putLink (code: string, record: LinkRecord): Promise<unknown> {
    const stored: StoredLink = [record.url, record.createdAt, record.kind]
    if (record.kind === KIND_ALIAS) return this.#aliases.put(code, stored)
    return this.#links.put(this.#numberOf(code), stored)
  }

  async putIndexEntries (entries: readonly IndexEntry[], indexedThrough: number): Promise<void> {
    const { urls, state } = this.#indexDbs()
    const commits: Array<Promise<unknown>> = []
    let last: Promise<unknown> | undefined
    for (const entry of entries) {
      const commit = urls.put(entry.urlKey, entry.number)
      if (commit !== last) commits.push(commit)
      last = commit
    }
    // lmdb-js 3.5 may split one event-loop turn's writes over several
    // transactions, and one of them can fail while a later one commits. The
    // number is recorded only once every transaction with entries committed.
    await Promise.all(commits)
    await state.put(INDEXED_THROUGH_KEY, indexedThrough)
  }

  indexedThrough (): number {
    return this.#indexDbs().state.get(INDEXED_THROUGH_KEY) ?? -1
  }

  catchUpIndex (): number {
    let written = 0
    for (;;) {
      const pass = this.#catchUpPass()
      written += pass.written
      if (pass.scanned < CATCH_UP_LINKS_PER_TRANSACTION) return written
    }
  }

  /**
   * Indexes up to CATCH_UP_LINKS_PER_TRANSACTION links above the recorded
   * number in one transaction, so that rebuilding a whole index (a data
   * directory from before the index had its own file) never builds one
   * transaction the size of the store.
   */
  #catchUpPass (): { scanned: number, written: number } {
    const { root, state } = this.#indexDbs()
    const from = this.indexedThrough() + 1
    let scanned = 0
    let written = 0
    root.transactionSync(() => {
      let last = from - 1
      for (const { key, value } of this.#links.getRange({ start: from, limit: CATCH_UP_LINKS_PER_TRANSACTION })) {
        if (this.#indexSync(key, value[0])) written++
        last = key
        scanned++
      }
      if (last >= from) state.putSync(INDEXED_THROUGH_KEY, last)
    })
    return { scanned, written }
  }

  /**
   * Writes the index entry of link `n` unless the index already leads to it
   * or to another link of the same URL. An entry whose link is not stored
   * (a power loss kept the index's write but lost the link's) is replaced.
   */
  #indexSync (n: number, url: string): boolean {
    const { urls } = this.#indexDbs()
    for (let probe = 0; probe < MAX_INDEX_PROBES; probe++) {
      const key = indexKeyOf(url, probe)
      const indexed = urls.get(key)
      const holder = indexed === undefined ? undefined : this.#links.get(indexed)
      if (holder === undefined) {
        urls.putSync(key, n)
        return true
      }
      if (indexed === n || holder[0] === url) return false
    }
    // The shard fails a create whose every probe is taken, so no stored
    // link can end up here.
    return false
  }

  // A code that a number mints is looked up by that number first. An alias
  // spelled like such a code is the rare case, and it costs a second lookup.
  #get (code: string): StoredLink | undefined {
    const n = this.#codec.numberOfGeneratedCode(code)
    return (n < 0 ? undefined : this.#links.get(n)) ?? this.#aliases.get(code)
  }

  #numberOf (code: string): number {
    const n = this.#codec.numberOfGeneratedCode(code)
    if (n < 0) throw new RangeError(`${JSON.stringify(code)} is not a generated code`)
    return n
  }

  /** Resolves once every link written so far is on disk. Index writes are not waited for. */
  async flushed (): Promise<void> {
    await this.#root.flushed
  }

  /** Every stored link, generated ones first; for offline tools such as reshard. */
  * links (): Generator<{ code: string, record: LinkRecord }> {
    for (const { key, value } of this.#links.getRange()) {
      yield { code: this.#codec.codeOfNumber(key), record: { url: value[0], createdAt: value[1], kind: value[2] } }
    }
    for (const { key, value } of this.#aliases.getRange()) {
      yield { code: key, record: { url: value[0], createdAt: value[1], kind: value[2] } }
    }
  }

  /** Every `urls` index entry; for offline tools such as reshard. */
  * indexEntries (): Generator<{ urlKey: Uint8Array, code: string }> {
    for (const { key, value } of this.#indexDbs().urls.getRange()) yield { urlKey: key, code: this.#codec.codeOfNumber(value) }
  }

  putIndexEntry (urlKey: Uint8Array, code: string): Promise<unknown> {
    return this.#indexDbs().urls.put(urlKey, this.#numberOf(code))
  }

  removeLink (code: string): Promise<unknown> {
    const n = this.#codec.numberOfGeneratedCode(code)
    if (n >= 0 && this.#links.doesExist(n)) return this.#links.remove(n)
    return this.#aliases.remove(code)
  }

  removeIndexEntry (urlKey: Uint8Array): Promise<unknown> {
    return this.#indexDbs().urls.remove(urlKey)
  }

  countLinks (): number {
    return this.#links.getCount() + this.#aliases.getCount()
  }

  /** Bytes of the links' file and, once opened, the index's file. */
  sizeBytes (): number {
    return fileBytes(this.path) + (this.#index === undefined ? 0 : fileBytes(this.indexPath))
  }

  async close (): Promise<void> {
    await this.#root.flushed
    await this.#root.close()
    if (this.#index === undefined) return
    await this.#index.root.flushed
    await this.#index.root.close()
  }
}

function fileBytes (path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
