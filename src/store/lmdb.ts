/**
 * One LMDB environment per shard, file `shard-<n>.mdb` under the data
 * directory, with two databases: `links` (code → [url, createdAt, kind]) and
 * `urls` (first 16 bytes of SHA-256 of the normalized URL → code).
 *
 * lmdb-js batches every write of one event-loop turn into one transaction and,
 * with `overlappingSync` (its default on Linux), resolves a write at commit:
 * visible to readers, but only on disk once `flushed` resolves. The shard
 * decides which of the two it waits for (config `durability`).
 *
 * Threads of one process share one environment, so the front thread opens the
 * same file to read committed links without a thread hop; it never writes.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { open, type Database, type RootDatabase } from 'lmdb'
import type { LinkRecord, LinkStore } from './types.ts'

type StoredLink = [url: string, createdAt: number, kind: LinkRecord['kind']]

export interface LmdbStoreOptions {
  dataDir: string
  shard: number
  /** LMDB map size in bytes; 0 lets lmdb-js choose and grow it. */
  mapSizeBytes: number
}

export function shardStorePath (dataDir: string, shard: number): string {
  return join(dataDir, `shard-${shard}.mdb`)
}

export class LmdbLinkStore implements LinkStore {
  readonly path: string
  #root: RootDatabase
  #links: Database<StoredLink, string>
  #urls: Database<string, Uint8Array>

  constructor (options: LmdbStoreOptions) {
    this.path = shardStorePath(options.dataDir, options.shard)
    this.#root = open({
      path: this.path,
      maxDbs: 4,
      ...(options.mapSizeBytes > 0 ? { mapSize: options.mapSizeBytes } : {})
    })
    this.#links = this.#root.openDB<StoredLink, string>({ name: 'links' })
    this.#urls = this.#root.openDB<string, Uint8Array>({ name: 'urls', keyEncoding: 'binary', encoding: 'string' })
  }

  getLink (code: string): LinkRecord | undefined {
    const stored = this.#links.get(code)
    if (stored === undefined) return undefined
    return { url: stored[0], createdAt: stored[1], kind: stored[2] }
  }

  getUrl (code: string): string | undefined {
    return this.#links.get(code)?.[0]
  }

  getCodeByUrlKey (urlKey: Uint8Array): string | undefined {
    return this.#urls.get(urlKey)
  }

  putLink (code: string, record: LinkRecord, urlKey: Uint8Array | undefined): Promise<unknown> {
    const written = this.#links.put(code, [record.url, record.createdAt, record.kind])
    // lmdb-js puts these into the same transaction as the link: same turn.
    return urlKey === undefined ? written : this.#urls.put(urlKey, code)
  }

  async flushed (): Promise<void> {
    await this.#root.flushed
  }

  /** Every stored link, in code order; for offline tools such as reshard. */
  * links (): Generator<{ code: string, record: LinkRecord }> {
    for (const { key, value } of this.#links.getRange()) {
      yield { code: key, record: { url: value[0], createdAt: value[1], kind: value[2] } }
    }
  }

  /** Every `urls` index entry; for offline tools such as reshard. */
  * indexEntries (): Generator<{ urlKey: Uint8Array, code: string }> {
    for (const { key, value } of this.#urls.getRange()) yield { urlKey: key, code: value }
  }

  putIndexEntry (urlKey: Uint8Array, code: string): Promise<unknown> {
    return this.#urls.put(urlKey, code)
  }

  removeLink (code: string): Promise<unknown> {
    return this.#links.remove(code)
  }

  removeIndexEntry (urlKey: Uint8Array): Promise<unknown> {
    return this.#urls.remove(urlKey)
  }

  countLinks (): number {
    return this.#links.getCount()
  }

  sizeBytes (): number {
    try {
      return statSync(this.path).size
    } catch {
      return 0
    }
  }

  async close (): Promise<void> {
    await this.#root.flushed
    await this.#root.close()
  }
}
