/**
 * Micro benchmarks of the product's LMDB store (src/store/lmdb.ts, so the
 * open options are the product's own) on a temp dir: a read of a stored link,
 * writes awaited one at a time or queued 1000 to a transaction, and 1000
 * `urls` index entries (random keys) written in one transaction.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { CodeCodec } from '../../src/codec/code.ts'
import { LmdbLinkStore } from '../../src/store/lmdb.ts'
import { KIND_GENERATED } from '../../src/store/types.ts'
import { urlKey } from '../../src/routing/router.ts'
import { collect, type MicroResult } from './tasks.ts'

const STORED_LINKS = 100_000
const BATCH = 1000

export async function benchStore (timeMs: number): Promise<MicroResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-micro-lmdb-'))
  const codec = new CodeCodec({ key: randomBytes(32), slots: 4096 })
  const code = (n: number): string => codec.codeOfNumber(n)
  const store = new LmdbLinkStore({ dataDir, shard: 0, codec, mapSizeBytes: 0 })
  try {
    const writes: Array<Promise<unknown>> = []
    for (let n = 0; n < STORED_LINKS; n++) writes.push(put(store, code(n)))
    await Promise.all(writes)

    let n = 0
    let next = STORED_LINKS
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(timeMs, 100) })
    bench
      .add('get (getUrl, stored link)', () => { store.getUrl(code((n++ * 7919) % STORED_LINKS)) })
      .add('put, awaiting each commit', async () => { await put(store, code(next++)) })
      .add(`put ×${BATCH} in one transaction`, async () => {
        const batch: Array<Promise<unknown>> = []
        for (let j = 0; j < BATCH; j++) batch.push(put(store, code(next++)))
        await Promise.all(batch)
      })
      .add(`index entries ×${BATCH} in one transaction`, async () => {
        const entries = Array.from({ length: BATCH }, (_, j) => ({ urlKey: urlKey(`https://example.com/micro/index/${next + j}`), number: next + j }))
        next += BATCH
        await store.putIndexEntries(entries, next - 1)
      })
    await bench.run()
    return collect('lmdb', bench, { [`put ×${BATCH} in one transaction`]: BATCH, [`index entries ×${BATCH} in one transaction`]: BATCH })
  } finally {
    await store.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function put (store: LmdbLinkStore, code: string): Promise<unknown> {
  const url = `https://example.com/micro/${code}`
  return store.putLink(code, { url, createdAt: Date.now(), kind: KIND_GENERATED })
}
