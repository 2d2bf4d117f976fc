import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { BLOCK_MARKER, BLOCKING_STORE_PATH } from './helpers/blocking-store.ts'
import { FAULTY_STORE_PATH, StoreFaults } from './helpers/faulty-store.ts'
import { request } from './helpers/api.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text format; fails on any line that is neither a comment nor a sample. */
function parseMetrics (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(match !== null, `malformed metrics line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** Returns the samples named `name` whose labels include every pair of `labels`. */
function find (samples: Sample[], name: string, labels: Record<string, string | number> = {}): Sample[] {
  return samples.filter((sample) => sample.name === name &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === String(value)))
}

/** Returns the value of the one sample that matches; fails when there is none or several. */
function valueOf (samples: Sample[], name: string, labels: Record<string, string | number> = {}): number {
  const found = find(samples, name, labels)
  assert.equal(found.length, 1, `one sample ${name}${JSON.stringify(labels)}, found ${found.length}`)
  return (found[0] as Sample).value
}

function sum (samples: Sample[], name: string): number {
  return find(samples, name).reduce((total, sample) => total + sample.value, 0)
}

async function scrape (server: TestServer): Promise<Sample[]> {
  const response = await fetch(`${server.url}/metrics`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parseMetrics(await response.text())
}

const SHARDS = 3
const LINKS = 5
const REPEATS = 3
const EXTRA_REDIRECTS = 64

describe('metrics after traffic', () => {
  let server: TestServer
  let samples: Sample[]
  const codes: string[] = []

  before(async () => {
    server = await startTestServer({
      shards: SHARDS,
      rateLimit: { enabled: true, createBurst: 100, notFoundBurst: 1, notFoundPerSecond: 1 }
    })

    for (let i = 0; i < LINKS; i++) {
      const created = await postJson(`${server.url}/api/v1/links`, { url: `https://example.com/metrics/${i}` })
      assert.equal(created.status, 201)
      codes.push(created.body.code)
    }
    assert.equal((await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/metrics/0' })).status, 200)
    assert.equal((await postJson(`${server.url}/api/v1/links`, { url: 'ftp://example.com/' })).status, 400)
    const batch = await postJson(`${server.url}/api/v1/links/batch`, { links: [{ url: 'https://example.com/metrics/batch' }] })
    assert.equal(batch.status, 200)

    for (let round = 0; round < REPEATS; round++) {
      for (const code of codes) assert.equal((await resolveCode(server.url, code)).status, 302)
    }
    for (let i = 0; i < EXTRA_REDIRECTS; i++) assert.equal((await resolveCode(server.url, codes[0] as string)).status, 302)
    // The not-found burst is 1: the first unknown code gets 404, the second 429.
    assert.equal((await resolveCode(server.url, 'zzzzzz1')).status, 404)
    assert.equal((await resolveCode(server.url, 'zzzzzz2')).status, 429)

    const code = codes[1] as string
    assert.equal((await request(`${server.url}/api/v1/links/${code}`)).status, 200)
    assert.equal((await request(`${server.url}/api/v1/links/${code}`)).status, 200)

    samples = await scrape(server)
  })

  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('counts requests by route and status', () => {
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'create', status: 201 }), LINKS)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'create', status: 200 }), 1)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'create', status: 400 }), 1)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'batch', status: 200 }), 1)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'get', status: 200 }), 2)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'redirect', status: 302 }), LINKS * REPEATS + EXTRA_REDIRECTS)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'redirect', status: 404 }), 1)
    assert.equal(valueOf(samples, 'shortener_http_requests_total', { route: 'redirect', status: 429 }), 1)
  })

  test('counts rate-limit rejections', () => {
    assert.equal(valueOf(samples, 'shortener_rate_limited_total', { limit: 'not-found' }), 1)
    assert.equal(valueOf(samples, 'shortener_rate_limited_total', { limit: 'create' }), 0)
    assert.equal(valueOf(samples, 'shortener_rate_limit_clients', { limit: 'create' }), 1, 'one client, the loopback peer')
  })

  test('times API requests and samples redirects', () => {
    const creates = LINKS + 2
    assert.equal(valueOf(samples, 'shortener_api_request_duration_seconds_count', { route: 'create' }), creates)
    assert.equal(valueOf(samples, 'shortener_api_request_duration_seconds_bucket', { route: 'create', le: '+Inf' }), creates)
    assert.ok(valueOf(samples, 'shortener_api_request_duration_seconds_sum', { route: 'create' }) > 0)

    const redirects = LINKS * REPEATS + EXTRA_REDIRECTS + 2
    assert.equal(valueOf(samples, 'shortener_redirect_handler_duration_seconds_count'), Math.floor(redirects / 64))
  })

  test('front cache hits follow repeated redirects', () => {
    // The first redirect of each code misses and fills the cache; every later one hits.
    const hits = LINKS * (REPEATS - 1) + EXTRA_REDIRECTS
    assert.equal(valueOf(samples, 'shortener_front_cache_hits_total'), hits)
    assert.equal(valueOf(samples, 'shortener_front_cache_misses_total'), LINKS + 2)
  })

  test('every shard has its series', () => {
    const perShard = [
      'shortener_shard_queue_depth', 'shortener_shard_breaker_state', 'shortener_shard_worker_restarts_total',
      'shortener_shard_stats_up', 'shortener_shard_cache_hits_total', 'shortener_shard_cache_misses_total',
      'shortener_shard_leases_granted_total', 'shortener_shard_lease_remaining', 'shortener_shard_store_bytes',
      'shortener_shard_links', 'shortener_shard_flushes_total', 'shortener_shard_flush_seconds_total',
      'shortener_shard_store_errors_total'
    ]
    for (const name of perShard) {
      for (let shard = 0; shard < SHARDS; shard++) {
        assert.equal(find(samples, name, { shard }).length, 1, `${name}{shard="${shard}"}`)
      }
    }
  })

  test('shard figures are plausible', () => {
    assert.equal(sum(samples, 'shortener_shard_links'), LINKS + 1, 'every created link is counted once')
    assert.equal(sum(samples, 'shortener_shard_queue_depth'), 0, 'nothing in flight after the traffic')
    assert.equal(sum(samples, 'shortener_shard_breaker_state'), 0, 'every breaker closed')
    assert.equal(sum(samples, 'shortener_shard_stats_up'), SHARDS)
    assert.equal(sum(samples, 'shortener_shard_worker_restarts_total'), 0)
    assert.equal(sum(samples, 'shortener_shard_store_errors_total'), 0)
    assert.ok(sum(samples, 'shortener_shard_cache_hits_total') >= 1, 'the repeated API lookup hit a shard cache')
    assert.ok(sum(samples, 'shortener_shard_flushes_total') >= 1, 'durability flush waited for flushes')
    assert.ok(sum(samples, 'shortener_shard_flush_seconds_total') > 0)
    assert.equal(valueOf(samples, 'shortener_shard_queue_limit'), server.config.shard.maxQueuedOperations)

    for (let shard = 0; shard < SHARDS; shard++) {
      assert.ok(valueOf(samples, 'shortener_shard_store_bytes', { shard }) > 0, `shard ${shard} has a store file`)
      if (valueOf(samples, 'shortener_shard_links', { shard }) === 0) continue
      assert.ok(valueOf(samples, 'shortener_shard_leases_granted_total', { shard }) >= 1, `shard ${shard} leased a range`)
      assert.ok(valueOf(samples, 'shortener_shard_lease_remaining', { shard }) > 0)
    }
  })

  test('process metrics are included', () => {
    assert.ok(find(samples, 'process_cpu_user_seconds_total').length === 1)
    assert.ok(find(samples, 'nodejs_eventloop_lag_seconds').length === 1)
    assert.ok(valueOf(samples, 'process_resident_memory_bytes') > 0)
  })

  test('a second scrape keeps counters steady', async () => {
    const again = await scrape(server)
    assert.equal(valueOf(again, 'shortener_http_requests_total', { route: 'redirect', status: 302 }), LINKS * REPEATS + EXTRA_REDIRECTS)
    assert.equal(valueOf(again, 'shortener_front_cache_hits_total'), valueOf(samples, 'shortener_front_cache_hits_total'))
    assert.equal(valueOf(again, 'shortener_http_requests_total', { route: 'metrics', status: 200 }), 1, 'the first scrape is counted')
  })
})

describe('metrics across a worker restart', () => {
  let server: TestServer
  let faults: StoreFaults

  before(async () => {
    server = await startTestServer({}, { storeWrapper: FAULTY_STORE_PATH })
    faults = new StoreFaults(server.config.shards)
  })

  after(async () => {
    faults.close()
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('counts the restart of a shard worker', async () => {
    await faults.set({ mode: 'exit', rate: 1 })
    const failed = await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/restart' })
    assert.ok(failed.status >= 500, `the create whose worker exited fails, received ${failed.status}`)

    // Wait, bounded, until piscina replaced the worker and every shard replies to stats again.
    let samples: Sample[] = []
    for (let attempt = 0; attempt < 60; attempt++) {
      samples = await scrape(server)
      if (sum(samples, 'shortener_shard_worker_restarts_total') >= 1 && sum(samples, 'shortener_shard_stats_up') === server.config.shards) break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }

    const restarted = server.shards.filter((shard) => shard.restarts > 0)
    assert.equal(restarted.length, 1, 'one worker exited')
    const shard = (restarted[0] as TestServer['shards'][number]).id
    assert.equal(valueOf(samples, 'shortener_shard_worker_restarts_total', { shard }), server.shards[shard]?.restarts)
    assert.equal(sum(samples, 'shortener_shard_stats_up'), server.config.shards, 'the new worker replies to stats')
  })
})

describe('metrics with a blocked shard', () => {
  let server: TestServer

  before(async () => {
    // One shard, so the blocking create surely lands on the shard under test.
    server = await startTestServer({ shards: 1, shard: { timeoutMs: 300 } }, { storeWrapper: BLOCKING_STORE_PATH })
    // Lease a range first: the blocking create must reach putLink without waiting.
    assert.equal((await postJson(`${server.url}/api/v1/links`, { url: 'https://example.com/warm-up' })).status, 201)
  })

  after(async () => {
    await server.close()
    removeDir(server.config.dataDir)
  })

  test('scrape does not wait for a blocked shard', async () => {
    const blocked = postJson(`${server.url}/api/v1/links`, { url: `https://example.com${BLOCK_MARKER}1` })

    // A scrape sent before the worker blocks still sees it up; later ones,
    // while it is blocked, must come back with stats_up 0 instead of waiting.
    let samples: Sample[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      samples = await scrape(server)
      if (valueOf(samples, 'shortener_shard_stats_up', { shard: 0 }) === 0) break
    }
    assert.equal(valueOf(samples, 'shortener_shard_stats_up', { shard: 0 }), 0)
    assert.equal(find(samples, 'shortener_shard_links', { shard: 0 }).length, 0, 'worker-side series are left out')
    assert.equal(find(samples, 'shortener_shard_queue_depth', { shard: 0 }).length, 1, 'front-side series remain')

    const outcome = await blocked
    assert.equal(outcome.status, 503, 'the blocked create timed out')
    assert.equal(outcome.body.code, 'SHARD_TIMEOUT')
  })
})
