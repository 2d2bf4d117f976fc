import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { Writable } from 'node:stream'
import pino from 'pino'
import { ConfigError, loadConfig } from '../src/config/load.ts'
import { ClientAddress, keyOfAddress, trustedList } from '../src/front/client-address.ts'
import { TokenBuckets } from '../src/front/token-bucket.ts'
import { assertProblem, request, type ApiResponse } from './helpers/api.ts'
import { removeDir, startTestServer, type TestServer } from './helpers/server.ts'

/** Returns a millisecond clock that only moves when the test advances it. */
function manualClock (): { now: () => number, advance: (ms: number) => void } {
  let time = 1_000
  return { now: () => time, advance: (ms) => { time += ms } }
}

describe('TokenBuckets', () => {
  test('allows the burst, then rejects', () => {
    const clock = manualClock()
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, maxClients: 10, now: clock.now })

    assert.equal(buckets.take('a'), 0)
    assert.equal(buckets.take('a'), 0)
    assert.equal(buckets.take('a'), 0)
    assert.equal(buckets.remaining('a'), 0)
    const waitMs = buckets.take('a')
    assert.ok(Math.abs(waitMs - 500) < 1e-6, `one token takes 500 ms at 2/s, received ${waitMs}`)
  })

  test('refills at the configured rate', () => {
    const clock = manualClock()
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, maxClients: 10, now: clock.now })
    for (let i = 0; i < 3; i++) assert.equal(buckets.take('a'), 0)

    clock.advance(499)
    assert.ok(buckets.take('a') > 0, 'no whole token after 499 ms')
    clock.advance(1)
    assert.equal(buckets.take('a'), 0, 'one token after 500 ms')
    assert.ok(buckets.take('a') > 0, 'that token is spent')

    clock.advance(10_000)
    assert.equal(buckets.remaining('a'), 3, 'never more than the burst')
    for (let i = 0; i < 3; i++) assert.equal(buckets.take('a'), 0)
    assert.ok(buckets.take('a') > 0)
  })

  test('rejections take no token', () => {
    const clock = manualClock()
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxClients: 10, now: clock.now })
    assert.equal(buckets.take('a'), 0)
    for (let i = 0; i < 100; i++) assert.ok(buckets.take('a') > 0)

    clock.advance(1000)
    assert.equal(buckets.take('a'), 0, 'a client that keeps trying passes at the refill rate')
  })

  test('keeps one bucket per client', () => {
    const clock = manualClock()
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 2, maxClients: 10, now: clock.now })
    assert.equal(buckets.take('a'), 0)
    assert.equal(buckets.take('a'), 0)
    assert.ok(buckets.take('a') > 0)
    assert.equal(buckets.take('b'), 0)
    assert.equal(buckets.remaining('b'), 1)
  })

  test('map stays bounded by maxClients', () => {
    const clock = manualClock()
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxClients: 50, now: clock.now })
    assert.equal(buckets.take('first'), 0)
    for (let i = 0; i < 10_000; i++) {
      buckets.take(`client-${i}`)
      assert.ok(buckets.clients <= 50, `tracked ${buckets.clients} clients, the limit is 50`)
    }
    // The least recently seen client was dropped, so it starts over full.
    assert.equal(buckets.take('first'), 0)
  })

  test('rejects invalid options', () => {
    assert.throws(() => new TokenBuckets({ ratePerSecond: 0, burst: 1, maxClients: 1 }), RangeError)
    assert.throws(() => new TokenBuckets({ ratePerSecond: 1, burst: 0, maxClients: 1 }), RangeError)
  })
})

describe('ClientAddress', () => {
  const behindProxies = new ClientAddress({ mode: 'x-forwarded-for', trustedProxies: ['127.0.0.1', '10.0.0.0/8', '::1'] })

  const cases: Array<[name: string, peer: string, forwarded: string, expected: string]> = [
    ['trusted peer, one hop', '127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['right-most untrusted hop wins', '127.0.0.1', '198.51.100.1, 203.0.113.7, 10.0.0.2', '203.0.113.7'],
    ['forged left entries are ignored', '127.0.0.1', 'evil, 198.51.100.9,203.0.113.7', '203.0.113.7'],
    ['every hop trusted: the first one', '127.0.0.1', '10.0.0.3, 10.0.0.2', '10.0.0.3'],
    ['empty header: the peer', '127.0.0.1', '', '127.0.0.1'],
    ['untrusted peer: header ignored', '192.0.2.50', '203.0.113.7', '192.0.2.50'],
    ['entry that is no address: the peer', '127.0.0.1', 'unknown', '127.0.0.1'],
    ['IPv4 with a port', '127.0.0.1', '203.0.113.7:5555', '203.0.113.7'],
    ['IPv6 in brackets with a port', '127.0.0.1', '[2001:db8::1]:443', '2001:0db8:0000:0000::/64'],
    ['IPv6 keyed by /64', '127.0.0.1', '2001:db8:0:1:aaaa::5', '2001:0db8:0000:0001::/64'],
    ['IPv4-mapped hop is IPv4', '127.0.0.1', '::ffff:203.0.113.7', '203.0.113.7'],
    ['expanded IPv6 loopback peer is trusted', '0000:0000:0000:0000:0000:0000:0000:0001', '203.0.113.7', '203.0.113.7'],
    ['IPv4-mapped peer matches an IPv4 proxy', '0000:0000:0000:0000:0000:ffff:7f00:0001', '203.0.113.7', '203.0.113.7']
  ]
  for (const [name, peer, forwarded, expected] of cases) {
    test(`x-forwarded-for: ${name}`, () => {
      assert.equal(behindProxies.resolve(peer, forwarded), expected)
    })
  }

  test('peer mode ignores X-Forwarded-For', () => {
    const peerOnly = new ClientAddress({ mode: 'peer', trustedProxies: ['127.0.0.1'] })
    assert.equal(peerOnly.resolve('127.0.0.1', '203.0.113.7'), '127.0.0.1')
  })

  test('IPv6 addresses share a key per /64', () => {
    assert.equal(keyOfAddress('2001:db8:0:1::5'), keyOfAddress('2001:db8:0:1:ffff:ffff:ffff:ffff'))
    assert.notEqual(keyOfAddress('2001:db8:0:1::5'), keyOfAddress('2001:db8:0:2::5'))
    assert.equal(keyOfAddress('203.0.113.7'), '203.0.113.7')
  })

  test('trustedList rejects what is no address or range', () => {
    for (const entry of ['proxy.internal', '10.0.0.0/33', '10.0.0.0/x', '::1/129', '10.0.0.1/8/8']) {
      assert.throws(() => trustedList([entry]), RangeError, entry)
    }
    assert.doesNotThrow(() => trustedList(['10.0.0.0/8', '192.0.2.1', 'fd00::/8', '::1']))
  })

  test('config rejects invalid trusted proxies', () => {
    assert.throws(() => loadConfig({ overrides: { rateLimit: { trustedProxies: ['proxy.internal'] } } }),
      (error: unknown) => error instanceof ConfigError && error.key === 'rateLimit.trustedProxies')
  })

  test('config rejects x-forwarded-for without proxies', () => {
    assert.throws(() => loadConfig({ overrides: { rateLimit: { enabled: true, clientAddress: 'x-forwarded-for', trustedProxies: [] } } }),
      (error: unknown) => error instanceof ConfigError && error.key === 'rateLimit.trustedProxies')
  })
})

const CREATE_BURST = 3
const NOT_FOUND_BURST = 4
const MAX_CLIENTS = 8

/** Returns a code shaped like a generated one, as unlikely to be a link as any random code (links / 62^7). */
function unknownCode (i: number): string {
  return `zz${String(i).padStart(5, '0')}`
}

function assertRateLimited (response: ApiResponse, policy: string, policyField: string): void {
  assertProblem(response, 429, 'RATE_LIMITED')
  const retryAfter = response.headers.get('retry-after') ?? ''
  assert.match(retryAfter, /^\d+$/, 'Retry-After is an integer number of seconds')
  assert.ok(Number(retryAfter) >= 1)
  assert.equal(response.headers.get('ratelimit-policy'), policyField)
  assert.equal(response.headers.get('ratelimit'), `"${policy}";r=0;t=${retryAfter}`)
}

/** Sends raw bytes on a new connection and resolves with everything the server wrote before closing. */
async function rawRequest (port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  socket.end(text)
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('latin1')
}

function fromClient (address: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...init.headers as Record<string, string>, 'x-forwarded-for': address } }
}

function createRequest (address: string, body: unknown): RequestInit {
  return fromClient(address, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** Sends up to `max` create requests until one is rejected; returns how many passed and the rejection. */
async function createUntilLimited (server: TestServer, address: string, max: number): Promise<{ passed: number, rejected: ApiResponse | undefined }> {
  let passed = 0
  for (let i = 0; i < max; i++) {
    const response = await request(`${server.url}/api/v1/links`, createRequest(address, { url: `https://example.com/${address}/${i}` }))
    if (response.status === 429) return { passed, rejected: response }
    assert.equal(response.status, 201)
    passed++
  }
  return { passed, rejected: undefined }
}

describe('rate limits over HTTP behind a trusted proxy', () => {
  let server: TestServer
  let startedAt: number

  before(async () => {
    server = await startTestServer({
      rateLimit: {
        enabled: true,
        clientAddress: 'x-forwarded-for',
        trustedProxies: ['127.0.0.1'],
        createPerSecond: 1,
        createBurst: CREATE_BURST,
        notFoundPerSecond: 1,
        notFoundBurst: NOT_FOUND_BURST,
        maxClients: MAX_CLIENTS
      }
    })
    startedAt = performance.now()
  })

  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  /** Tokens a bucket at 1 per second may have regained since the server started. */
  function refilledSinceStart (): number {
    return Math.ceil((performance.now() - startedAt) / 1000)
  }

  test('create gets 429 after the burst', async () => {
    const { passed, rejected } = await createUntilLimited(server, '203.0.113.1', CREATE_BURST + 10)

    assert.ok(rejected !== undefined, 'some create was rejected')
    assert.ok(passed >= CREATE_BURST, `the burst of ${CREATE_BURST} passed, received ${passed}`)
    assert.ok(passed <= CREATE_BURST + refilledSinceStart(), `at most the burst plus the refill passed, received ${passed}`)
    assertRateLimited(rejected, 'create', `"create";q=${CREATE_BURST};w=${CREATE_BURST}`)
    assert.deepEqual(rejected.body.limit, { burst: CREATE_BURST, perSecond: 1 })
  })

  test('buckets are per client', async () => {
    const other = await request(`${server.url}/api/v1/links`, createRequest('203.0.113.2', { url: 'https://example.com/other' }))
    assert.equal(other.status, 201, 'a second client still has its burst')

    const first = await request(`${server.url}/api/v1/links`, createRequest('203.0.113.1', { url: 'https://example.com/again' }))
    assert.equal(first.status, 429, 'the first client is still limited')
  })

  test('a batch counts as one create request', async () => {
    const links = Array.from({ length: 5 }, (_, i) => ({ url: `https://example.com/batch/${i}` }))
    const batch = await request(`${server.url}/api/v1/links/batch`, createRequest('203.0.113.3', { links }))
    assert.equal(batch.status, 200)
    assert.equal(batch.body.results.length, 5)

    const { passed, rejected } = await createUntilLimited(server, '203.0.113.3', CREATE_BURST + 10)
    assert.ok(rejected !== undefined)
    assert.ok(passed >= CREATE_BURST - 1, `the batch took one token, so ${CREATE_BURST - 1} creates pass, received ${passed}`)
  })

  test('not-found lookups get 429 after the burst', async () => {
    const client = '198.51.100.20'
    const statuses: number[] = []
    let rejected: ApiResponse | undefined
    for (let i = 0; i < NOT_FOUND_BURST + 10 && rejected === undefined; i++) {
      const response = await request(`${server.url}/${unknownCode(i)}`, fromClient(client))
      statuses.push(response.status)
      if (response.status === 429) rejected = response
    }

    assert.ok(rejected !== undefined, `some lookup was rejected: ${statuses.join(' ')}`)
    const notFound = statuses.filter((status) => status === 404).length
    assert.ok(notFound >= NOT_FOUND_BURST)
    assert.ok(notFound <= NOT_FOUND_BURST + refilledSinceStart())
    assertRateLimited(rejected, 'not-found', `"not-found";q=${NOT_FOUND_BURST};w=${NOT_FOUND_BURST}`)
  })

  test('limited client still follows real links', async () => {
    const created = await request(`${server.url}/api/v1/links`, createRequest('203.0.113.4', { url: 'https://example.com/real' }))
    assert.equal(created.status, 201)

    const redirect = await request(`${server.url}/${created.body.code}`, fromClient('198.51.100.20'))
    assert.equal(redirect.status, 302)
    assert.equal(redirect.headers.get('location'), 'https://example.com/real')
  })

  test('API lookups and HEAD share the not-found bucket', async () => {
    const client = '198.51.100.20'
    const api = await request(`${server.url}/api/v1/links/${unknownCode(999)}`, fromClient(client))
    assertRateLimited(api, 'not-found', `"not-found";q=${NOT_FOUND_BURST};w=${NOT_FOUND_BURST}`)

    const head = await request(`${server.url}/${unknownCode(998)}`, fromClient(client, { method: 'HEAD' }))
    assert.equal(head.status, 429)
    assert.match(head.headers.get('retry-after') ?? '', /^\d+$/)
  })

  test('X-Forwarded-For header lines count as one list', async () => {
    // fetch merges repeated header lines, so this request is written by hand.
    // The proxy appended its own line after the forged one.
    const head = [
      `GET /${unknownCode(997)} HTTP/1.1`,
      `Host: 127.0.0.1:${server.port}`,
      'X-Forwarded-For: 203.0.113.77',
      'X-Forwarded-For: 198.51.100.20',
      'Connection: close',
      '', ''
    ].join('\r\n')
    const reply = await rawRequest(server.port, head)
    assert.match(reply, /^HTTP\/1\.1 429 /, 'the right-most address, an already limited client, is the key')
  })

  test('bucket map stays bounded', async () => {
    for (let i = 0; i < MAX_CLIENTS * 5; i++) {
      const response = await request(`${server.url}/${unknownCode(i)}`, fromClient(`192.0.2.${i + 1}`))
      assert.equal(response.status, 404, 'each new client has a full bucket')
    }
    const metrics = await request(`${server.url}/metrics`)
    const match = /^shortener_rate_limit_clients\{limit="not-found"\} (\d+)$/m.exec(metrics.body as string)
    assert.ok(match !== null, 'the clients gauge is exported')
    assert.ok(Number(match[1]) <= MAX_CLIENTS, `tracked ${match[1]} clients, the limit is ${MAX_CLIENTS}`)
  })
})

describe('rate limits over HTTP without a trusted proxy', () => {
  let server: TestServer

  before(async () => {
    server = await startTestServer({
      rateLimit: {
        enabled: true,
        clientAddress: 'x-forwarded-for',
        // Not the loopback peer of the test requests.
        trustedProxies: ['192.0.2.10'],
        createPerSecond: 1,
        createBurst: CREATE_BURST,
        notFoundPerSecond: 1,
        notFoundBurst: NOT_FOUND_BURST
      }
    })
  })

  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('untrusted X-Forwarded-For is ignored', async () => {
    const { rejected } = await createUntilLimited(server, '203.0.113.1', CREATE_BURST + 10)
    assert.ok(rejected !== undefined)

    const forged = await request(`${server.url}/api/v1/links`, createRequest('203.0.113.99', { url: 'https://example.com/forged' }))
    assert.equal(forged.status, 429, 'a different forwarded address does not escape the peer\'s bucket')
  })
})

describe('rate limits over HTTP from an IPv6 peer', () => {
  let server: TestServer
  const logLines: Array<Record<string, unknown>> = []

  before(async () => {
    const sink = new Writable({
      write (chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) {
          if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>)
        }
        done()
      }
    })
    server = await startTestServer(
      { host: '::1', rateLimit: { enabled: true, clientAddress: 'peer', notFoundPerSecond: 1, notFoundBurst: 1 } },
      { logger: pino({ level: 'warn' }, sink) }
    )
  })

  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('IPv6 peer is keyed by its /64', async () => {
    const url = `http://[::1]:${server.port}`
    assert.equal((await request(`${url}/${unknownCode(1)}`)).status, 404)
    assertRateLimited(await request(`${url}/${unknownCode(2)}`), 'not-found', '"not-found";q=1;w=1')

    const limited = logLines.find((line) => line.msg === 'client rate limited')
    assert.ok(limited !== undefined, 'the rejection is logged')
    assert.equal(limited.client, '0000:0000:0000:0000::/64')
  })
})
