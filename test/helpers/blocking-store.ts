/**
 * A `LinkStore` wrapper whose `putLink` blocks the shard worker's thread
 * for BLOCK_MS when the target URL contains BLOCK_MARKER, as a hung native
 * call would. A server started with `{ storeWrapper: BLOCKING_STORE_PATH }`
 * loads it in every shard worker; every other write goes through unchanged.
 */
import { fileURLToPath } from 'node:url'
import type { LinkRecord, LinkStore } from '../../src/store/types.ts'
import { DelegatingStore } from './delegating-store.ts'

/** Pass as `storeWrapper` in the server options. */
export const BLOCKING_STORE_PATH = fileURLToPath(import.meta.url)

export const BLOCK_MARKER = '/block-shard-thread/'
export const BLOCK_MS = 4000

class BlockingStore extends DelegatingStore {
  override putLink (code: string, record: LinkRecord): Promise<unknown> {
    if (record.url.includes(BLOCK_MARKER)) {
      // Busy-waits on purpose: the thread must not run its event loop.
      const until = Date.now() + BLOCK_MS
      while (Date.now() < until) { /* blocked */ }
    }
    return this.inner.putLink(code, record)
  }
}

export default function wrapStore (store: LinkStore): LinkStore {
  return new BlockingStore(store)
}
