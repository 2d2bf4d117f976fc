import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startCeiling, startReference, type ServerHandle } from '../bench/lib/servers.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'bench-reference-'))
let reference: ServerHandle

before(async () => { reference = await startReference(dataDir, 'NORMAL', 10, 30_000) })
after(async () => {
  await reference.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

async function post (path: string, body: unknown): Promise<{ status: number, json: any }> {
  const response = await fetch(`${reference.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    redirect: 'manual'
  })
  return { status: response.status, json: await response.json() }
}

async function resolve (origin: string, code: string): Promise<{ status: number, location: string | null }> {
  const response = await fetch(`${origin}/${code}`, { redirect: 'manual' })
  await response.arrayBuffer()
  return { status: response.status, location: response.headers.get('location') }
}

test('reference create then dedup', async () => {
  const first = await post('/api/v1/links', { url: 'https://example.com/ref/one' })
  assert.equal(first.status, 201)
  assert.match(first.json.code, /^[0-9A-Za-z]+$/)
  assert.equal(first.json.url, 'https://example.com/ref/one')
  assert.equal(first.json.shortUrl, `${reference.origin}/${first.json.code}`)

  const again = await post('/api/v1/links', { url: 'https://example.com/ref/one' })
  assert.equal(again.status, 200)
  assert.equal(again.json.code, first.json.code)
})

test('reference redirect and not found', async () => {
  const created = await post('/api/v1/links', { url: 'https://example.com/ref/two?q=1' })
  const found = await resolve(reference.origin, created.json.code)
  assert.equal(found.status, 302)
  assert.equal(found.location, 'https://example.com/ref/two?q=1')

  const missing = await resolve(reference.origin, 'zzzzzzzz')
  assert.equal(missing.status, 404)
})

test('reference batch keeps input order', async () => {
  const existing = await post('/api/v1/links', { url: 'https://example.com/ref/three' })
  const batch = await post('/api/v1/links/batch', {
    links: [
      { url: 'https://example.com/ref/four' },
      { url: 'ftp://example.com/file' },
      { url: 'https://example.com/ref/three' },
      { url: 'https://example.com/ref/four' },
      { nothing: true }
    ]
  })
  assert.equal(batch.status, 200)
  const [four, ftp, three, fourAgain, empty] = batch.json.results
  assert.equal(four.created, true)
  assert.equal(ftp.error.code, 'UNSUPPORTED_SCHEME')
  assert.equal(three.created, false)
  assert.equal(three.code, existing.json.code)
  assert.equal(fourAgain.created, false)
  assert.equal(fourAgain.code, four.code)
  assert.equal(empty.error.code, 'INVALID_URL')
})

test('reference rejects bad input', async () => {
  assert.equal((await post('/api/v1/links', { url: 'not a url' })).json.error.code, 'INVALID_URL')
  assert.equal((await post('/api/v1/links', '{"url":')).json.error.code, 'INVALID_JSON')
  const tooLong = await post('/api/v1/links', { url: `https://example.com/${'a'.repeat(2100)}` })
  assert.equal(tooLong.status, 400)
  assert.equal(tooLong.json.error.code, 'URL_TOO_LONG')
  const tooMany = await post('/api/v1/links/batch', { links: Array.from({ length: 1001 }, (_, i) => ({ url: `https://example.com/${i}` })) })
  assert.equal(tooMany.status, 400)
  assert.equal(tooMany.json.error.code, 'BATCH_TOO_LARGE')
})

test('reference keeps links across restart', async () => {
  const before = await post('/api/v1/links', { url: 'https://example.com/ref/kept' })
  await reference.stop()
  reference = await startReference(dataDir, 'NORMAL', 10, 30_000)

  const kept = await resolve(reference.origin, before.json.code)
  assert.equal(kept.location, 'https://example.com/ref/kept')
  const next = await post('/api/v1/links', { url: 'https://example.com/ref/new-after-restart' })
  assert.equal(next.status, 201)
  assert.notEqual(next.json.code, before.json.code)
})

test('ceiling answers every path with one redirect', async () => {
  const ceiling = await startCeiling('https://example.com/bench/p/1', 30_000)
  try {
    for (const code of ['abc', 'XYZ1234', 'api/v1/links']) {
      const response = await resolve(ceiling.origin, code)
      assert.equal(response.status, 302)
      assert.equal(response.location, 'https://example.com/bench/p/1')
    }
  } finally {
    await ceiling.stop()
  }
})
