/**
 * Maps a store failure to the error returned to the client. A full disk or a full
 * LMDB map becomes STORAGE_FULL (507); anything else from the store is
 * STORE_FAILED (503). In both cases the transaction was aborted, so nothing
 * of the write is stored.
 */
import { statfsSync } from 'node:fs'
import { ShortenerError, StorageFullError, StoreFailedError } from '../errors.ts'

export function isStorageFull (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOSPC' || code === 'MDB_MAP_FULL' ||
    /MDB_MAP_FULL|ENOSPC|No space left/i.test(error.message)
}

/**
 * Returns the cause of an lmdb-js commit failure. lmdb-js 3.5 rejects every
 * write of a failed transaction with a generic "Commit failed (see
 * commitError for details)". In the same callback it rejects the promise in
 * that error's `commitError` with the real error (such as ENOSPC), so the
 * promise has settled by the time a write's rejection is handled. Any other
 * error is returned as it is.
 */
export async function commitFailureCause (error: unknown): Promise<unknown> {
  const commitError = (error as { commitError?: unknown } | null)?.commitError
  if (!(commitError instanceof Promise)) return error
  // A macrotask bounds the wait in case a later lmdb-js settles it later.
  const notSettled = new Promise<unknown>((resolve) => { setImmediate(resolve, error) })
  return await Promise.race([commitError.then(() => error, (cause: unknown) => cause), notSettled])
}

/**
 * Tells whether the file system holding `dir` has less than `minFreeBytes`
 * available. LMDB reports a page write that the disk cut short as EIO, not
 * ENOSPC, so a failed write is put down to a full disk by this check.
 */
export function isDiskNearlyFull (dir: string, minFreeBytes = MIN_FREE_BYTES): boolean {
  try {
    const stats = statfsSync(dir)
    return stats.bavail * stats.bsize < minFreeBytes
  } catch {
    return false
  }
}

// NOTE: 1 MiB is a guess: a few LMDB pages plus headroom for a growing data file.
const MIN_FREE_BYTES = 1 << 20

/** Maps a store failure to the client's error; `diskFull` reports any failure as STORAGE_FULL. */
export function toStoreError (error: unknown, shard: number, diskFull = false): ShortenerError {
  if (error instanceof ShortenerError) return error
  if (diskFull || isStorageFull(error)) return new StorageFullError(shard, { cause: error })
  const reason = error instanceof Error ? error.message : String(error)
  return new StoreFailedError(shard, reason, { cause: error })
}
