/**
 * The lagging `urls` index. A shard commits a link before its index entry
 * and finds not-yet-indexed links through its own memory. It writes the
 * entries in batches and on a graceful stop, and after a crash it rebuilds
 * the entries missing from the tail of the `links` database.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, describe, test } from 'node:test'
import { CodeCodec } from '../src/codec/code.ts'
import { urlKey } from '../src/routing/router.ts'
import { LmdbLinkStore } from '../src/store/lmdb.ts'
import { KIND_GENERATED } from '../src/store/types.ts'
import { indexKeyOf } from '../src/store/url-index.ts'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { postJson, removeDir, spawnServer, startTestServer, tempDataDir, type TestServer } from './helpers/server.ts'
import { withDeploymentStores } from './helpers/stores.ts'

const dirs: string[] = []
after(() => { for (const dir of dirs) removeDir(dir) })

function newDir (): string {
  const dir = tempDataDir('shortener-url-index-')
  dirs.push(dir)
  return dir
}

function openStore (dataDir: string, codec: CodeCodec, shard = 0): LmdbLinkStore {
  return new LmdbLinkStore({ dataDir, shard, codec, mapSizeBytes: 0 })
}

async function putLinks (store: LmdbLinkStore, codec: CodeCodec, numbers: readonly number[], urlOf: (n: number) => string): Promise<void> {
  await Promise.all(numbers.map((n) => store.putLink(codec.codeOfNumber(n), { url: urlOf(n), createdAt: Date.now(), kind: KIND_GENERATED })))
}

function indexedCode (stores: readonly LmdbLinkStore[], url: string): string | undefined {
  for (const store of stores) {
    const code = store.getCodeByUrlKey(urlKey(url))
    if (code !== undefined) return code
  }
  return undefined
}

describe('catching up the index in the store', () => {
  const codec = new CodeCodec({ key: randomBytes(32), slots: 16 })
  const urlOf = (n: number): string => `https://example.com/index/${n}`

  test('indexes links above recorded number', async () => {
    const store = openStore(newDir(), codec)
    try {
      const numbers = Array.from({ length: 200 }, (_, i) => 16 * i + 3)
      await putLinks(store, codec, numbers, urlOf)
      const indexed = numbers.slice(0, 120)
      await store.putIndexEntries(indexed.map((n) => ({ urlKey: urlKey(urlOf(n)), number: n })), indexed.at(-1) as number)
      assert.equal(store.indexedThrough(), indexed.at(-1))

      assert.equal(store.catchUpIndex(), 80)
      for (const n of numbers) assert.equal(store.getCodeByUrlKey(urlKey(urlOf(n))), codec.codeOfNumber(n), `link ${n} is not indexed`)
      assert.equal(store.indexedThrough(), numbers.at(-1))
      assert.equal(store.catchUpIndex(), 0)
    } finally {
      await store.close()
    }
  })

  test('rebuilds more links than one pass takes', async () => {
    const store = openStore(newDir(), codec)
    try {
      // One catch-up transaction covers 100,000 links, so this needs two.
      const numbers = Array.from({ length: 100_050 }, (_, i) => i)
      await putLinks(store, codec, numbers, urlOf)

      assert.equal(store.catchUpIndex(), numbers.length)
      assert.equal(store.indexedThrough(), numbers.at(-1))
      for (const n of [0, 99_999, 100_000, 100_049]) assert.equal(store.getCodeByUrlKey(urlKey(urlOf(n))), codec.codeOfNumber(n), `link ${n} is not indexed`)
    } finally {
      await store.close()
    }
  })

  test('colliding digest takes next probe', async () => {
    const store = openStore(newDir(), codec)
    try {
      await putLinks(store, codec, [1, 2], urlOf)
      // Link 1 takes the first key of link 2's URL, as a digest collision would leave it.
      await store.putIndexEntries([{ urlKey: indexKeyOf(urlOf(2), 0), number: 1 }], 1)

      assert.equal(store.catchUpIndex(), 1)
      assert.equal(store.getCodeByUrlKey(indexKeyOf(urlOf(2), 0)), codec.codeOfNumber(1))
      assert.equal(store.getCodeByUrlKey(indexKeyOf(urlOf(2), 1)), codec.codeOfNumber(2))
    } finally {
      await store.close()
    }
  })
})

describe('index entries whose link is not stored', () => {
  // A power loss can keep an index write and lose the link it names. These
  // tests write such an entry directly, because that is the state it leaves.
  const MISSING_NUMBER = 4095

  test('catching up replaces them', async () => {
    const codec = new CodeCodec({ key: randomBytes(32), slots: 16 })
    const store = openStore(newDir(), codec)
    try {
      const url = 'https://example.com/dangling/catch-up'
      await store.putIndexEntries([{ urlKey: indexKeyOf(url, 0), number: MISSING_NUMBER }], 0)
      await putLinks(store, codec, [17], () => url)

      assert.equal(store.catchUpIndex(), 1)
      assert.equal(store.getCodeByUrlKey(indexKeyOf(url, 0)), codec.codeOfNumber(17))
    } finally {
      await store.close()
    }
  })

  test('a create of that URL takes the entry over', async () => {
    const dataDir = newDir()
    const url = 'https://example.com/dangling/create'
    const first = await startTestServer({ dataDir, shards: 1 })
    await first.close()
    await withDeploymentStores(dataDir, 1, (stores) => {
      void (stores[0] as LmdbLinkStore).putIndexEntries([{ urlKey: indexKeyOf(url, 0), number: MISSING_NUMBER }], -1)
    })

    const server = await startTestServer({ dataDir, shards: 1 })
    let code: string
    try {
      const created = await postJson(`${server.url}/api/v1/links`, { url })
      assert.equal(created.status, 201)
      code = created.body.code
      const again = await postJson(`${server.url}/api/v1/links`, { url })
      assert.equal(again.status, 200)
      assert.equal(again.body.code, code)
    } finally {
      await server.close()
    }
    await withDeploymentStores(dataDir, 1, (stores) => {
      assert.equal(stores[0]?.getCodeByUrlKey(indexKeyOf(url, 0)), code)
    })
  })
})

describe('the index in a running service', () => {
  test('unindexed links dedup until the stop', async () => {
    const dataDir = newDir()
    const urls = Array.from({ length: 50 }, (_, i) => `https://example.com/lagging/${i}`)
    // The lag is longer than the test, so every entry stays in the shards' memory until the stop.
    const server = await startTestServer({ dataDir, shards: 2, shard: { indexLagMs: 3_600_000, indexBatchEntries: 1_000_000 } })
    const codes = new Map<string, string>()
    try {
      for (const url of urls) {
        const response = await postJson(`${server.url}/api/v1/links`, { url })
        assert.equal(response.status, 201)
        codes.set(url, response.body.code)
      }
      assert.equal(await indexLag(server), urls.length)

      const again = await postJson(`${server.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
      assert.equal(again.status, 200)
      again.body.results.forEach((item: { code: string, created: boolean }, i: number) => {
        assert.equal(item.created, false, `${urls[i]} was created twice`)
        assert.equal(item.code, codes.get(urls[i] as string))
      })
    } finally {
      await server.close()
    }

    await withDeploymentStores(dataDir, 2, (stores) => {
      for (const url of urls) assert.equal(indexedCode(stores, url), codes.get(url), `${url} is not indexed after the stop`)
      for (const store of stores) assert.equal(store.catchUpIndex(), 0)
    })
  })

  test('failed index writes keep dedup', async () => {
    const dataDir = newDir()
    const urls = Array.from({ length: 30 }, (_, i) => `https://example.com/index-faults/${i}`)
    // Batches of 4 make every failed write leave a full batch queued, which must still wait for the timer.
    const server = await startTestServer({ dataDir, shards: 2, shard: { indexLagMs: 20, indexBatchEntries: 4 } }, { storeWrapper: FAULTY_STORE_PATH })
    const faults = new StoreFaults(2)
    const codes = new Map<string, string>()
    try {
      await faults.set({ mode: 'fail-index', rate: 1 })
      const created = await postJson(`${server.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
      assert.equal(created.status, 200)
      for (const [i, item] of (created.body.results as Array<{ code: string }>).entries()) codes.set(urls[i] as string, item.code)
      // Each shard fails more than one index write, so its retry failed too.
      await waitFor(async () => (await faults.counters()).every((counters) => counters.faults >= 2), 'index writes to fail twice on every shard')
      assert.equal(await indexLag(server), urls.length)

      const again = await postJson(`${server.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
      again.body.results.forEach((item: { code: string, created: boolean }, i: number) => {
        assert.equal(item.created, false, `${urls[i]} was created twice while its index write failed`)
        assert.equal(item.code, codes.get(urls[i] as string))
      })

      await faults.set({ mode: 'none' })
      await waitFor(async () => await indexLag(server) === 0, 'the index lag to drop to 0 after the faults stopped')
    } finally {
      await faults.set({ mode: 'none' })
      faults.close()
      await server.close()
    }

    await withDeploymentStores(dataDir, 2, (stores) => {
      for (const url of urls) assert.equal(indexedCode(stores, url), codes.get(url), `${url} is not indexed`)
    })
  })

  test('crash restart rebuilds missing entries', async () => {
    const dataDir = newDir()
    const urls = Array.from({ length: 40 }, (_, i) => `https://example.com/crash/${i}`)
    const args = ['--data-dir', dataDir, '--shards', '2', '--log-level', 'info']
    const first = await spawnServer([...args, '--shard.index-lag-ms', '3600000'])
    const codes = new Map<string, string>()
    try {
      const created = await postJson(`${first.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
      assert.equal(created.status, 200)
      for (const [i, item] of (created.body.results as Array<{ code: string }>).entries()) codes.set(urls[i] as string, item.code)
    } finally {
      first.process.kill('SIGKILL')
      await first.exited
    }

    const second = await spawnServer(args)
    try {
      const again = await postJson(`${second.url}/api/v1/links/batch`, { links: urls.map((url) => ({ url })) })
      assert.equal(again.status, 200)
      again.body.results.forEach((item: { code: string, created: boolean }, i: number) => {
        assert.equal(item.created, false, `${urls[i]} was created again after the crash`)
        assert.equal(item.code, codes.get(urls[i] as string))
      })
      // Each shard logs what it rebuilt; together that is every link of the crashed run.
      const rebuilt = await waitForRebuildLogs(second.lines, 2)
      assert.equal(rebuilt, urls.length)
    } finally {
      second.process.kill('SIGTERM')
      await second.exited
    }
  })
})

async function indexLag (server: TestServer): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  return [...metrics.matchAll(/^shortener_shard_index_lag_links\{shard="\d+"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

/** Polls `condition` every 20 ms and fails once 10 s passed without it. */
async function waitFor (condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after 10 s waiting for ${what}`)
    await sleep(20)
  }
}

/** Sums the `entries` of the shards' rebuild log lines once `shards` of them arrived. */
async function waitForRebuildLogs (lines: readonly string[], shards: number): Promise<number> {
  const rebuildLogs = (): Array<{ entries?: number }> => lines
    .map((line) => JSON.parse(line) as { msg?: string, entries?: number })
    .filter((entry) => entry.msg === 'rebuilt missing url index entries')
  await waitFor(async () => rebuildLogs().length >= shards, `${shards} rebuild log lines`)
  return rebuildLogs().reduce((sum, entry) => sum + (entry.entries ?? 0), 0)
}
