/**
 * Entry point of a shard worker thread (loaded by piscina). It opens the
 * shard's store and the shared meta store once, then runs every message the
 * front sends. The pool has exactly one thread per shard, so this module's
 * state is the actor's state.
 */
import { createRequire } from 'node:module'
import { workerData } from 'piscina'
import { createLogger, RateLimitedLog } from '../log.ts'
import { CodeCodec } from '../codec/code.ts'
import { LmdbLinkStore } from '../store/lmdb.ts'
import { MetaStore } from '../store/meta.ts'
import { isDiskNearlyFull } from './failures.ts'
import { Shard } from './shard.ts'
import type { LinkStore } from '../store/types.ts'
import type { BatchResponse, ShardRequest, ShardStats, ShardWorkerData, StoreWrapper } from './protocol.ts'

const data = workerData as ShardWorkerData
const logger = createLogger(data.logLevel, { shard: data.shard })
const errorLog = new RateLimitedLog(logger)

// lmdb-js 3.5 raises an unhandled rejection for a failed commit in addition
// to rejecting the write's own promise, which the shard already handles.
// Left alone, that second report would kill this thread.
process.on('unhandledRejection', (reason) => {
  errorLog.error('unhandled-rejection', { err: reason }, 'unhandled rejection in shard worker')
})

const meta = new MetaStore(data.dataDir)
const store = openStore()
const shard = new Shard({
  shard: data.shard,
  store,
  leaser: meta,
  permutationKey: data.permutationKey,
  slots: data.slots,
  durability: data.durability,
  cacheEntries: data.cacheEntries,
  leaseSize: data.leaseSize,
  indexBatchEntries: data.indexBatchEntries,
  indexLagMs: data.indexLagMs,
  retry: data.retry,
  onLease: (start, size) => { logger.info({ start, size }, 'range lease granted') },
  onStoreRetry: (error, attempt) => { errorLog.error('store-retry', { err: error, attempt }, 'store write failed, retrying') },
  isDiskFull: () => isDiskNearlyFull(data.dataDir),
  onIndexError: (error, entries) => {
    errorLog.error('index-error', { err: error, entries }, 'url index write failed, entries kept for the next try')
  },
  onStoreError: (error, codes) => {
    errorLog.error(`store-error:${error.code}`, { err: error.cause ?? error, errorCode: error.code, codes: codes.slice(0, 10), count: codes.length }, 'store operation failed')
  }
})

function openStore (): LinkStore {
  const codec = new CodeCodec({ key: data.permutationKey, slots: data.slots })
  const lmdb = new LmdbLinkStore({ dataDir: data.dataDir, shard: data.shard, codec, mapSizeBytes: data.mapSizeBytes })
  const rebuilt = lmdb.catchUpIndex()
  if (rebuilt > 0) logger.info({ entries: rebuilt }, 'rebuilt missing url index entries')
  if (data.storeWrapperPath === undefined) return lmdb
  // require(), not import(): inside worker threads the TypeScript loader
  // (tsx) serves require() only, and this keeps the module free of
  // top-level await, which piscina's require() of it would reject.
  const wrapper = createRequire(data.storeWrapperPath)(data.storeWrapperPath) as { default: StoreWrapper }
  return wrapper.default(lmdb, { shard: data.shard })
}

export default async function handle (request: ShardRequest): Promise<BatchResponse | ShardStats | true> {
  switch (request.type) {
    case 'batch':
      return await shard.execute(request)
    case 'ping':
      return true
    case 'stats':
      return shard.stats()
    case 'close':
      await shard.close()
      await meta.close()
      logger.flush()
      return true
  }
}

