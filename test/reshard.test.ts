import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { reshard } from '../src/store/reshard.ts'
import { postJson, removeDir, resolveCode, startTestServer, tempDataDir } from './helpers/server.ts'

const dataDir = tempDataDir()
after(() => { removeDir(dataDir) })

interface Created { code: string, url: string }

async function createLinks (url: string, count: number): Promise<Created[]> {
  const links = Array.from({ length: count }, (_, i) => ({ url: `https://example.com/reshard/${i}` }))
  links.push({ url: 'https://example.com/aliased', alias: 'reshard-alias' } as { url: string })
  const response = await postJson(`${url}/api/v1/links/batch`, { links })
  assert.equal(response.status, 200)
  return response.body.results.map((result: Created) => ({ code: result.code, url: result.url }))
}

async function checkAll (shards: number, created: readonly Created[]): Promise<void> {
  const server = await startTestServer({ dataDir, shards })
  try {
    for (const link of created) {
      const resolved = await resolveCode(server.url, link.code)
      assert.equal(resolved.status, 302, `code ${link.code} after resharding to ${shards}`)
      assert.equal(resolved.location, link.url)
    }
    // Dedup still finds each URL in its new shard.
    const again = await postJson(`${server.url}/api/v1/links`, { url: created[0]?.url })
    assert.equal(again.status, 200)
    assert.equal(again.body.code, created[0]?.code)
  } finally {
    await server.close()
  }
}

test('reshard keeps every link reachable', async () => {
  const server = await startTestServer({ dataDir, shards: 2 })
  const created = await createLinks(server.url, 300)
  await server.close()

  const grown = await reshard({ dataDir, shards: 3 })
  assert.equal(grown.fromShards, 2)
  assert.ok(grown.movedLinks > 0)
  await checkAll(3, created)

  const shrunk = await reshard({ dataDir, shards: 1 })
  assert.equal(shrunk.toShards, 1)
  await checkAll(1, created)
  assert.equal(existsSync(join(dataDir, 'shard-2.mdb')), false)
  assert.equal(existsSync(join(dataDir, 'shard-2-index.mdb')), false)
})

test('reshard run twice moves nothing new', async () => {
  const result = await reshard({ dataDir, shards: 1 })
  assert.equal(result.movedLinks, 0)
  assert.equal(result.movedIndexEntries, 0)
})

test('server refuses a changed shard count', async () => {
  await assert.rejects(startTestServer({ dataDir, shards: 4 }), /reshard/)
})
