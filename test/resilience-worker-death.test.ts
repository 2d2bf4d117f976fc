/**
 * A shard worker thread that dies (an injected `process.exit(1)` in its
 * store) is started again by piscina. Its in-flight requests get a 503 as
 * soon as it dies rather than after the shard timeout, the other shard
 * keeps serving, `/readyz` is 200 once it is back, and the new worker
 * serves the links stored before.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

// Long, so that a response that waited for it would show as SHARD_TIMEOUT.
const SHARD_TIMEOUT_MS = 20_000

let server: TestServer
let faults: StoreFaults
let urlCounter = 0

before(async () => {
  server = await startTestServer({ shard: { timeoutMs: SHARD_TIMEOUT_MS } }, { storeWrapper: FAULTY_STORE_PATH })
  faults = new StoreFaults(2)
})

after(async () => {
  faults.close()
  await server.close()
  removeDir(server.config.dataDir)
})

function urlsOnShard (shard: number, label: string, count: number): string[] {
  const urls: string[] = []
  while (urls.length < count) {
    const url = `https://example.com/death/${label}/${urlCounter++}`
    if (server.router.shardOfUrl(url) === shard) urls.push(url)
  }
  return urls
}

async function readyStatus (): Promise<number> {
  const response = await fetch(`${server.url}/readyz`)
  await response.arrayBuffer()
  return response.status
}

test('shard worker death is contained', async (t) => {
  const stored = await Promise.all([...urlsOnShard(0, 'before', 3), ...urlsOnShard(1, 'before', 3)].map(async (url) => {
    const created = await postJson(`${server.url}/api/v1/links`, { url })
    assert.equal(created.status, 201)
    return { code: created.body.code as string, url }
  }))

  await faults.set({ mode: 'exit', rate: 1, maxFaults: 1, shards: [0] })
  const dyingUrls = urlsOnShard(0, 'dying', 8)
  const otherUrls = urlsOnShard(1, 'other', 8)
  const [dying, other] = await Promise.all([
    Promise.all(dyingUrls.map(async (url) => await postJson(`${server.url}/api/v1/links`, { url }))),
    Promise.all(otherUrls.map(async (url) => await postJson(`${server.url}/api/v1/links`, { url })))
  ])

  // The creates that reached the worker before it died fail; later ones reach the new worker.
  const died: string[] = []
  dying.forEach((response, k) => {
    const url = dyingUrls[k] as string
    if (response.status === 201) {
      stored.push({ code: response.body.code, url })
      return
    }
    died.push(url)
    assert.equal(response.status, 503)
    assert.equal(response.body.code, 'SHARD_UNAVAILABLE', 'answered when the worker died, not at the shard timeout')
    assert.match(response.body.detail, /outcome of a write is unknown/)
    assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After is set')
  })
  t.diagnostic(`creates in flight when the worker died: ${died.length} of ${dyingUrls.length}`)
  assert.ok(died.length > 0, 'the worker died with creates in flight')
  for (const response of other) {
    assert.equal(response.status, 201, 'the other shard is unaffected')
  }

  const statuses: number[] = []
  for (let poll = 0; poll < 100; poll++) {
    const status = await readyStatus()
    statuses.push(status)
    if (status === 200) break
    await sleep(100)
  }
  t.diagnostic(`/readyz after the death: ${statuses.join(', ')}`)
  assert.equal(statuses.at(-1), 200, '/readyz is 200 once the worker is back')
  assert.equal(server.shards[0]?.restarts, 1)
  assert.equal(server.shards[1]?.restarts, 0)

  // The new worker serves the links stored before, through the shard itself.
  for (const { code, url } of stored) {
    const response = await fetch(`${server.url}/api/v1/links/${code}`)
    const body = await response.json() as { url: string }
    assert.equal(response.status, 200)
    assert.equal(body.url, url)
    assert.equal((await resolveCode(server.url, code)).location, url)
  }
  // The injected exit came before the store was touched, so the failed creates wrote nothing.
  for (const url of died) {
    const again = await postJson(`${server.url}/api/v1/links`, { url })
    assert.equal(again.status, 201)
    assert.equal(again.body.created, true)
  }
  assert.equal(server.breakers[0]?.state, 'closed', 'one failed message does not open the breaker')
})
