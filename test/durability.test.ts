import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, test } from 'node:test'
import { postJson, removeDir, resolveCode, spawnServer, tempDataDir, type ChildServer } from './helpers/server.ts'

/**
 * One data directory goes through the whole life of a deployment: an idle
 * create and a kill, concurrent creates and a kill, then a normal stop. Each
 * test restarts the service on the same directory and checks every link
 * acknowledged so far.
 */
const dataDir = tempDataDir()
const SERVER_ARGS = ['--data-dir', dataDir, '--shards', '2']
const TEST_TIMEOUT_MS = 60_000

/** Every link a server acknowledged with 200 or 201, by code. */
const acknowledged = new Map<string, string>()
let server: ChildServer | undefined

after(async () => {
  if (server !== undefined && server.process.exitCode === null) {
    server.process.kill('SIGKILL')
    await server.exited
  }
  removeDir(dataDir)
})

async function kill (): Promise<void> {
  const running = server as ChildServer
  running.process.kill('SIGKILL')
  assert.equal(await running.exited, 'SIGKILL')
}

async function createAcknowledged (body: { url: string, alias?: string }): Promise<void> {
  const response = await postJson(`${(server as ChildServer).url}/api/v1/links`, body)
  assert.ok(response.status === 201 || response.status === 200, JSON.stringify(response.body))
  acknowledged.set(response.body.code, response.body.url)
}

/** Checks that every acknowledged code redirects to its URL on the running server. */
async function assertAllResolve (): Promise<void> {
  const running = server as ChildServer
  const entries = [...acknowledged]
  for (let start = 0; start < entries.length; start += 50) {
    const chunk = entries.slice(start, start + 50)
    const locations = await Promise.all(chunk.map(async ([code]) => (await resolveCode(running.url, code)).location))
    for (const [i, [code, url]] of chunk.entries()) assert.equal(locations[i], url, `acknowledged ${code} was lost`)
  }
}

test('idle create survives SIGKILL', { timeout: TEST_TIMEOUT_MS }, async () => {
  server = await spawnServer(SERVER_ARGS)
  await createAcknowledged({ url: 'https://example.com/idle' })

  // No other traffic: the shard must commit and flush while otherwise idle.
  await sleep(300)
  await kill()

  server = await spawnServer(SERVER_ARGS)
  await assertAllResolve()
})

test('concurrent creates survive SIGKILL', { timeout: TEST_TIMEOUT_MS }, async () => {
  assert.ok(server !== undefined, 'needs the server of the previous test')
  const killAfterAcks = 150
  const clients = 8
  const maxCreatesPerClient = 100
  let acks = 0
  let killed: Promise<void> | undefined

  const client = async (id: number): Promise<void> => {
    for (let i = 0; i < maxCreatesPerClient && killed === undefined; i++) {
      const body = i % 10 === 0
        ? { url: `https://example.com/kill/${id}/${i}`, alias: `kill-${id}-${i}` }
        : { url: `https://example.com/kill/${id}/${i}` }
      let response
      try {
        response = await postJson(`${(server as ChildServer).url}/api/v1/links`, body)
      } catch {
        return
      }
      assert.ok(response.status === 201 || response.status === 200, JSON.stringify(response.body))
      acknowledged.set(response.body.code, response.body.url)
      acks++
      if (acks === killAfterAcks) killed = kill()
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)))
  killed ??= kill()
  await killed
  assert.ok(acks >= killAfterAcks, `only ${acks} creates were acknowledged`)

  server = await spawnServer(SERVER_ARGS)
  await assertAllResolve()
})

test('creates survive SIGTERM and restart', { timeout: TEST_TIMEOUT_MS }, async () => {
  assert.ok(server !== undefined, 'needs the server of the previous test')
  const urls = Array.from({ length: 30 }, (_, i) => `https://example.com/term/${i}`)
  await Promise.all(urls.map((url) => createAcknowledged({ url })))
  await createAcknowledged({ url: 'https://example.com/term/alias', alias: 'term-alias' })

  server.process.kill('SIGTERM')
  assert.equal(await server.exited, 0)

  server = await spawnServer(SERVER_ARGS)
  await assertAllResolve()

  const again = await postJson(`${server.url}/api/v1/links`, { url: urls[0] })
  assert.equal(again.status, 200, 'dedup index lost across restart')
  assert.equal(acknowledged.get(again.body.code), urls[0])

  const fresh = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/after-restart' })
  assert.equal(fresh.status, 201)
  assert.equal(acknowledged.has(fresh.body.code), false, `code ${fresh.body.code as string} was issued twice`)

  server.process.kill('SIGTERM')
  assert.equal(await server.exited, 0)
})
