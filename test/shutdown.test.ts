/**
 * SIGTERM under load. The server must turn `/readyz` to 503, stop
 * listening, let in-flight requests finish within `shutdownGraceMs`, flush
 * and close its stores, and exit with 0. No acknowledged create may be lost
 * and no accepted request may go without a response.
 *
 * What counts as accepted: a request is accepted once the server has read
 * it. The client cannot see that directly, so each request ends in one of
 * these outcomes:
 * - `responded`: the client got a whole response;
 * - `refused`: the connection was refused, so the server never saw it;
 * - `resetBeforeResponse`: the connection closed before any response byte.
 *   Such a create counts as accepted-and-dropped when its link exists after
 *   the restart (the server read it and stored it), otherwise as not accepted;
 * - `resetMidResponse`: the connection closed after response bytes arrived,
 *   an accepted request whose response was dropped.
 * The test asserts that no request is accepted-and-dropped or reset mid-response.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { postJson, removeDir, resolveCode, spawnServer, tempDataDir, type ChildServer } from './helpers/server.ts'

const SHUTDOWN_GRACE_MS = 5000
const SINGLE_CLIENTS = 8
const BATCH_CLIENTS = 4
const BATCH_SIZE = 200
const LOAD_BEFORE_SIGTERM_MS = 500

const dataDir = tempDataDir('shortener-shutdown-')
const servers: ChildServer[] = []

after(async () => {
  for (const server of servers) {
    if (server.process.exitCode === null && server.process.signalCode === null) {
      server.process.kill('SIGKILL')
      await server.exited
    }
  }
  removeDir(dataDir)
})

type Outcome =
  | { kind: 'responded', status: number, body: string }
  | { kind: 'refused' | 'resetBeforeResponse' | 'resetMidResponse', error: string }

/** Sends one request and classifies how it ended; never rejects. */
function send (agent: http.Agent, port: number, method: string, path: string, body?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let responseStarted = false
    const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (response) => {
      responseStarted = true
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      response.on('end', () => { resolve({ kind: 'responded', status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }) })
      response.on('error', (error) => { resolve({ kind: 'resetMidResponse', error: String(error) }) })
    })
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve({ kind: 'refused', error: error.code })
      else resolve({ kind: responseStarted ? 'resetMidResponse' : 'resetBeforeResponse', error: `${error.code ?? ''} ${error.message}` })
    })
    request.end(body)
  })
}

interface Counts {
  responded: number
  refused: number
  resetBeforeResponse: number
  resetMidResponse: number
  shuttingDown: number
  respondedAfterSigterm: number
}

test('SIGTERM drains, flushes and exits 0', { timeout: 60_000 }, async (t) => {
  const server = await spawnServer(['--data-dir', dataDir, '--shards', '2', '--shutdown-grace-ms', String(SHUTDOWN_GRACE_MS)])
  servers.push(server)
  const agent = new http.Agent({ keepAlive: true, maxSockets: SINGLE_CLIENTS + BATCH_CLIENTS })
  const readyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })

  const acknowledged = new Map<string, string>()
  const resetUrls: string[] = []
  const counts: Counts = { responded: 0, refused: 0, resetBeforeResponse: 0, resetMidResponse: 0, shuttingDown: 0, respondedAfterSigterm: 0 }
  const unexpected: string[] = []
  let sigtermAt = Number.POSITIVE_INFINITY
  let stopped = false
  server.exited.then(() => { stopped = true }, () => { stopped = true })

  const record = (outcome: Outcome, urls: string[], sentAt: number, isBatch: boolean): boolean => {
    if (outcome.kind !== 'responded') {
      counts[outcome.kind]++
      if (outcome.kind === 'resetBeforeResponse') resetUrls.push(...urls)
      return false
    }
    counts.responded++
    if (sentAt < sigtermAt && Date.now() >= sigtermAt) counts.respondedAfterSigterm++
    const body = JSON.parse(outcome.body)
    if (outcome.status === 503 && body.code === 'SHUTTING_DOWN') {
      counts.shuttingDown++
      return true
    }
    if (!isBatch && outcome.status === 201) {
      acknowledged.set(body.code, urls[0] as string)
      return true
    }
    if (isBatch && outcome.status === 200) {
      body.results.forEach((item: { code?: string, created?: boolean }, k: number) => {
        if (item.created === true && item.code !== undefined) acknowledged.set(item.code, urls[k] as string)
        else unexpected.push(`batch item ${JSON.stringify(item)}`)
      })
      return true
    }
    unexpected.push(`${outcome.status} ${outcome.body}`)
    return true
  }

  let urlCounter = 0
  const client = async (isBatch: boolean): Promise<void> => {
    while (!stopped) {
      const urls = Array.from({ length: isBatch ? BATCH_SIZE : 1 }, () => `https://example.com/shutdown/${urlCounter++}`)
      const body = isBatch ? JSON.stringify({ links: urls.map((url) => ({ url })) }) : JSON.stringify({ url: urls[0] })
      const sentAt = Date.now()
      const outcome = await send(agent, server.port, 'POST', isBatch ? '/api/v1/links/batch' : '/api/v1/links', body)
      if (!record(outcome, urls, sentAt, isBatch)) return
    }
  }

  const readiness: Array<{ at: number, status: number }> = []
  const pollReadiness = async (): Promise<void> => {
    while (!stopped) {
      const outcome = await send(readyAgent, server.port, 'GET', '/readyz')
      if (outcome.kind !== 'responded') return
      readiness.push({ at: Date.now(), status: outcome.status })
    }
  }

  const clients = [
    ...Array.from({ length: SINGLE_CLIENTS }, async () => await client(false)),
    ...Array.from({ length: BATCH_CLIENTS }, async () => await client(true)),
    pollReadiness()
  ]
  await sleep(LOAD_BEFORE_SIGTERM_MS)
  sigtermAt = Date.now()
  server.process.kill('SIGTERM')

  // Once /readyz returns 503, the listening socket must be closed, so a new connection is refused.
  for (let i = 0; i < 200 && !readiness.some((r) => r.at >= sigtermAt && r.status === 503) && !stopped; i++) await sleep(5)
  const freshAgent = new http.Agent({ keepAlive: false })
  const stoppedBeforeProbe = stopped
  const fresh = stopped ? undefined : await send(freshAgent, server.port, 'GET', '/healthz')

  const exitCode = await server.exited
  await Promise.all(clients)
  agent.destroy()
  readyAgent.destroy()
  freshAgent.destroy()

  const afterSigterm = readiness.filter((r) => r.at >= sigtermAt)
  t.diagnostic(`outcomes: ${JSON.stringify(counts)}, acknowledged ${acknowledged.size}, ` +
    `/readyz after SIGTERM: ${afterSigterm.map((r) => r.status).join(',') || 'none'}, new connection: ${fresh?.kind ?? 'server already gone'}`)

  assert.equal(exitCode, 0, 'the server exits with 0')
  assert.deepEqual(unexpected, [], 'every response is a created link or SHUTTING_DOWN')
  assert.equal(counts.resetMidResponse, 0, 'no response was cut off')
  assert.ok(acknowledged.size > 0, 'the load created links')
  assert.ok(counts.respondedAfterSigterm > 0, 'requests in flight at SIGTERM were answered')
  // A /readyz request can still be served before the server handles the signal, but after a 503 it must stay 503.
  const firstNotReady = afterSigterm.findIndex((r) => r.status === 503)
  assert.ok(firstNotReady >= 0 || stoppedBeforeProbe, '/readyz turned 503 while connections were still open')
  if (firstNotReady >= 0) {
    assert.ok(afterSigterm.slice(firstNotReady).every((r) => r.status === 503), '/readyz never says ready again after 503')
  }
  if (fresh !== undefined) {
    assert.equal(fresh.kind, 'refused', `a new connection after /readyz turned 503 is refused, got ${JSON.stringify(fresh)}`)
  }

  const logged = server.lines.map((line) => (JSON.parse(line) as { msg?: string }).msg)
  assert.ok(logged.includes('stopping: draining in-flight requests'))
  assert.ok(!logged.includes('grace period over; closing with requests in flight'), `in-flight requests finished within ${SHUTDOWN_GRACE_MS} ms`)
  assert.ok(logged.includes('stopped'), 'the server closed its stores and logged the stop')

  // Restart: every acknowledged link is there, and no reset create was stored.
  const restarted = await spawnServer(['--data-dir', dataDir, '--shards', '2'])
  servers.push(restarted)
  for (const [code, url] of acknowledged) {
    const resolved = await resolveCode(restarted.url, code)
    assert.equal(resolved.status, 302, `acknowledged code ${code} survives the shutdown`)
    assert.equal(resolved.location, url)
  }
  let acceptedAndDropped = 0
  for (const url of resetUrls) {
    const again = await postJson(`${restarted.url}/api/v1/links`, { url })
    if (again.body.created !== true) acceptedAndDropped++
  }
  t.diagnostic(`reset before a response: ${resetUrls.length} URLs, stored anyway: ${acceptedAndDropped}`)
  assert.equal(acceptedAndDropped, 0, 'no create was stored without its response reaching the client')
  restarted.process.kill('SIGTERM')
  assert.equal(await restarted.exited, 0)
})
