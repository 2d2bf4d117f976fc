/**
 * Store faults injected into the real shard workers (see
 * helpers/faulty-store.ts). A create either is acknowledged and readable,
 * or gets a 5xx and is not stored. Transient failures are retried a bounded
 * number of times, and nothing else is. A create that times out gets a
 * response saying its outcome is unknown. The service recovers once the
 * faults stop.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FAULTY_STORE_PATH, StoreFaults, seededRandom, type StoreCounters } from './helpers/faulty-store.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

const SEED = Number(process.env.FAULT_SEED ?? 7)
const SHARD_TIMEOUT_MS = 1000
const STALL_MS = 2500
const BREAKER = { openMs: 300, trialTimeoutMs: 1000 }
const RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }

let urlCounter = 0

/** Returns a fresh target URL that routes to `shard`. */
function urlOnShard (server: TestServer, shard: number, label: string): string {
  for (;;) {
    const url = `https://example.com/faults/${label}/${urlCounter++}`
    if (server.router.shardOfUrl(url) === shard) return url
  }
}

function sum (counters: StoreCounters[], key: 'puts' | 'faults' | 'getLinks'): number {
  return counters.reduce((total, shard) => total + shard[key], 0)
}

/** Creates fresh links until one is acknowledged, so a breaker opened by earlier faults has closed again. */
async function waitUntilCreatesSucceed (server: TestServer): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const results = await Promise.all([0, 1].map(async (shard) => {
      const created = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, shard, 'probe') })
      return created.status === 201
    }))
    if (results.every(Boolean)) return
    await sleep(100)
  }
  assert.fail('creates still fail 10 s after the faults stopped')
}

describe('store faults with flush durability', () => {
  let server: TestServer
  let faults: StoreFaults

  before(async () => {
    server = await startTestServer(
      { durability: 'flush', shard: { timeoutMs: SHARD_TIMEOUT_MS }, breaker: BREAKER, retry: RETRY },
      { storeWrapper: FAULTY_STORE_PATH })
    faults = new StoreFaults(2)
  })

  after(async () => {
    await faults.set({ mode: 'none' })
    faults.close()
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('faulty commits end acknowledged or 5xx', async (t) => {
    await faults.set({ mode: 'throw', rate: 0.3, seed: SEED })
    const random = seededRandom(SEED)
    const acknowledged = new Map<string, string>()
    const failed: string[] = []
    const unexpected: string[] = []

    const client = async (client: number): Promise<void> => {
      for (let request = 0; request < 12; request++) {
        const size = random() < 0.6 ? 1 : 2 + Math.floor(random() * 5)
        const urls = Array.from({ length: size }, (_, k) => `https://example.com/faults/mixed/${client}/${request}/${k}`)
        if (size === 1) {
          const url = urls[0] as string
          const created = await postJson(`${server.url}/api/v1/links`, { url })
          if (created.status === 201) acknowledged.set(created.body.code, url)
          else if (created.status >= 500) failed.push(url)
          else unexpected.push(`${url}: ${created.status} ${JSON.stringify(created.body)}`)
          continue
        }
        const batch = await postJson(`${server.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
        if (batch.status !== 200) {
          unexpected.push(`batch: ${batch.status} ${JSON.stringify(batch.body)}`)
          continue
        }
        batch.body.results.forEach((item: any, k: number) => {
          const url = urls[k] as string
          if (item.created === true) acknowledged.set(item.code, url)
          else if (item.error?.status >= 500) failed.push(url)
          else unexpected.push(`${url}: ${JSON.stringify(item)}`)
        })
      }
    }
    await Promise.all(Array.from({ length: 6 }, (_, n) => client(n)))
    const counters = await faults.set({ mode: 'none' })
    t.diagnostic(`seed ${SEED}: acknowledged ${acknowledged.size}, failed ${failed.length}, faulted commits ${sum(counters, 'faults')}`)

    assert.deepEqual(unexpected, [], 'every create ends acknowledged or with a 5xx')
    assert.ok(sum(counters, 'faults') > 0, 'the plan injected faults')
    assert.ok(failed.length > 0, 'some creates failed')
    assert.ok(acknowledged.size > 0, 'some creates were acknowledged')

    await waitUntilCreatesSucceed(server)
    for (const [code, url] of acknowledged) {
      const resolved = await resolveCode(server.url, code)
      assert.equal(resolved.status, 302, `acknowledged code ${code} resolves`)
      assert.equal(resolved.location, url)
    }
    // A failed create stored nothing: creating its URL again makes a new link.
    for (const url of failed) {
      const again = await postJson(`${server.url}/api/v1/links`, { url })
      assert.equal(again.status, 201, `${url} failed with a 5xx, so it must not be stored`)
      assert.equal(again.body.created, true)
    }
    assert.deepEqual(server.shards.map((shard) => shard.restarts), [0, 0], 'no shard worker died')
  })

  test('retries a failed commit until it succeeds', async () => {
    const url = urlOnShard(server, 0, 'retry')
    const before = await faults.set({ mode: 'throw', rate: 1, maxFaults: RETRY.attempts - 1, shards: [0] })
    const created = await postJson(`${server.url}/api/v1/links`, { url })
    const afterwards = await faults.set({ mode: 'none' })

    assert.equal(created.status, 201)
    assert.equal(sum(afterwards, 'faults') - sum(before, 'faults'), RETRY.attempts - 1)
    assert.equal(sum(afterwards, 'puts') - sum(before, 'puts'), RETRY.attempts, 'one put per attempt')
    assert.equal((await resolveCode(server.url, created.body.code)).location, url)
  })

  test('gives up after the configured attempts', async () => {
    const url = urlOnShard(server, 1, 'give-up')
    const before = await faults.set({ mode: 'throw', rate: 1, maxFaults: RETRY.attempts, shards: [1] })
    const failed = await postJson(`${server.url}/api/v1/links`, { url })
    const afterwards = await faults.set({ mode: 'none' })

    assert.equal(failed.status, 503)
    assert.equal(failed.body.code, 'STORE_FAILED')
    assert.ok(Number(failed.headers.get('retry-after')) >= 1, 'Retry-After is set')
    assert.equal(sum(afterwards, 'puts') - sum(before, 'puts'), RETRY.attempts, 'exactly the configured attempts')

    const again = await postJson(`${server.url}/api/v1/links`, { url })
    assert.equal(again.status, 201)
    assert.equal(again.body.created, true, 'the failed create stored nothing')
  })

  test('full disk answers 507 with Retry-After', async () => {
    const existing = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, 0, 'before-full') })
    assert.equal(existing.status, 201)
    await faults.set({ mode: 'full', rate: 1, shards: [0] })
    const full = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, 0, 'full') })
    const resolved = await resolveCode(server.url, existing.body.code)
    await faults.set({ mode: 'none' })

    assert.equal(full.status, 507)
    assert.equal(full.body.code, 'STORAGE_FULL')
    assert.ok(Number(full.headers.get('retry-after')) >= 1, 'Retry-After is set')
    assert.equal(resolved.status, 302, 'redirects keep working while writes fail')
  })

  test('never retries what fails before the store', async () => {
    const base = await faults.counters()

    const invalid = await postJson(`${server.url}/api/v1/links`, { url: 'ftp://example.com/file' })
    assert.equal(invalid.status, 400)
    const reserved = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/r', alias: 'api' })
    assert.equal(reserved.status, 400)
    const notFound = await fetch(`${server.url}/api/v1/links/NoSuchCode1`)
    await notFound.arrayBuffer()
    assert.equal(notFound.status, 404)
    const afterNotFound = await faults.counters()
    assert.equal(sum(afterNotFound, 'puts'), sum(base, 'puts'), 'no put for invalid input or a lookup')
    assert.equal(sum(afterNotFound, 'getLinks') - sum(base, 'getLinks'), 1, 'the not-found lookup read the store once')

    const alias = `taken-${SEED}`
    assert.equal((await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/a1', alias })).status, 201)
    const taken = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/a2', alias })
    assert.equal(taken.status, 409)
    const afterAlias = await faults.counters()
    // A worker restart resets its counters, so the message names the restarts.
    const restarts = server.shards.map((shard) => shard.restarts).join(', ')
    assert.equal(sum(afterAlias, 'puts') - sum(afterNotFound, 'puts'), 1, `only the first alias create was written (worker restarts per shard: ${restarts})`)
  })

  test('never retries a breaker rejection', async () => {
    await faults.set({ mode: 'throw', rate: 1, shards: [0] })
    // Successes of earlier tests are still in the 10 s window, so it may take more than 5 failures.
    for (let call = 0; call < 40 && server.breakers[0]?.state !== 'open'; call++) {
      const failed = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, 0, 'open') })
      assert.equal(failed.status, 503)
    }
    assert.equal(server.breakers[0]?.state, 'open')

    const before = await faults.counters()
    const rejected = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, 0, 'rejected') })
    const afterwards = await faults.set({ mode: 'none' })
    assert.equal(rejected.status, 503)
    assert.equal(rejected.body.code, 'SHARD_UNAVAILABLE')
    assert.ok(Number(rejected.headers.get('retry-after')) >= 1, 'Retry-After is set')
    assert.equal(sum(afterwards, 'puts'), sum(before, 'puts'), 'an open breaker does not call the shard')

    await waitUntilCreatesSucceed(server)
    for (let trial = 0; trial < 3; trial++) {
      const created = await postJson(`${server.url}/api/v1/links`, { url: urlOnShard(server, 0, 'trial') })
      assert.equal(created.status, 201)
    }
    assert.equal(server.breakers[0]?.state, 'closed', 'good trials closed the breaker')
  })

  test('timed-out create is answered as unknown', async () => {
    const url = urlOnShard(server, 1, 'stall')
    await faults.set({ mode: 'stall', rate: 1, maxFaults: 1, stallMs: STALL_MS, shards: [1] })
    const timedOut = await postJson(`${server.url}/api/v1/links`, { url })

    assert.equal(timedOut.status, 503)
    assert.equal(timedOut.body.code, 'SHARD_TIMEOUT')
    assert.match(timedOut.body.detail, /outcome of a write is unknown/)
    assert.ok(Number(timedOut.headers.get('retry-after')) >= 1, 'Retry-After is set')

    // The stalled write lands later: the outcome was indeed unknown.
    await sleep(STALL_MS)
    const again = await postJson(`${server.url}/api/v1/links`, { url })
    assert.equal(again.status, 200)
    assert.equal(again.body.created, false, 'the timed-out create was stored after all')
  })

  test('flush durability waits for the flush', async () => {
    const url = urlOnShard(server, 0, 'slow-flush')
    await faults.set({ mode: 'stall-flush', stallMs: STALL_MS, shards: [0] })
    const created = await postJson(`${server.url}/api/v1/links`, { url })
    await faults.set({ mode: 'none' })

    assert.equal(created.status, 503, 'no acknowledgement before the data is flushed')
    assert.equal(created.body.code, 'SHARD_TIMEOUT')
    await sleep(STALL_MS)
  })
})

describe('store faults with commit durability', () => {
  let server: TestServer
  let faults: StoreFaults

  before(async () => {
    server = await startTestServer(
      { durability: 'commit', shard: { timeoutMs: SHARD_TIMEOUT_MS }, breaker: BREAKER, retry: RETRY },
      { storeWrapper: FAULTY_STORE_PATH })
    faults = new StoreFaults(2)
  })

  after(async () => {
    faults.close()
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('commit durability does not wait for the flush', async () => {
    const url = urlOnShard(server, 0, 'commit')
    await faults.set({ mode: 'stall-flush', stallMs: STALL_MS, shards: [0] })
    const created = await postJson(`${server.url}/api/v1/links`, { url })
    await faults.set({ mode: 'none' })

    assert.equal(created.status, 201, 'acknowledged at commit although flushes stall')
    assert.equal((await resolveCode(server.url, created.body.code)).location, url)
  })
})
