/**
 * The front → shard round trip through the product's own ShardClient (a
 * piscina pool of one worker thread, `atomics: 'disabled'`): one lookup per
 * message against 256 lookups that the client folds into one message. The
 * per-operation difference is what batching per event-loop turn saves.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bench } from 'tinybench'
import { ShardBreaker } from '../../src/front/breaker.ts'
import { ShardClient } from '../../src/front/shard-client.ts'
import { createLogger } from '../../src/log.ts'
import { OP_GET } from '../../src/shard/protocol.ts'
import { MetaStore } from '../../src/store/meta.ts'
import { collect, type MicroResult } from './tasks.ts'

const BATCH = 256
const SLOTS = 4096

export async function benchShardRoundTrip (timeMs: number): Promise<MicroResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-micro-shard-'))
  const meta = new MetaStore(dataDir)
  const constants = meta.loadConstants({ slots: SLOTS, shards: 1 })
  await meta.close()

  const logger = createLogger('warn')
  const breaker = new ShardBreaker(0, { windowMs: 10_000, minCalls: 5, failureRatePercent: 50, openMs: 30_000, halfOpenCalls: 3, trialTimeoutMs: 10_000 })
  const client = new ShardClient({
    workerData: {
      shard: 0,
      dataDir,
      slots: SLOTS,
      permutationKey: constants.permutationKey,
      durability: 'commit',
      cacheEntries: 1000,
      leaseSize: 65_536,
      mapSizeBytes: 0,
      indexBatchEntries: 32_768,
      indexLagMs: 1000,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 500 },
      logLevel: 'warn'
    },
    maxQueuedOperations: 20_000,
    maxBatchOperations: 1024,
    timeoutMs: 10_000,
    breaker,
    logger
  })

  try {
    await client.ping(30_000)
    const bench = new Bench({ time: timeMs, warmupTime: Math.min(timeMs, 100) })
    bench
      .add('round trip, 1 lookup a message', async () => { await client.submit(OP_GET, 'aaaaaaa', '') })
      .add(`round trip, ${BATCH} lookups a message`, async () => {
        const pending: Array<Promise<unknown>> = []
        for (let i = 0; i < BATCH; i++) pending.push(client.submit(OP_GET, 'aaaaaaa', ''))
        await Promise.all(pending)
      })
    await bench.run()
    return collect('shard', bench, { [`round trip, ${BATCH} lookups a message`]: BATCH })
  } finally {
    await client.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
