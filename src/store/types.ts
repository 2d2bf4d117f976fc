/**
 * The record a shard stores per link, and the interface a shard's store
 * offers. The shard worker is the only writer of its store (the actor rule);
 * the front thread may read committed data through the same interface.
 */

export const KIND_GENERATED = 0
export const KIND_ALIAS = 1

export interface LinkRecord {
  /** Normalized target, exactly as `Location` will carry it. */
  url: string
  /** Creation time, milliseconds since the epoch. */
  createdAt: number
  kind: typeof KIND_GENERATED | typeof KIND_ALIAS
}

/** A `urls` index entry: the index key of a target and the number of its generated link. */
export interface IndexEntry {
  urlKey: Uint8Array
  number: number
}

export interface LinkStore {
  getLink (code: string): LinkRecord | undefined
  /** Target URL of a code, or undefined; the redirect path calls this. */
  getUrl (code: string): string | undefined
  /** Whether an alias with exactly this spelling exists. */
  hasAlias (code: string): boolean
  /** Code stored for a normalized URL's digest, or undefined. */
  getCodeByUrlKey (urlKey: Uint8Array): string | undefined
  /**
   * Queues a link. Every write queued in one event-loop turn commits in one
   * transaction. The promise resolves when that transaction committed. It
   * rejects when the transaction failed, and then none of its writes is
   * stored. The caller (the shard actor) has checked that the code is free.
   * A generated link's `urls` index entry is written later, by `putIndexEntries`.
   */
  putLink (code: string, record: LinkRecord): Promise<unknown>
  /**
   * Queues `urls` index entries of generated links already committed. Once
   * they committed, records that every generated link numbered up to
   * `indexedThrough` has its entry.
   */
  putIndexEntries (entries: readonly IndexEntry[], indexedThrough: number): Promise<unknown>
  /** The number recorded by the last `putIndexEntries` or `catchUpIndex`, or -1 before any. */
  indexedThrough (): number
  /**
   * Writes the index entries missing for generated links numbered above
   * `indexedThrough()`, the ones a crash or an older data directory left
   * unindexed, and returns how many it wrote. Only the store's writer calls
   * it, before it takes writes.
   */
  catchUpIndex (): number
  /** Resolves once every write committed so far is on disk. */
  flushed (): Promise<void>
  /** Number of links stored. */
  countLinks (): number
  /** Bytes the store occupies on disk, as far as the store can tell. */
  sizeBytes (): number
  close (): Promise<void>
}
