import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { postJson, removeDir, startTestServer, type TestServer } from './helpers/server.ts'
import { request } from './helpers/api.ts'

/** A keep-alive HTTP/1.1 connection that sends raw text and reads responses as they come. */
class RawConnection {
  readonly #socket: Socket
  #received = ''
  #onData: (() => void) | undefined

  private constructor (socket: Socket) {
    this.#socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => {
      this.#received += text
      this.#onData?.()
    })
  }

  static async open (port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawConnection(socket)
  }

  write (text: string): void {
    this.#socket.write(text)
  }

  /** Resolves with everything received once it contains `marker`. */
  async waitFor (marker: string): Promise<string> {
    while (!this.#received.includes(marker)) {
      await new Promise<void>((resolve) => { this.#onData = resolve })
    }
    return this.#received
  }

  close (): void {
    this.#socket.destroy()
  }
}

describe('running server', () => {
  let server: TestServer

  before(async () => { server = await startTestServer() })
  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('healthz returns 200', async () => {
    const response = await request(`${server.url}/healthz`)

    assert.equal(response.status, 200)
    assert.deepEqual(response.body, { status: 'ok' })
  })

  test('readyz returns 200 when every shard answers', async () => {
    const response = await request(`${server.url}/readyz`)

    assert.equal(response.status, 200)
    assert.equal(response.body.status, 'ready')
    assert.equal(response.body.shards.length, server.config.shards)
    for (const shard of response.body.shards) assert.equal(shard.answering, true)
  })
})

test('readyz returns 503 while a shard breaker is open', async () => {
  const server = await startTestServer(
    { retry: { attempts: 1 }, breaker: { minCalls: 1, failureRatePercent: 50, openMs: 60_000 } },
    { storeWrapper: FAULTY_STORE_PATH })
  const faults = new StoreFaults(server.config.shards)
  try {
    await faults.set({ mode: 'throw', shards: [1] })
    const url = urlOfShard(server, 1)
    const failed = await postJson(`${server.url}/api/v1/links`, { url })
    assert.equal(failed.status, 503)

    const response = await request(`${server.url}/readyz`)
    const health = await request(`${server.url}/healthz`)

    assert.equal(response.status, 503)
    assert.equal(response.body.status, 'unavailable')
    assert.equal(response.body.shards[0].breaker, 'closed')
    assert.equal(response.body.shards[1].breaker, 'open')
    assert.equal(health.status, 200)
  } finally {
    faults.close()
    await server.close()
    removeDir(server.config.dataDir)
  }
})

test('readyz returns 503 while draining', { timeout: 30_000 }, async () => {
  const server = await startTestServer()
  const pending = await RawConnection.open(server.port)
  const probe = await RawConnection.open(server.port)
  // While draining, each connection is closed after its next response, so
  // the refused create needs a connection of its own, opened beforehand.
  const late = await RawConnection.open(server.port)
  try {
    // A create whose body is still arriving keeps the server draining instead of closed.
    const body = JSON.stringify({ url: 'https://example.com/drained' })
    pending.write(`POST /api/v1/links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    probe.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    await probe.waitFor('"status":"ok"')
    await waitUntil(() => server.front.inFlight === 1)

    const closed = server.close()
    probe.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n')
    const probeText = await probe.waitFor('draining')
    assert.match(probeText, /HTTP\/1\.1 503/)
    late.write(`POST /api/v1/links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
    const refusedText = await late.waitFor('SHUTTING_DOWN')
    assert.match(refusedText, /^HTTP\/1\.1 503/)

    pending.write(body.slice(10))
    const pendingText = await pending.waitFor('\r\n\r\n{')
    assert.match(pendingText, /^HTTP\/1\.1 201/)
    await closed
  } finally {
    pending.close()
    probe.close()
    late.close()
    await server.close()
    removeDir(server.config.dataDir)
  }
})

function urlOfShard (server: TestServer, shard: number): string {
  for (let i = 0; ; i++) {
    const url = `https://example.com/shard-${shard}/${i}`
    if (server.router.shardOfUrl(url) === shard) return url
  }
}

/** Polls a condition on each event-loop turn; the test's own timeout bounds it. */
async function waitUntil (condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve))
}
