/**
 * Load shedding. A shard whose queue is full gets its creates rejected with
 * 503 and Retry-After at once instead of queued. Under twice the load it
 * sustains, the service keeps responding and recovers when the load drops.
 * The load run is bounded in time, and no assertion here is about speed.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { postJson, removeDir, resolveCode, spawnServer, startTestServer, tempDataDir, type ChildServer } from './helpers/server.ts'

const MAX_QUEUED = 4
const LOAD_MAX_QUEUED = 64

let loadCounter = 0

interface LoadResult {
  durationSeconds: number
  statuses: Record<number, number>
  errors: number
  timeouts: number
  /** Problem codes of the 503 responses. */
  shedCodes: Set<string>
  shedWithoutRetryAfter: number
}

/** Runs autocannon against the create endpoint, each request with a fresh target URL. */
async function createLoad (origin: string, options: { connections: number, duration: number, overallRate?: number }): Promise<LoadResult> {
  const shedCodes = new Set<string>()
  let shedWithoutRetryAfter = 0
  const result = await autocannon({
    url: `${origin}/api/v1/links`,
    ...options,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ url: `https://example.com/load/${loadCounter++}` }) }),
      onResponse: (status, body, _context, headers) => {
        if (status !== 503) return
        shedCodes.add((JSON.parse(body) as { code: string }).code)
        const names = Object.keys(headers ?? {}).map((name) => name.toLowerCase())
        if (!names.includes('retry-after')) shedWithoutRetryAfter++
      }
    }]
  })
  const statuses: Record<number, number> = {}
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[Number(status)] = Number(count)
  return { durationSeconds: result.duration, statuses, errors: result.errors, timeouts: result.timeouts, shedCodes, shedWithoutRetryAfter }
}
const STALL_MS = 1500

describe('full shard queue', () => {
  test('answers 503 at once', async () => {
    const server = await startTestServer({ shard: { maxQueuedOperations: MAX_QUEUED } }, { storeWrapper: FAULTY_STORE_PATH })
    const faults = new StoreFaults(2)
    try {
      const existing = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/overload/existing' })
      assert.equal(existing.status, 201)

      let counter = 0
      const urlsOnShard = (shard: number, count: number): string[] => {
        const urls: string[] = []
        while (urls.length < count) {
          const url = `https://example.com/overload/${counter++}`
          if (server.router.shardOfUrl(url) === shard) urls.push(url)
        }
        return urls
      }

      // Stalled writes keep MAX_QUEUED operations in shard 0. Every write
      // stalls, so the held creates fill the queue however many messages
      // the front sends them in.
      await faults.set({ mode: 'stall', rate: 1, stallMs: STALL_MS, shards: [0] })
      let heldSettled = false
      const held = Promise.all(urlsOnShard(0, MAX_QUEUED).map(async (url) => await postJson(`${server.url}/api/v1/links`, { url })))
      held.finally(() => { heldSettled = true }).catch(() => {})
      for (let i = 0; i < 50 && (server.shards[0]?.outstanding ?? 0) < MAX_QUEUED; i++) await sleep(10)
      assert.equal(server.shards[0]?.outstanding, MAX_QUEUED, 'the queue of shard 0 is full')

      const shed = await Promise.all(urlsOnShard(0, 10).map(async (url) => await postJson(`${server.url}/api/v1/links`, { url })))
      assert.equal(heldSettled, false, 'the rejections came back while the queue was still full')
      for (const response of shed) {
        assert.equal(response.status, 503)
        assert.equal(response.body.code, 'SHARD_OVERLOADED')
        assert.equal(response.body.limit, MAX_QUEUED)
        assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After is set')
      }
      const otherShard = await postJson(`${server.url}/api/v1/links`, { url: urlsOnShard(1, 1)[0] })
      assert.equal(otherShard.status, 201, 'shard 1 still takes creates')
      assert.equal((await resolveCode(server.url, existing.body.code)).status, 302, 'redirects still work')

      for (const response of await held) assert.equal(response.status, 201)
      await faults.set({ mode: 'none' })
      const afterwards = await postJson(`${server.url}/api/v1/links`, { url: urlsOnShard(0, 1)[0] })
      assert.equal(afterwards.status, 201, 'shard 0 takes creates again once its queue drained')
    } finally {
      faults.close()
      await server.close()
      removeDir(server.config.dataDir)
    }
  })
})

describe('twice the sustainable load', () => {
  const dataDir = tempDataDir('shortener-overload-')
  let server: ChildServer | undefined

  after(async () => {
    if (server !== undefined && server.process.exitCode === null) {
      server.process.kill('SIGTERM')
      await server.exited
    }
    removeDir(dataDir)
  })

  test('keeps serving and recovers', { timeout: 60_000 }, async (t) => {
    // A separate process, so the load generator does not share the server's event loop.
    server = await spawnServer(['--data-dir', dataDir, '--shards', '2', '--shard.max-queued-operations', String(LOAD_MAX_QUEUED)])
    const origin = server.url

    const calibration = await createLoad(origin, { connections: 64, duration: 1 })
    const sustainedPerSecond = Math.round((calibration.statuses[201] ?? 0) / calibration.durationSeconds)
    assert.ok(sustainedPerSecond > 0, 'the calibration run created links')

    const overload = await createLoad(origin, { connections: 512, duration: 2, overallRate: 2 * sustainedPerSecond })
    const { 201: created = 0, 503: shed = 0, ...others } = overload.statuses
    t.diagnostic(`sustained ${sustainedPerSecond}/s with 64 connections; at ${2 * sustainedPerSecond}/s offered for 2 s: ` +
      `201 ${created}, 503 ${shed}, other ${JSON.stringify(others)}, errors ${overload.errors}, timeouts ${overload.timeouts}`)

    assert.deepEqual(others, {}, 'every create got a 201 or a 503')
    assert.equal(overload.errors, 0, 'no connection failed')
    assert.equal(overload.timeouts, 0, 'no request went unanswered for 10 s')
    assert.deepEqual([...overload.shedCodes], shed > 0 ? ['SHARD_OVERLOADED'] : [], 'load is shed as SHARD_OVERLOADED')
    assert.equal(overload.shedWithoutRetryAfter, 0, 'every 503 carries Retry-After')
    assert.ok(created > 0, 'the service kept creating links under overload')

    // Recovery: once the load is gone the service responds normally.
    const ready = await fetch(`${origin}/readyz`)
    await ready.arrayBuffer()
    assert.equal(ready.status, 200)
    const url = 'https://example.com/load/after'
    const afterwards = await postJson(`${origin}/api/v1/links`, { url })
    assert.equal(afterwards.status, 201)
    assert.equal((await resolveCode(origin, afterwards.body.code)).location, url)
  })
})
