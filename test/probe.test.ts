/**
 * Code scanning: random valid-looking codes should almost never hit a link,
 * because each generated code is a keyed permutation of a sequence number
 * spread over 62^7 values, and a scanner over HTTP meets the not-found rate
 * limit after its burst.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { request } from './helpers/api.ts'
import { removeDir, startTestServer, type TestServer } from './helpers/server.ts'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const LINKS = 1_000
const PROBES = 100_000
const HTTP_PROBES = 200
const NOT_FOUND_BURST = 20
const CODE_SPACE = 62 ** 7

let server: TestServer
let codes: string[]
let startedAt: number

before(async () => {
  server = await startTestServer({
    rateLimit: { enabled: true, clientAddress: 'peer', createBurst: 10, notFoundBurst: NOT_FOUND_BURST, notFoundPerSecond: 1 }
  })
  startedAt = performance.now()
  const links = Array.from({ length: LINKS }, (_, i) => ({ url: `https://example.com/probe/${i}` }))
  const batch = await request(`${server.url}/api/v1/links/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ links })
  })
  assert.equal(batch.status, 200)
  codes = batch.body.results.map((result: { code: string }) => result.code)
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

/** Returns `count` random 7-character base62 codes, uniform over the alphabet. */
function randomCodes (count: number): string[] {
  const result: string[] = []
  let code = ''
  while (result.length < count) {
    for (const byte of randomBytes(4096)) {
      // 248 = 4 * 62; larger bytes would favour the first characters.
      if (byte >= 248) continue
      code += BASE62[byte % 62]
      if (code.length < 7) continue
      result.push(code)
      code = ''
      if (result.length === count) break
    }
  }
  return result
}

test('every created link resolves through the probe path', () => {
  assert.equal(codes.length, LINKS)
  for (const code of codes) {
    assert.match(code, /^[0-9A-Za-z]{7}$/)
    assert.ok(server.redirector.resolve(code) !== undefined, `created code ${code} resolves`)
  }
})

test('random codes hit as rarely as sparsity predicts', () => {
  const expectedHits = PROBES * LINKS / CODE_SPACE
  assert.ok(expectedHits < 0.001, `expected hits ${expectedHits}`)

  let hits = 0
  for (const code of randomCodes(PROBES)) {
    if (server.redirector.resolve(code) !== undefined) hits++
  }
  // Hits are Poisson with a mean near 3e-5, so four or more (a failure) has odds below 1e-18.
  assert.ok(hits <= 3, `${hits} of ${PROBES} random codes hit a link; about ${expectedHits.toExponential(1)} expected`)
})

test('HTTP prober meets 429 after the not-found burst', async () => {
  const counts = new Map<number, number>()
  let firstLimitedAt = -1
  const probes = randomCodes(HTTP_PROBES)
  for (let i = 0; i < probes.length; i++) {
    const response = await request(`${server.url}/${probes[i] as string}`)
    counts.set(response.status, (counts.get(response.status) ?? 0) + 1)
    if (response.status === 429 && firstLimitedAt === -1) firstLimitedAt = i
  }

  const notFound = counts.get(404) ?? 0
  const limited = counts.get(429) ?? 0
  const refilled = Math.ceil((performance.now() - startedAt) / 1000)
  assert.ok(limited > 0, `the prober was rate limited: ${JSON.stringify([...counts])}`)
  assert.ok(firstLimitedAt >= NOT_FOUND_BURST, `the first ${NOT_FOUND_BURST} misses pass, the first 429 came at ${firstLimitedAt}`)
  assert.ok(notFound <= NOT_FOUND_BURST + refilled, `${notFound} misses passed; the burst plus the refill allow ${NOT_FOUND_BURST + refilled}`)
  assert.ok((counts.get(302) ?? 0) <= 3, 'random HTTP probes found links')
  assert.equal(notFound + limited + (counts.get(302) ?? 0), HTTP_PROBES, 'no other status')
})
