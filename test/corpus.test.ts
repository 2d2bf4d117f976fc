/**
 * The import command on a deterministic sample of a real URL corpus: every
 * 27th line plus every line that is not a plain http(s) URL (other schemes,
 * credentials, spaces, non-ASCII hosts, bad ports), so the odd lines are
 * always in. Each line's outcome is compared
 * with the WHATWG URL parser's verdict on it. The corpus holds real
 * hosts, so nothing here follows a redirect.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { count, rejectedCount, runImport, type ImportRun } from './helpers/import-cli.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'

const FULL_CORPUS = fileURLToPath(new URL('../../shared/corpus/debian-doc-urls.txt', import.meta.url))
/**
 * The same sample, drawn from the full corpus by the rule below and
 * committed, so that a clone without the corpus beside it runs this test too.
 */
const SAMPLE_FIXTURE = fileURLToPath(new URL('./fixtures/corpus/debian-doc-urls-sample.txt', import.meta.url))
const CORPUS = existsSync(FULL_CORPUS) ? FULL_CORPUS : SAMPLE_FIXTURE
const SKIP = existsSync(CORPUS) ? false : `corpus file ${CORPUS} is missing`
const SAMPLE_STRIDE = CORPUS === FULL_CORPUS ? 27 : 1
/** The test server's maxUrlLength (the default). */
const MAX_URL_LENGTH = 2048

/** A line that is anything but `http(s)://` + a plain host, optional port, then printable ASCII. */
const PLAIN_HTTP_LINE = /^https?:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:[/?#][\x21-\x7e]*)?$/

function isOddLine (line: string): boolean {
  return !PLAIN_HTTP_LINE.test(line)
}

/** The error code the service must give a line, or undefined when it must accept it, from WHATWG parsing alone. */
function expectedReason (line: string): string | undefined {
  const trimmed = line.trim()
  if (trimmed === '') return 'INVALID_URL'
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return 'INVALID_URL'
  }
  if (url.href.length > MAX_URL_LENGTH) return 'URL_TOO_LONG'
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'UNSUPPORTED_SCHEME'
  if (url.username !== '' || url.password !== '') return 'URL_HAS_CREDENTIALS'
  if (url.hostname === '') return 'INVALID_URL'
  return undefined
}

describe('corpus sample import', { skip: SKIP }, () => {
  let server: TestServer
  let dir: string
  let sample: string[]
  let run: ImportRun
  /** Error code per 1-based sample line number, from the rejects file. */
  const rejected = new Map<number, string>()

  before(async () => {
    server = await startTestServer()
    dir = mkdtempSync(join(tmpdir(), 'shortener-corpus-test-'))
    // Line ends are removed the way the importer does: LF, and one CR before it.
    const lines = readFileSync(CORPUS, 'utf8').split('\n').map((line) => line.replace(/\r$/, ''))
    if (lines.at(-1) === '') lines.pop()
    sample = lines.filter((line, index) => index % SAMPLE_STRIDE === 0 || isOddLine(line))

    const input = join(dir, 'sample.txt')
    const rejects = join(dir, 'rejects.tsv')
    writeFileSync(input, sample.join('\n') + '\n')
    run = await runImport([input, '--server', server.url, '--rejects', rejects, '--verify'])

    for (const row of readFileSync(rejects, 'utf8').split('\n')) {
      if (row === '') continue
      const [number, code, text] = row.split('\t')
      assert.equal(text, sample[Number(number) - 1], `rejects file repeats line ${number}`)
      rejected.set(Number(number), code as string)
    }
  })

  after(async () => {
    await server?.close()
    if (server !== undefined) removeDir(server.config.dataDir)
    if (dir !== undefined) removeDir(dir)
  })

  test('sample covers the odd lines', () => {
    assert.ok(sample.length >= 2900, `sample has ${sample.length} lines`)
    assert.ok(sample.length <= 3200, `sample has ${sample.length} lines`)
    assert.ok(sample.filter((line) => line.startsWith('ftp://')).length >= 40, 'sample holds the ftp lines')
  })

  test('import exits 0', () => {
    assert.equal(run.status, 0, run.stderr)
  })

  test('every line is accounted for once', () => {
    assert.equal(count(run, 'lines read'), sample.length)
    assert.equal(count(run, 'empty lines skipped'), 0)
    assert.equal(count(run, 'created') + count(run, 'already existing') + count(run, 'rejected'), sample.length)
    assert.equal(count(run, 'rejected'), rejected.size)
  })

  test('each line gets the reason its URL deserves', () => {
    const wrong: string[] = []
    sample.forEach((line, index) => {
      const expected = expectedReason(line) ?? 'accepted'
      const actual = rejected.get(index + 1) ?? 'accepted'
      if (expected !== actual) wrong.push(`line ${index + 1} ${JSON.stringify(line)}: expected ${expected}, got ${actual}`)
    })
    assert.deepEqual(wrong, [])
  })

  test('known lines get known reasons', () => {
    const reasonOf = (line: string): string | undefined => {
      assert.ok(sample.includes(line), `sample holds ${JSON.stringify(line)}`)
      return rejected.get(sample.indexOf(line) + 1)
    }
    assert.equal(reasonOf('ftp://ftp.gnu.org/gnu/tar/'), 'UNSUPPORTED_SCHEME')
    assert.equal(reasonOf('http://abc:xyz@example.com'), 'URL_HAS_CREDENTIALS')
    assert.equal(reasonOf('http://127.0.0.1:$'), 'INVALID_URL')
    assert.equal(reasonOf('http://www.valgrind.org\u00a0for\u00a0details'), 'INVALID_URL')
    assert.equal(reasonOf('https://測試'), undefined, 'an IDN host is accepted')
    assert.equal(rejectedCount(run, 'UNSUPPORTED_SCHEME'), sample.filter((line) => line.startsWith('ftp://')).length)
  })

  test('created and existing match distinct normalized URLs', () => {
    const accepted = sample.filter((line) => expectedReason(line) === undefined)
    const distinct = new Set(accepted.map((line) => new URL(line.trim()).href))
    assert.equal(count(run, 'created'), distinct.size)
    assert.equal(count(run, 'already existing'), accepted.length - distinct.size)
  })

  test('--verify matches every link', () => {
    assert.equal(count(run, 'verify mismatched'), 0)
    assert.equal(count(run, 'verify matched'), count(run, 'created') + count(run, 'already existing'))
  })

  test('accepted lines resolve to their normalized URL', async () => {
    const accepted = sample.filter((line) => expectedReason(line) === undefined)
    const picks = accepted.filter((_, index) => index % 100 === 0)
    assert.ok(picks.length >= 25)
    for (const line of picks) {
      const normalized = new URL(line.trim()).href
      const found = await postJson(`${server.url}/api/v1/links`, { url: line })
      assert.equal(found.status, 200, `${line} already exists`)
      assert.equal(found.body.created, false)
      assert.equal(found.body.url, normalized)
      const resolved = await resolveCode(server.url, found.body.code)
      assert.equal(resolved.location, normalized, `${found.body.code} redirects to ${normalized}`)
    }
  })
})
