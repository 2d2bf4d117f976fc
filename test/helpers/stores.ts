/**
 * Opens the shard stores of a stopped deployment directly, so that tests can
 * check what the service left on disk.
 */
import assert from 'node:assert/strict'
import { CodeCodec } from '../../src/codec/code.ts'
import { LmdbLinkStore } from '../../src/store/lmdb.ts'
import { MetaStore } from '../../src/store/meta.ts'

/** Opens shards 0 to `shards - 1` of `dataDir`, runs `check` on them and closes them. */
export async function withDeploymentStores (dataDir: string, shards: number, check: (stores: LmdbLinkStore[]) => void): Promise<void> {
  const meta = new MetaStore(dataDir)
  const constants = meta.readConstants()
  await meta.close()
  assert.ok(constants !== undefined, `${dataDir} contains no deployment`)
  const codec = new CodeCodec({ key: constants.permutationKey, slots: constants.slots })
  const stores = Array.from({ length: shards }, (_, shard) => new LmdbLinkStore({ dataDir, shard, codec, mapSizeBytes: 0 }))
  try {
    check(stores)
  } finally {
    await Promise.all(stores.map((store) => store.close()))
  }
}
