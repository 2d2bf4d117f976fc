import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'
import { assertProblem, countStoredLinks } from './helpers/api.ts'

const BASE_URL = 'http://short.test/'

let server: TestServer
let batchUrl: string

before(async () => {
  server = await startTestServer({ baseUrl: BASE_URL })
  batchUrl = `${server.url}/api/v1/links/batch`
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

test('batch returns results in input order', async () => {
  const urls = Array.from({ length: 20 }, (_, i) => `https://example.com/batch/order/${i}`)
  const response = await postJson(batchUrl, { links: urls.map((url) => ({ url })) })

  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(response.body.results.length, urls.length)
  for (const [i, result] of (response.body.results as any[]).entries()) {
    assert.equal(result.url, urls[i])
    assert.equal(result.created, true)
    assert.equal(result.shortUrl, BASE_URL + (result.code as string))
    assert.equal(new Date(result.createdAt).toISOString(), result.createdAt)
  }
  assert.equal(new Set(response.body.results.map((result: any) => result.code)).size, urls.length)

  const resolved = await resolveCode(server.url, response.body.results[7].code)
  assert.equal(resolved.location, urls[7])
})

test('batch marks existing links created false', async () => {
  const existing = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/batch/existing' })
  const response = await postJson(batchUrl, {
    links: [
      { url: 'https://example.com/batch/existing' },
      { url: 'https://example.com/batch/twice' },
      { url: 'https://example.com/batch/twice' }
    ]
  })

  const [first, second, third] = response.body.results
  assert.equal(first.created, false)
  assert.equal(first.code, existing.body.code)
  assert.equal(second.code, third.code)
  assert.deepEqual([second.created, third.created].sort(), [false, true])
})

test('bad item fails alone', async () => {
  const before = await countStoredLinks(server)
  const response = await postJson(batchUrl, {
    links: [
      { url: 'https://example.com/batch/good/1' },
      { url: 'ftp://example.com/file' },
      'not an object',
      { url: 'https://example.com/batch/reserved', alias: 'Metrics' },
      { url: 'https://example.com/batch/short-alias', alias: 'ab' },
      { url: 'https://user:secret@example.com/' },
      { url: `https://example.com/${'a'.repeat(2048)}` },
      { url: 'https://example.com/batch/good/2' }
    ]
  })

  assert.equal(response.status, 200)
  const results = response.body.results as any[]
  assert.equal(results.length, 8)
  assert.equal(results[0].created, true)
  assert.equal(results[7].created, true)
  const expected: Array<[number, string]> = [
    [1, 'UNSUPPORTED_SCHEME'],
    [2, 'INVALID_BODY'],
    [3, 'ALIAS_RESERVED'],
    [4, 'INVALID_ALIAS'],
    [5, 'URL_HAS_CREDENTIALS'],
    [6, 'URL_TOO_LONG']
  ]
  for (const [index, code] of expected) {
    const entry = results[index]
    assert.equal(entry.error?.code, code, `item ${index}: ${JSON.stringify(entry)}`)
    assert.equal(entry.error.status, 400)
    assert.equal(typeof entry.error.detail, 'string')
    assert.equal(entry.code, undefined)
  }
  assert.equal(results[6].error.limit, 2048)
  assert.equal(await countStoredLinks(server), before + 2)
  assert.equal((await resolveCode(server.url, 'Metrics')).status, 404)
  assert.equal((await resolveCode(server.url, 'ab')).status, 404)
})

test('batch reports a taken alias in its entry', async () => {
  await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/batch/alias-owner', alias: 'batch-taken' })
  const response = await postJson(batchUrl, {
    links: [
      { url: 'https://example.com/batch/alias-thief', alias: 'batch-taken' },
      { url: 'https://example.com/batch/alias-a', alias: 'batch-twice' },
      { url: 'https://example.com/batch/alias-b', alias: 'batch-twice' }
    ]
  })

  const [taken, second, third] = response.body.results
  assert.equal(taken.error?.code, 'ALIAS_TAKEN')
  assert.equal(taken.error.status, 409)
  assert.equal(second.created, true)
  assert.equal(second.code, 'batch-twice')
  assert.equal(third.error?.code, 'ALIAS_TAKEN')
  assert.equal((await resolveCode(server.url, 'batch-taken')).location, 'https://example.com/batch/alias-owner')
  assert.equal((await resolveCode(server.url, 'batch-twice')).location, 'https://example.com/batch/alias-a')
})

test('empty batch returns no results', async () => {
  const response = await postJson(batchUrl, { links: [] })

  assert.equal(response.status, 200)
  assert.deepEqual(response.body, { results: [] })
})

test('batch of maxBatchSize links is accepted', async () => {
  assert.equal(server.config.maxBatchSize, 1000)
  const before = await countStoredLinks(server)
  const links = Array.from({ length: 1000 }, (_, i) => ({ url: `https://example.com/batch/full/${i}` }))

  const response = await postJson(batchUrl, { links })

  assert.equal(response.status, 200)
  assert.equal(response.body.results.length, 1000)
  assert.ok((response.body.results as any[]).every((result, i) => result.created === true && result.url === links[i]?.url))
  assert.equal(await countStoredLinks(server), before + 1000)
})

test('batch above maxBatchSize returns 400 BATCH_TOO_LARGE', async () => {
  const before = await countStoredLinks(server)
  const links = Array.from({ length: 1001 }, (_, i) => ({ url: `https://example.com/batch/over/${i}` }))

  const response = await postJson(batchUrl, { links })

  assertProblem(response, 400, 'BATCH_TOO_LARGE')
  assert.equal(response.body.value, 1001)
  assert.equal(response.body.limit, 1000)
  assert.match(response.body.detail, /1000/)
  assert.match(response.body.detail, /1001/)
  assert.equal(await countStoredLinks(server), before)
})

test('batch of wrong shape returns 400 INVALID_BODY', async () => {
  const before = await countStoredLinks(server)

  for (const body of [{}, { links: 'https://example.com/' }, { links: { url: 'https://example.com/' } }, [], null, 'links']) {
    const response = await postJson(batchUrl, body)
    assertProblem(response, 400, 'INVALID_BODY')
  }
  assert.equal(await countStoredLinks(server), before)
})
