/**
 * The breaker through the real server: client mistakes and client aborts
 * are results of a healthy shard, so however many there are, no breaker
 * opens. (The policy itself is tested on fake timers in breaker.test.ts.)
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { postJson, removeDir, startTestServer, type TestServer } from './helpers/server.ts'

const STALL_MS = 300

let server: TestServer
let faults: StoreFaults
const transitions: string[] = []

before(async () => {
  server = await startTestServer({}, {
    storeWrapper: FAULTY_STORE_PATH,
    onBreakerChange: (shard, state) => { transitions.push(`shard ${shard} ${state}`) }
  })
  faults = new StoreFaults(2)
})

after(async () => {
  faults.close()
  await server.close()
  removeDir(server.config.dataDir)
})

test('not-found lookups leave breakers closed', async () => {
  // Sequential, so that each lookup is its own message and its own breaker call.
  for (let i = 0; i < 40; i++) {
    const response = await fetch(`${server.url}/api/v1/links/Missing${i}`)
    await response.arrayBuffer()
    assert.equal(response.status, 404)
  }
  assert.deepEqual(transitions, [])
  assert.deepEqual(server.breakers.map((breaker) => breaker.state), ['closed', 'closed'])
})

test('invalid creates leave breakers closed', async () => {
  for (let i = 0; i < 20; i++) {
    const invalid = await postJson(`${server.url}/api/v1/links`, { url: `javascript:alert(${i})` })
    assert.equal(invalid.status, 400)
  }
  const alias = 'breaker-alias'
  assert.equal((await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/b0', alias })).status, 201)
  for (let i = 0; i < 20; i++) {
    const taken = await postJson(`${server.url}/api/v1/links`, { url: `https://example.com/b${i + 1}`, alias })
    assert.equal(taken.status, 409)
  }
  assert.deepEqual(transitions, [])
  assert.deepEqual(server.breakers.map((breaker) => breaker.state), ['closed', 'closed'])
})

test('client aborts leave breakers closed', async () => {
  // Stalled writes keep each create in flight until the client has gone.
  await faults.set({ mode: 'stall', rate: 1, stallMs: STALL_MS })
  const aborted = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
    const controller = new AbortController()
    const response = fetch(`${server.url}/api/v1/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `https://example.com/aborted/${i}` }),
      signal: controller.signal
    })
    await sleep(STALL_MS / 3)
    controller.abort()
    try {
      await response
      return false
    } catch {
      return true
    }
  }))
  await sleep(STALL_MS * 2)
  await faults.set({ mode: 'none' })

  assert.ok(aborted.every(Boolean), 'every request was aborted before its response')
  assert.deepEqual(transitions, [])
  assert.deepEqual(server.breakers.map((breaker) => breaker.state), ['closed', 'closed'])
  const created = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/after-aborts' })
  assert.equal(created.status, 201, 'the server still serves after the aborts')
})
