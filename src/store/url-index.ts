/**
 * Keys of the `urls` index, which maps a normalized target to the number of
 * its generated link so that creating the same URL twice returns one code.
 *
 * A URL's first key is its URL key, the digest the front already computed to
 * route it. Two different URLs that share that digest cannot share one entry,
 * so the second takes a digest salted with probe number 1, and so on. With
 * 128-bit digests even one collision is beyond practical reach; the probes
 * exist so that a collision could never merge two URLs.
 */
import { urlKey } from '../routing/router.ts'

// How many differently salted digests a URL may try before its create fails.
export const MAX_INDEX_PROBES = 4

/** Returns the index key of `url` at `probe`. Probe 0 gives its URL key. */
export function indexKeyOf (url: string, probe: number): Buffer {
  return probe === 0 ? urlKey(url) : urlKey(`${probe}\n${url}`)
}
