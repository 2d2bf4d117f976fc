import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'
import { assertProblem, countStoredLinks, request } from './helpers/api.ts'

const BASE_URL = 'http://short.test/'
const GENERATED_CODE = /^[0-9A-Za-z]{7,}$/

let server: TestServer
let linksUrl: string

before(async () => {
  server = await startTestServer({ baseUrl: BASE_URL })
  linksUrl = `${server.url}/api/v1/links`
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

test('create returns 201 and the link', async () => {
  const created = await postJson(linksUrl, { url: 'HTTPS://Example.COM:443/docs/../guide?q=1#top' })

  assert.equal(created.status, 201)
  assert.match(created.headers.get('content-type') ?? '', /^application\/json/)
  assert.match(created.body.code, GENERATED_CODE)
  assert.equal(created.body.shortUrl, BASE_URL + created.body.code)
  assert.equal(created.body.url, 'https://example.com/guide?q=1#top')
  assert.equal(created.body.created, true)
  assert.equal(new Date(created.body.createdAt).toISOString(), created.body.createdAt)
  assert.equal(created.headers.get('location'), created.body.shortUrl)
})

test('created link redirects to its target', async () => {
  const created = await postJson(linksUrl, { url: 'https://example.com/created-then-redirected' })
  assert.equal(created.status, 201)

  const resolved = await resolveCode(server.url, created.body.code)
  assert.equal(resolved.status, 302)
  assert.equal(resolved.location, 'https://example.com/created-then-redirected')
})

test('same URL again returns 200 and the same code', async () => {
  const first = await postJson(linksUrl, { url: 'https://example.com/dedup' })
  const again = await postJson(linksUrl, { url: 'https://example.com/dedup' })
  const respelled = await postJson(linksUrl, { url: 'https://EXAMPLE.com:443/dedup' })

  assert.equal(first.status, 201)
  assert.equal(again.status, 200)
  assert.equal(again.body.created, false)
  assert.equal(again.body.code, first.body.code)
  assert.equal(again.body.createdAt, first.body.createdAt)
  assert.equal(respelled.status, 200)
  assert.equal(respelled.body.code, first.body.code)
})

test('different URLs get different codes', async () => {
  const first = await postJson(linksUrl, { url: 'https://example.com/one' })
  const second = await postJson(linksUrl, { url: 'https://example.com/two' })

  assert.equal(first.status, 201)
  assert.equal(second.status, 201)
  assert.notEqual(first.body.code, second.body.code)
})

test('100 concurrent identical creates make one link', async () => {
  const before = await countStoredLinks(server)
  const url = 'https://example.com/concurrent-dedup'

  const responses = await Promise.all(Array.from({ length: 100 }, () => postJson(linksUrl, { url })))

  const statuses = responses.map((response) => response.status)
  assert.equal(statuses.filter((status) => status === 201).length, 1)
  assert.equal(statuses.filter((status) => status === 200).length, 99)
  assert.equal(new Set(responses.map((response) => response.body.code)).size, 1)
  assert.equal(await countStoredLinks(server), before + 1)
})

test('alias becomes the code', async () => {
  const created = await postJson(linksUrl, { url: 'https://example.com/aliased', alias: 'my-Alias_1' })

  assert.equal(created.status, 201)
  assert.equal(created.body.code, 'my-Alias_1')
  assert.equal(created.body.shortUrl, `${BASE_URL}my-Alias_1`)
  assert.equal(created.body.url, 'https://example.com/aliased')
  assert.equal(created.body.created, true)

  const resolved = await resolveCode(server.url, 'my-Alias_1')
  assert.equal(resolved.location, 'https://example.com/aliased')
})

test('taken alias returns 409 ALIAS_TAKEN', async () => {
  const first = await postJson(linksUrl, { url: 'https://example.com/first-owner', alias: 'taken-alias' })
  const before = await countStoredLinks(server)
  const second = await postJson(linksUrl, { url: 'https://example.com/second-owner', alias: 'taken-alias' })
  const sameUrl = await postJson(linksUrl, { url: 'https://example.com/first-owner', alias: 'taken-alias' })

  assert.equal(first.status, 201)
  assertProblem(second, 409, 'ALIAS_TAKEN')
  assert.equal(second.body.value, 'taken-alias')
  assertProblem(sameUrl, 409, 'ALIAS_TAKEN')
  assert.equal(await countStoredLinks(server), before)
  assert.equal((await resolveCode(server.url, 'taken-alias')).location, 'https://example.com/first-owner')
})

test('alias equal to a generated code is taken', async () => {
  const generated = await postJson(linksUrl, { url: 'https://example.com/generated-owner' })
  const code = generated.body.code as string
  const before = await countStoredLinks(server)

  const clash = await postJson(linksUrl, { url: 'https://example.com/alias-thief', alias: code })

  assertProblem(clash, 409, 'ALIAS_TAKEN')
  assert.equal(await countStoredLinks(server), before)
  assert.equal((await resolveCode(server.url, code)).location, 'https://example.com/generated-owner')
})

test('aliases differing in case are two links', async () => {
  const upper = await postJson(linksUrl, { url: 'https://example.com/upper', alias: 'CaseAlias' })
  const lower = await postJson(linksUrl, { url: 'https://example.com/lower', alias: 'casealias' })

  assert.equal(upper.status, 201)
  assert.equal(lower.status, 201)
  assert.equal((await resolveCode(server.url, 'CaseAlias')).location, 'https://example.com/upper')
  assert.equal((await resolveCode(server.url, 'casealias')).location, 'https://example.com/lower')
})

test('50 concurrent creates of one alias have one winner', async () => {
  const before = await countStoredLinks(server)
  const alias = 'raced-alias'

  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    postJson(linksUrl, { url: `https://example.com/racer/${i}`, alias })))

  const winners = responses.filter((response) => response.status === 201)
  const losers = responses.filter((response) => response.status !== 201)
  assert.equal(winners.length, 1)
  assert.equal(losers.length, 49)
  for (const loser of losers) assertProblem(loser, 409, 'ALIAS_TAKEN')

  const winnerUrl = winners[0]?.body.url as string
  assert.match(winnerUrl, /^https:\/\/example\.com\/racer\/\d+$/)
  assert.equal((await resolveCode(server.url, alias)).location, winnerUrl)
  const looked = await request(`${linksUrl}/${alias}`)
  assert.equal(looked.body.url, winnerUrl)
  assert.equal(await countStoredLinks(server), before + 1)
})

test('link lookup returns the stored link', async () => {
  const created = await postJson(linksUrl, { url: 'https://example.com/looked-up' })
  const looked = await request(`${linksUrl}/${created.body.code as string}`)

  assert.equal(looked.status, 200)
  assert.match(looked.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(looked.body.code, created.body.code)
  assert.equal(looked.body.shortUrl, created.body.shortUrl)
  assert.equal(looked.body.url, 'https://example.com/looked-up')
  assert.equal(looked.body.createdAt, created.body.createdAt)
})

test('link lookup of an alias returns it', async () => {
  await postJson(linksUrl, { url: 'https://example.com/alias-lookup', alias: 'lookup-me' })
  const looked = await request(`${linksUrl}/lookup-me`)

  assert.equal(looked.status, 200)
  assert.equal(looked.body.code, 'lookup-me')
  assert.equal(looked.body.url, 'https://example.com/alias-lookup')
})

test('link lookup of an unknown code returns 404', async () => {
  const looked = await request(`${linksUrl}/Zz9Zz9Zz9`)

  assertProblem(looked, 404, 'LINK_NOT_FOUND')
  assert.equal(looked.body.value, 'Zz9Zz9Zz9')
})

test('link lookup of an impossible code returns 404', async () => {
  const paths = [`${'%C3%A9'.repeat(1000)}`, 'x'.repeat(5000), '%00%01', 'a%2Fb', 'has.dot']
  for (const path of paths) {
    const looked = await request(`${linksUrl}/${path}`)
    assertProblem(looked, 404, 'LINK_NOT_FOUND')
  }

  const created = await postJson(linksUrl, { url: 'https://example.com/after-impossible-lookups' })
  assert.equal(created.status, 201)
  assert.equal((await request(`${server.url}/readyz`)).status, 200)
})
