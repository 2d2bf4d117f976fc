/**
 * Maps a store failure to the error the client sees. A full disk or a full
 * LMDB map becomes STORAGE_FULL (507); anything else from the store is
 * STORE_FAILED (503). In both cases the transaction was aborted, so nothing
 * of the write is stored.
 */
import { ShortenerError, StorageFullError, StoreFailedError } from '../errors.ts'

export function isStorageFull (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOSPC' || code === 'MDB_MAP_FULL' ||
    /MDB_MAP_FULL|ENOSPC|No space left/i.test(error.message)
}

export function toStoreError (error: unknown, shard: number): ShortenerError {
  if (error instanceof ShortenerError) return error
  if (isStorageFull(error)) return new StorageFullError(shard, { cause: error })
  const reason = error instanceof Error ? error.message : String(error)
  return new StoreFailedError(shard, reason, { cause: error })
}
