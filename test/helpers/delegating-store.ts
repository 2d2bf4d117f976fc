/**
 * A `LinkStore` that forwards every call to another store. Test wrappers
 * extend it and override only the calls they change.
 */
import type { IndexEntry, LinkRecord, LinkStore } from '../../src/store/types.ts'

export class DelegatingStore implements LinkStore {
  protected readonly inner: LinkStore

  constructor (inner: LinkStore) {
    this.inner = inner
  }

  getLink (code: string): LinkRecord | undefined {
    return this.inner.getLink(code)
  }

  getUrl (code: string): string | undefined {
    return this.inner.getUrl(code)
  }

  hasAlias (code: string): boolean {
    return this.inner.hasAlias(code)
  }

  getCodeByUrlKey (urlKey: Uint8Array): string | undefined {
    return this.inner.getCodeByUrlKey(urlKey)
  }

  putLink (code: string, record: LinkRecord): Promise<unknown> {
    return this.inner.putLink(code, record)
  }

  putIndexEntries (entries: readonly IndexEntry[], indexedThrough: number): Promise<unknown> {
    return this.inner.putIndexEntries(entries, indexedThrough)
  }

  indexedThrough (): number {
    return this.inner.indexedThrough()
  }

  catchUpIndex (): number {
    return this.inner.catchUpIndex()
  }

  flushed (): Promise<void> {
    return this.inner.flushed()
  }

  countLinks (): number {
    return this.inner.countLinks()
  }

  sizeBytes (): number {
    return this.inner.sizeBytes()
  }

  close (): Promise<void> {
    return this.inner.close()
  }
}
