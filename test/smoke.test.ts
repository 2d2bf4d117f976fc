import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

let server: TestServer

before(async () => { server = await startTestServer() })
after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

test('create then redirect', async () => {
  const created = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/smoke' })
  assert.equal(created.status, 201)
  const resolved = await resolveCode(server.url, created.body.code)
  assert.equal(resolved.status, 302)
  assert.equal(resolved.location, 'https://example.com/smoke')
})
