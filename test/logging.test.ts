import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MetaStore } from '../src/store/meta.ts'
import { postJson, removeDir, resolveCode, spawnServer, tempDataDir, type ChildServer } from './helpers/server.ts'

interface LogLine {
  level: number
  msg: string
  [field: string]: unknown
}

const SHARDS = 2
const WARN = 40

let dataDir: string
let child: ChildServer
let lines: LogLine[]
let exitCode: number | string

before(async () => {
  dataDir = tempDataDir()
  child = await spawnServer(['--data-dir', dataDir, '--shards', String(SHARDS)], {
    SHORTENER_RATE_LIMIT_ENABLED: 'true',
    SHORTENER_RATE_LIMIT_NOT_FOUND_BURST: '1'
  })
  assert.equal((await postJson(`${child.url}/api/v1/links`, { url: 'https://example.com/logged' })).status, 201)
  assert.equal((await resolveCode(child.url, 'zzzzzz1')).status, 404)
  assert.equal((await resolveCode(child.url, 'zzzzzz2')).status, 429)

  child.process.kill('SIGTERM')
  exitCode = await child.exited
  lines = child.lines.map((line) => JSON.parse(line) as LogLine)
})

after(() => { removeDir(dataDir) })

function withMessage (message: string): LogLine[] {
  return lines.filter((line) => line.msg === message)
}

test('SIGTERM stops with exit code 0', () => {
  assert.equal(exitCode, 0)
})

test('start line carries the config', () => {
  const [starting] = withMessage('starting')
  assert.ok(starting !== undefined, 'a starting line')
  const config = starting.config as { shards?: number, rateLimit?: { enabled?: boolean } }
  assert.equal(config.shards, SHARDS)
  assert.equal(config.rateLimit?.enabled, true)
  assert.equal(withMessage('listening').length, 1)
})

test('range grants and the stop are logged', () => {
  assert.ok(withMessage('range lease granted').length >= 1)
  assert.equal(withMessage('received stop signal').length, 1)
  assert.equal(withMessage('stopped').length, 1)
})

test('rate-limited clients are logged as warnings', () => {
  const [limited] = withMessage('client rate limited')
  assert.ok(limited !== undefined)
  assert.equal(limited.level, WARN)
  assert.equal(limited.limit, 'not-found')
  assert.equal(limited.client, '127.0.0.1')
})

test('no request is logged', () => {
  const text = lines.map((line) => JSON.stringify(line)).join('\n')
  assert.ok(!text.includes('https://example.com/logged'), 'a created target appears in the log')
})

test('permutation key is never logged', async () => {
  const meta = new MetaStore(dataDir)
  const { permutationKey } = meta.loadConstants({ slots: 4096, shards: SHARDS })
  await meta.close()

  const key = Buffer.from(permutationKey)
  const text = child.lines.join('\n')
  for (const form of [key.toString('hex'), key.toString('base64'), JSON.stringify([...key]).slice(1, -1)]) {
    assert.ok(!text.includes(form), 'the key appears in the log')
  }
})
