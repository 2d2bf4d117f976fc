import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { urlKey, type Router } from '../src/routing/router.ts'
import { shardStorePath } from '../src/store/lmdb.ts'
import { runCli } from './helpers/cli.ts'
import { postJson, removeDir, resolveCode, startTestServer, tempDataDir } from './helpers/server.ts'
import { withDeploymentStores } from './helpers/stores.ts'

const SHARDS = 3
const GENERATED_CODE = /^[0-9A-Za-z]{7,}$/

// Aliases of every routing kind: 7 and 8 base62 characters route like a
// generated code, anything else by a hash of the alias.
const ALIASES = ['Abc1234', 'Xy9Zw8Vu', 'abc', 'with-dash', 'under_score', 'LongerThanEightChars']

interface Created {
  code: string
  url: string
  generated: boolean
}

const dataDir = tempDataDir()
const created: Created[] = []
const sequentialCodes: string[] = []
let router: Router

before(async () => {
  const server = await startTestServer({ dataDir, shards: SHARDS })
  router = server.router
  try {
    const links = `${server.url}/api/v1/links`
    for (let i = 0; i < 20; i++) {
      const url = `https://example.com/sequential/${i}`
      const response = await postJson(links, { url })
      assert.equal(response.status, 201)
      sequentialCodes.push(response.body.code)
      created.push({ code: response.body.code, url, generated: true })
    }

    const urls = Array.from({ length: 400 }, (_, i) => `https://example.org/batch/${i}?n=${i * 7}`)
    const batch = await postJson(`${links}/batch`, { links: urls.map((url) => ({ url })) })
    assert.equal(batch.status, 200)
    for (const [i, result] of (batch.body.results as Array<{ code: string, created: boolean }>).entries()) {
      assert.equal(result.created, true)
      created.push({ code: result.code, url: urls[i] as string, generated: true })
    }

    for (const alias of ALIASES) {
      const url = `https://example.net/alias/${alias}`
      const response = await postJson(links, { url, alias })
      assert.equal(response.status, 201, JSON.stringify(response.body))
      created.push({ code: alias, url, generated: false })
    }
  } finally {
    await server.close()
  }
})

after(() => { removeDir(dataDir) })

test('generated codes are long, unique and base62', () => {
  const generated = created.filter((link) => link.generated).map((link) => link.code)

  for (const code of generated) assert.match(code, GENERATED_CODE)
  assert.equal(new Set(generated).size, generated.length)
})

test('consecutive codes share no visible pattern', () => {
  const sorted = [...sequentialCodes].sort()
  assert.notDeepEqual(sequentialCodes, sorted, 'codes come out in sorted order')

  let differingPositions = 0
  for (let i = 1; i < sequentialCodes.length; i++) {
    const previous = sequentialCodes[i - 1] as string
    const current = sequentialCodes[i] as string
    for (let position = 0; position < Math.min(previous.length, current.length); position++) {
      if (previous[position] !== current[position]) differingPositions++
    }
  }
  // Random 7-character codes differ in about 6.9 positions; a counter in only 1 or 2.
  const meanDifferingPositions = differingPositions / (sequentialCodes.length - 1)
  assert.ok(meanDifferingPositions > 5, `consecutive codes differ in ${meanDifferingPositions} positions on average`)
})

test('one store file per shard', () => {
  for (let shard = 0; shard < SHARDS; shard++) {
    assert.ok(existsSync(shardStorePath(dataDir, shard)), `shard ${shard} has no store file`)
  }
})

test('each code is stored only in its routed shard', async () => {
  await withDeploymentStores(dataDir, SHARDS, (stores) => {
    for (const { code, url } of created) {
      const owner = router.shardOfCode(code)
      for (const [shard, store] of stores.entries()) {
        const record = store.getLink(code)
        if (shard === owner) {
          assert.equal(record?.url, url, `${code} is missing from its shard ${owner}`)
        } else {
          assert.equal(record, undefined, `${code} routes to shard ${owner} but is also in shard ${shard}`)
        }
      }
    }
  })
})

test('shards hold no links beyond those created', async () => {
  await withDeploymentStores(dataDir, SHARDS, (stores) => {
    const total = stores.reduce((sum, store) => sum + store.countLinks(), 0)
    assert.equal(total, created.length)
  })
})

test('URL index is in the URL shard', async () => {
  await withDeploymentStores(dataDir, SHARDS, (stores) => {
    for (const { code, url, generated } of created) {
      if (!generated) continue
      const owner = router.shardOfUrl(url)
      assert.equal(router.shardOfCode(code), owner, `${code} was minted outside the shard of its URL`)
      for (const [shard, store] of stores.entries()) {
        const indexed = store.getCodeByUrlKey(urlKey(url))
        assert.equal(indexed, shard === owner ? code : undefined, `URL index of ${url} in shard ${shard}`)
      }
    }
  })
})

test('restart with other counts fails clearly', async () => {
  // One after the other: both take the data directory's lock first.
  const shards = await runCli(['--data-dir', dataDir, '--shards', String(SHARDS + 1), '--port', '0', '--host', '127.0.0.1'])
  const slots = await runCli(['--data-dir', dataDir, '--shards', String(SHARDS), '--slots', '1024', '--port', '0', '--host', '127.0.0.1'])

  assert.equal(shards.exit, 2)
  assert.match(shards.stderr, new RegExp(`shards is ${SHARDS + 1}`))
  assert.match(shards.stderr, new RegExp(`holds ${SHARDS} shards`))
  assert.doesNotMatch(shards.stdout, /"listening"/)
  assert.equal(slots.exit, 2)
  assert.match(slots.stderr, /slots is 1024/)
  assert.match(slots.stderr, /created with 4096/)
  assert.doesNotMatch(slots.stdout, /"listening"/)
})

test('restart with the same counts serves every link', async () => {
  const server = await startTestServer({ dataDir, shards: SHARDS })
  try {
    const locations = await Promise.all(created.map(async ({ code }) => (await resolveCode(server.url, code)).location))
    for (const [i, { code, url }] of created.entries()) assert.equal(locations[i], url, code)
  } finally {
    await server.close()
  }
})
