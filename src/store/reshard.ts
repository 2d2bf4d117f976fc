/**
 * Changes the shard count of a stopped deployment by moving whole slots
 * between shard stores. Slot `s` lives in shard `s % shards`, so going from
 * N to M shards moves every link and URL index entry whose slot maps to a
 * different shard under M; nothing is rehashed and no code changes.
 *
 * The move is safe to interrupt and to run again:
 * 1. copy every misplaced entry into its new shard and flush;
 * 2. record the new shard count in the meta store (durably);
 * 3. delete the misplaced entries from their old shards and flush.
 * Before step 2 the old layout is complete and in use; after it the new one
 * is. A second run finds what an interrupted one left and finishes it.
 */
import { rmSync } from 'node:fs'
import { CodeCodec } from '../codec/code.ts'
import { Router } from '../routing/router.ts'
import { DataDirLock } from './data-dir-lock.ts'
import { LmdbLinkStore, shardIndexPath, shardStorePath } from './lmdb.ts'
import { MetaStore } from './meta.ts'

export interface ReshardOptions {
  dataDir: string
  shards: number
  /** Entries copied or deleted per transaction. */
  batchSize?: number
  onProgress?: (message: string) => void
}

export interface ReshardResult {
  fromShards: number
  toShards: number
  movedLinks: number
  movedIndexEntries: number
}

interface Move {
  from: number
  to: number
  kind: 'link' | 'index'
  code: string
  urlKey?: Uint8Array
}

export async function reshard (options: ReshardOptions): Promise<ReshardResult> {
  const batchSize = options.batchSize ?? 10_000
  const report = options.onProgress ?? (() => {})
  const lock = DataDirLock.acquire(options.dataDir)
  const meta = new MetaStore(options.dataDir)
  const stores: LmdbLinkStore[] = []
  try {
    const constants = meta.readConstants()
    if (constants === undefined) throw new Error(`${options.dataDir} contains no deployment (meta.mdb not found); start the service there first`)
    const codec = new CodeCodec({ key: constants.permutationKey, slots: constants.slots })
    const target = new Router({ codec, slots: constants.slots, shards: options.shards })
    const storeCount = Math.max(constants.shards, options.shards)
    for (let shard = 0; shard < storeCount; shard++) {
      stores.push(new LmdbLinkStore({ dataDir: options.dataDir, shard, codec, mapSizeBytes: 0 }))
    }
    // A service that crashed left its newest links out of the index, and the
    // moves below must see every entry.
    stores.forEach((store, shard) => {
      const rebuilt = store.catchUpIndex()
      if (rebuilt > 0) report(`rebuilt ${rebuilt} missing url index entries in shard ${shard}`)
    })

    const moves = findMisplaced(stores, target)
    report(`${moves.length} entries to move from ${constants.shards} to ${options.shards} shards`)
    if (moves.length === 0 && constants.shards === options.shards) {
      return { fromShards: constants.shards, toShards: options.shards, movedLinks: 0, movedIndexEntries: 0 }
    }

    for (let start = 0; start < moves.length; start += batchSize) {
      await copyEntries(stores, moves.slice(start, start + batchSize))
    }
    await Promise.all(stores.map((store) => store.flushed()))
    await meta.setShardCount(options.shards)
    report('new shard count recorded; removing moved entries from their old shards')

    for (let start = 0; start < moves.length; start += batchSize) {
      await removeEntries(stores, moves.slice(start, start + batchSize))
    }
    await Promise.all(stores.map((store) => store.flushed()))
    await removeEmptyStores(stores, options)

    return {
      fromShards: constants.shards,
      toShards: options.shards,
      movedLinks: moves.filter((move) => move.kind === 'link').length,
      movedIndexEntries: moves.filter((move) => move.kind === 'index').length
    }
  } finally {
    await Promise.allSettled(stores.map((store) => store.close()))
    await meta.close()
    lock.release()
  }
}

/**
 * Lists every entry stored in a shard other than the one the target layout
 * names for it. NOTE: the list is held in memory, about 200 bytes an entry, which
 * bounds the size of a deployment this command can reshard in one run.
 */
function findMisplaced (stores: readonly LmdbLinkStore[], target: Router): Move[] {
  const moves: Move[] = []
  stores.forEach((store, from) => {
    for (const { code } of store.links()) {
      const to = target.shardOfCode(code)
      if (to !== from) moves.push({ from, to, kind: 'link', code })
    }
    // An index entry belongs with the generated code it names: that code
    // was minted in the URL's slot.
    for (const { urlKey, code } of store.indexEntries()) {
      const to = target.shardOfCode(code)
      if (to !== from) moves.push({ from, to, kind: 'index', code, urlKey: Uint8Array.from(urlKey) })
    }
  })
  return moves
}

async function copyEntries (stores: readonly LmdbLinkStore[], moves: readonly Move[]): Promise<void> {
  const writes: Array<Promise<unknown>> = []
  for (const move of moves) {
    const source = stores[move.from] as LmdbLinkStore
    const destination = stores[move.to] as LmdbLinkStore
    if (move.kind === 'index') {
      writes.push(destination.putIndexEntry(move.urlKey as Uint8Array, move.code))
      continue
    }
    const record = source.getLink(move.code)
    if (record !== undefined) writes.push(destination.putLink(move.code, record))
  }
  await Promise.all(writes)
}

async function removeEntries (stores: readonly LmdbLinkStore[], moves: readonly Move[]): Promise<void> {
  const writes = moves.map((move) => {
    const source = stores[move.from] as LmdbLinkStore
    return move.kind === 'index' ? source.removeIndexEntry(move.urlKey as Uint8Array) : source.removeLink(move.code)
  })
  await Promise.all(writes)
}

/** Deletes the files of shards beyond the new count once they are empty. */
async function removeEmptyStores (stores: LmdbLinkStore[], options: ReshardOptions): Promise<void> {
  for (let shard = options.shards; shard < stores.length; shard++) {
    const store = stores[shard] as LmdbLinkStore
    if (store.countLinks() > 0 || !store.indexEntries().next().done) continue
    await store.close()
    for (const path of [shardStorePath(options.dataDir, shard), shardIndexPath(options.dataDir, shard)]) {
      rmSync(path, { force: true })
      rmSync(`${path}-lock`, { force: true })
    }
  }
}
