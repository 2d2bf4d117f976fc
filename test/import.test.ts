import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { readLines } from '../src/import/lines.ts'
import { retryAfterMs } from '../src/import/server-client.ts'
import { count, rejectedCount, runImport, spawnImport } from './helpers/import-cli.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

let server: TestServer
const dir = mkdtempSync(join(tmpdir(), 'shortener-import-test-'))

before(async () => {
  server = await startTestServer()
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
  removeDir(dir)
})

let fileCounter = 0

/** Writes `content` to a new file in the test directory and returns its path. */
function inputFile (content: string): string {
  const path = join(dir, `input-${++fileCounter}.txt`)
  writeFileSync(path, content)
  return path
}

function rejectsPath (): string {
  return join(dir, `rejects-${++fileCounter}.tsv`)
}

function readRejects (path: string): string[][] {
  const text = readFileSync(path, 'utf8')
  if (text === '') return []
  assert.ok(text.endsWith('\n'), 'rejects file ends with a line break')
  return text.slice(0, -1).split('\n').map((line) => {
    const [number, code, ...rest] = line.split('\t')
    return [number as string, code as string, rest.join('\t')]
  })
}

/** Returns a loopback port with nothing listening on it. */
async function closedPort (): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => { probe.listen(0, '127.0.0.1', resolve) })
  const address = probe.address()
  await new Promise<void>((resolve) => { probe.close(() => { resolve() }) })
  assert.ok(address !== null && typeof address !== 'string', 'a TCP server has an address object')
  return address.port
}

const MIXED = [
  'https://import.example/one',
  'ftp://files.example/pub/',
  'https://Import.Example/one',
  'http://user:secret@import.example/private',
  'not a url at all',
  'https://import.example/two'
].join('\n') + '\n'

describe('import counts and rejects', () => {
  const file = inputFile(MIXED)
  const rejects = rejectsPath()
  let first: Awaited<ReturnType<typeof runImport>>

  before(async () => {
    first = await runImport([file, '--server', server.url, '--rejects', rejects])
  })

  test('exits 0', () => {
    assert.equal(first.status, 0, first.stderr)
  })

  test('counts created, existing and rejected lines', () => {
    assert.equal(count(first, 'lines read'), 6)
    assert.equal(count(first, 'created'), 2)
    assert.equal(count(first, 'already existing'), 1)
    assert.equal(count(first, 'rejected'), 3)
  })

  test('counts rejects per error code', () => {
    assert.equal(rejectedCount(first, 'UNSUPPORTED_SCHEME'), 1)
    assert.equal(rejectedCount(first, 'URL_HAS_CREDENTIALS'), 1)
    assert.equal(rejectedCount(first, 'INVALID_URL'), 1)
  })

  test('rejects file lists line, code and raw line in order', () => {
    assert.deepEqual(readRejects(rejects), [
      ['2', 'UNSUPPORTED_SCHEME', 'ftp://files.example/pub/'],
      ['4', 'URL_HAS_CREDENTIALS', 'http://user:secret@import.example/private'],
      ['5', 'INVALID_URL', 'not a url at all']
    ])
  })

  test('re-run creates nothing new', async () => {
    const again = await runImport([file, '--server', server.url])
    assert.equal(again.status, 0, again.stderr)
    assert.equal(count(again, 'created'), 0)
    assert.equal(count(again, 'already existing'), 3)
    assert.equal(count(again, 'rejected'), 3)
  })
})

test('CRLF line ends are not part of the URL', async () => {
  const file = inputFile('https://crlf.example/a\r\nftp://crlf.example/\r\n\r\n   \r\nhttps://crlf.example/b\r\n')
  const rejects = rejectsPath()
  const run = await runImport([file, '--server', server.url, '--rejects', rejects])

  assert.equal(run.status, 0, run.stderr)
  assert.equal(count(run, 'lines read'), 5)
  assert.equal(count(run, 'empty lines skipped'), 1)
  assert.equal(count(run, 'created'), 2)
  assert.deepEqual(readRejects(rejects), [
    ['2', 'UNSUPPORTED_SCHEME', 'ftp://crlf.example/'],
    ['4', 'INVALID_URL', '   ']
  ])
  const again = await postJson(`${server.url}/api/v1/links`, { url: 'https://crlf.example/a' })
  assert.equal(again.body.created, false, 'the imported URL has no trailing CR')
})

test('empty lines are skipped and counted', async () => {
  const file = inputFile('\n\nhttps://empty.example/a\n\n\nhttps://empty.example/b')
  const rejects = rejectsPath()
  const run = await runImport([file, '--server', server.url, '--rejects', rejects])

  assert.equal(run.status, 0, run.stderr)
  assert.equal(count(run, 'lines read'), 6)
  assert.equal(count(run, 'empty lines skipped'), 4)
  assert.equal(count(run, 'created'), 2)
  assert.equal(count(run, 'rejected'), 0)
  assert.deepEqual(readRejects(rejects), [])
})

test('surrounding spaces are left to the server', async () => {
  const file = inputFile('  https://spaces.example/a  \n')
  const run = await runImport([file, '--server', server.url])
  assert.equal(count(run, 'created'), 1)

  const again = await postJson(`${server.url}/api/v1/links`, { url: 'https://spaces.example/a' })
  assert.equal(again.body.created, false, 'the server trimmed the spaces')
})

test('line over every server limit is rejected locally', async () => {
  const huge = `https://long.example/${'a'.repeat(70_000)}`
  const overServerLimit = `https://long.example/${'b'.repeat(3000)}`
  const file = inputFile(`https://long.example/short\n${huge}\n${overServerLimit}\nhttps://long.example/after\n`)
  const rejects = rejectsPath()
  const run = await runImport([file, '--server', server.url, '--rejects', rejects])

  assert.equal(run.status, 0, run.stderr)
  assert.equal(count(run, 'created'), 2)
  assert.equal(rejectedCount(run, 'LINE_TOO_LONG'), 1)
  assert.equal(rejectedCount(run, 'URL_TOO_LONG'), 1)
  const rows = readRejects(rejects)
  assert.deepEqual(rows.map(([number, code]) => [number, code]), [['2', 'LINE_TOO_LONG'], ['3', 'URL_TOO_LONG']])
  assert.equal(rows[0]?.[2], huge.slice(0, 65_536), 'a LINE_TOO_LONG line is cut to the limit')
})

test('--verify checks every redirect', async () => {
  const urls = Array.from({ length: 250 }, (_, i) => `https://verify.example/page/${i}?q=${i % 7}`)
  const file = inputFile(`${urls.join('\n')}\nhttps://VERIFY.example/page/0?q=0\nftp://verify.example/\n`)
  const run = await runImport([file, '--server', server.url, '--verify', '--batch-size', '64'])

  assert.equal(run.status, 0, run.stderr)
  assert.equal(count(run, 'created'), 250)
  assert.equal(count(run, 'already existing'), 1)
  assert.equal(count(run, 'verify matched'), 251)
  assert.equal(count(run, 'verify mismatched'), 0)
})

test('links failing with 503 are retried', async () => {
  // A queue of 20 operations per shard makes part of every 50-link batch fail with SHARD_OVERLOADED.
  const small = await startTestServer({ shard: { maxQueuedOperations: 20 } })
  try {
    const urls = Array.from({ length: 200 }, (_, i) => `https://overload.example/${i}`)
    const file = inputFile(urls.join('\n'))
    const run = await runImport([file, '--server', small.url, '--batch-size', '50', '--concurrency', '2', '--retries', '8'])

    assert.equal(run.status, 0, run.stderr)
    assert.equal(count(run, 'created') + count(run, 'already existing'), 200)
    assert.equal(count(run, 'rejected'), 0)
    const resolved = await resolveCode(small.url, (await postJson(`${small.url}/api/v1/links`, { url: urls[199] })).body.code)
    assert.equal(resolved.location, urls[199])
  } finally {
    await small.close()
    removeDir(small.config.dataDir)
  }
})

test('whole batch rejected exits 1 with a hint', async () => {
  const urls = Array.from({ length: 1001 }, (_, i) => `https://rejected.example/${i}`)
  const file = inputFile(urls.join('\n'))
  const run = await runImport([file, '--server', server.url, '--batch-size', '1001'])

  assert.equal(run.status, 1)
  assert.match(run.stderr, /400 BATCH_TOO_LARGE/)
  assert.match(run.stderr, /lower --batch-size/)
})

describe('spawned command', () => {
  test('imports, verifies and exits 0', async () => {
    const file = inputFile('https://spawned.example/a\nftp://spawned.example/\nhttps://spawned.example/b\n')
    const rejects = rejectsPath()
    const run = await spawnImport([file, '--server', server.url, '--rejects', rejects, '--verify'])

    assert.equal(run.status, 0, run.stderr)
    assert.equal(count(run, 'created'), 2)
    assert.equal(count(run, 'verify matched'), 2)
    assert.deepEqual(readRejects(rejects), [['2', 'UNSUPPORTED_SCHEME', 'ftp://spawned.example/']])
    assert.equal(run.stderr, '', 'no progress output when stderr is not a terminal')
  })

  test('unreachable server exits 1 with a message', async () => {
    const port = await closedPort()
    const file = inputFile('https://unreachable.example/a\n')
    const run = await spawnImport([file, '--server', `http://127.0.0.1:${port}`, '--retries', '1'])

    assert.equal(run.status, 1)
    assert.match(run.stderr, new RegExp(`cannot reach the shortener at http://127\\.0\\.0\\.1:${port}`))
    assert.match(run.stderr, /ECONNREFUSED/)
  })

  test('invalid option exits 2 naming it', async () => {
    const run = await spawnImport([inputFile('https://a.example/\n'), '--concurrency', '0'])
    assert.equal(run.status, 2)
    assert.match(run.stderr, /--concurrency must be an integer from 1 to 256, received "0"/)
  })

  test('--help lists every option', async () => {
    const run = await spawnImport(['--help'])
    assert.equal(run.status, 0)
    for (const option of ['--server', '--rejects', '--batch-size', '--max-body-bytes', '--concurrency', '--retries', '--timeout-ms', '--verify', '--verify-concurrency']) {
      assert.ok(run.stdout.includes(option), `help mentions ${option}`)
    }
  })
})

describe('readLines', () => {
  async function collect (content: string, maxLineChars?: number): Promise<Array<[number, string, boolean]>> {
    const lines: Array<[number, string, boolean]> = []
    for await (const line of readLines(inputFile(content), maxLineChars)) lines.push([line.number, line.text, line.tooLong])
    return lines
  }

  test('lone CR stays inside the line', async () => {
    assert.deepEqual(await collect('a\rb\nc\r\n'), [[1, 'a\rb', false], [2, 'c', false]])
  })

  test('last line without LF counts', async () => {
    assert.deepEqual(await collect('a\nb'), [[1, 'a', false], [2, 'b', false]])
  })

  test('long line is cut and flagged', async () => {
    assert.deepEqual(await collect('abcdefgh\nabcd\r\nabcde\n', 4), [[1, 'abcd', true], [2, 'abcd', false], [3, 'abcd', true]])
  })

  test('multi-byte characters across chunks survive', async () => {
    const line = 'é'.repeat(100_000)
    const lines = await collect(`${line}\nx\n`, 200_000)
    assert.equal(lines[0]?.[1], line)
    assert.equal(lines[1]?.[1], 'x')
  })
})

describe('retryAfterMs', () => {
  test('reads seconds', () => {
    assert.equal(retryAfterMs('3'), 3000)
  })

  test('reads an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000)
  })

  test('ignores a missing or unreadable header', () => {
    assert.equal(retryAfterMs(null), undefined)
    assert.equal(retryAfterMs('soon'), undefined)
  })

  test('caps a very long wait', () => {
    assert.equal(retryAfterMs('86400'), 300_000)
  })
})
