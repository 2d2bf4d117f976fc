import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { postJson, removeDir, startTestServer, type TestServer } from './helpers/server.ts'
import { assertProblem, request } from './helpers/api.ts'

const TARGET = 'https://example.com/a%2Fb/c?x=%41&y=1#frag'

let server: TestServer
let code: string

before(async () => {
  server = await startTestServer()
  const created = await postJson(`${server.url}/api/v1/links`, { url: TARGET })
  assert.equal(created.status, 201)
  code = created.body.code
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

test('GET redirects with 302 to the stored target', async () => {
  const response = await request(`${server.url}/${code}`)

  assert.equal(response.status, 302)
  assert.equal(response.headers.get('location'), TARGET)
})

test('repeated GET redirects the same way', async () => {
  for (let i = 0; i < 3; i++) {
    const response = await request(`${server.url}/${code}`)
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), TARGET)
  }
})

test('HEAD redirects like GET without a body', async () => {
  const response = await request(`${server.url}/${code}`, { method: 'HEAD' })

  assert.equal(response.status, 302)
  assert.equal(response.headers.get('location'), TARGET)
  assert.equal(response.body, undefined)
})

test('one trailing slash is ignored', async () => {
  const response = await request(`${server.url}/${code}/`)

  assert.equal(response.status, 302)
  assert.equal(response.headers.get('location'), TARGET)
})

test('two trailing slashes are not a code', async () => {
  const response = await request(`${server.url}/${code}//`)

  assertProblem(response, 404, 'ROUTE_NOT_FOUND')
})

test('API collection path is an unknown route', async () => {
  const response = await request(`${server.url}/api/v1/links`)

  assertProblem(response, 404, 'ROUTE_NOT_FOUND')
})

test('query string of the short link is not passed on', async () => {
  for (const suffix of ['?utm_source=mail', '/?utm_source=mail&x=2', '?']) {
    const response = await request(`${server.url}/${code}${suffix}`)
    assert.equal(response.status, 302, suffix)
    assert.equal(response.headers.get('location'), TARGET, suffix)
  }
})

test('alias redirects to its target', async () => {
  const created = await postJson(`${server.url}/api/v1/links`, { url: 'http://example.org/', alias: 'go_here' })
  assert.equal(created.status, 201)

  const response = await request(`${server.url}/go_here`)
  assert.equal(response.status, 302)
  assert.equal(response.headers.get('location'), 'http://example.org/')
})

test('unknown code returns 404 LINK_NOT_FOUND', async () => {
  const response = await request(`${server.url}/Nope123`)

  assertProblem(response, 404, 'LINK_NOT_FOUND')
  assert.equal(response.body.value, 'Nope123')
  assert.equal(response.headers.get('location'), null)
})

test('unknown code on HEAD returns 404 without a body', async () => {
  const response = await request(`${server.url}/Nope123`, { method: 'HEAD' })

  assert.equal(response.status, 404)
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/)
  assert.equal(response.body, undefined)

  const get = await fetch(`${server.url}/Nope123`, { redirect: 'manual' })
  const getBytes = (await get.arrayBuffer()).byteLength
  assert.equal(response.headers.get('content-length'), String(getBytes))
})

test('server keeps serving after HEAD of an unknown code', async () => {
  for (let i = 0; i < 3; i++) {
    const head = await request(`${server.url}/Missing${i}`, { method: 'HEAD' })
    assert.equal(head.status, 404)
  }
  const response = await request(`${server.url}/${code}`)
  assert.equal(response.status, 302)
})

test('code with its letter case changed is unknown', async () => {
  const swapped = [...code].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')
  assert.notEqual(swapped, code, 'the code should contain a letter')

  const response = await request(`${server.url}/${swapped}`)
  assertProblem(response, 404, 'LINK_NOT_FOUND')
})

test('odd paths return 404, never 5xx', async () => {
  const paths = ['/%00', '/a%2Fb', `/${'x'.repeat(5000)}`, '/abc.def', '/%F0%9F%98%80', '/..%2F..%2Fetc']
  for (const path of paths) {
    const response = await request(`${server.url}${path}`)
    assertProblem(response, 404, 'LINK_NOT_FOUND')
  }
  // Several segments cannot be a short link, so they are an unknown route.
  const routed = await request(`${server.url}/api/v1/nothing`)
  assertProblem(routed, 404, 'ROUTE_NOT_FOUND')
})

test('configured redirectStatus is used', async () => {
  const statuses = [301, 303, 307, 308] as const
  const others = await Promise.all(statuses.map((redirectStatus) => startTestServer({ redirectStatus, shards: 1 })))
  try {
    for (const [i, other] of others.entries()) {
      const created = await postJson(`${other.url}/api/v1/links`, { url: 'https://example.com/status' })
      const get = await request(`${other.url}/${created.body.code as string}`)
      const head = await request(`${other.url}/${created.body.code as string}`, { method: 'HEAD' })

      assert.equal(get.status, statuses[i])
      assert.equal(get.headers.get('location'), 'https://example.com/status')
      assert.equal(head.status, statuses[i])
    }
  } finally {
    for (const other of others) {
      await other.close()
      removeDir(other.config.dataDir)
    }
  }
})
