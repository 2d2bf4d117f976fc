/**
 * A `LinkStore` wrapper whose `putLink` blocks the shard worker's thread
 * for BLOCK_MS when the target URL contains BLOCK_MARKER, as a hung native
 * call would. A server started with `{ storeWrapper: BLOCKING_STORE_PATH }`
 * loads it in every shard worker; every other write goes through unchanged.
 */
import { fileURLToPath } from 'node:url'
import type { LinkRecord, LinkStore } from '../../src/store/types.ts'

/** Pass as `storeWrapper` in the server options. */
export const BLOCKING_STORE_PATH = fileURLToPath(import.meta.url)

export const BLOCK_MARKER = '/block-shard-thread/'
export const BLOCK_MS = 4000

class BlockingStore implements LinkStore {
  #inner: LinkStore

  constructor (inner: LinkStore) {
    this.#inner = inner
  }

  getLink (code: string): LinkRecord | undefined {
    return this.#inner.getLink(code)
  }

  getUrl (code: string): string | undefined {
    return this.#inner.getUrl(code)
  }

  hasAlias (code: string): boolean {
    return this.#inner.hasAlias(code)
  }

  getCodeByUrlKey (urlKey: Uint8Array): string | undefined {
    return this.#inner.getCodeByUrlKey(urlKey)
  }

  putLink (code: string, record: LinkRecord, urlKey: Uint8Array | undefined): Promise<unknown> {
    if (record.url.includes(BLOCK_MARKER)) {
      // Busy-waits on purpose: the thread must not run its event loop.
      const until = Date.now() + BLOCK_MS
      while (Date.now() < until) { /* blocked */ }
    }
    return this.#inner.putLink(code, record, urlKey)
  }

  flushed (): Promise<void> {
    return this.#inner.flushed()
  }

  countLinks (): number {
    return this.#inner.countLinks()
  }

  sizeBytes (): number {
    return this.#inner.sizeBytes()
  }

  close (): Promise<void> {
    return this.#inner.close()
  }
}

export default function wrapStore (store: LinkStore): LinkStore {
  return new BlockingStore(store)
}
