import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { RESERVED_ALIASES } from '../src/links/alias.ts'
import { postJson, removeDir, resolveCode, startTestServer, type TestServer } from './helpers/server.ts'
import { assertProblem, countStoredLinks, postRaw, request, type ApiResponse } from './helpers/api.ts'
import { seededRandom } from './helpers/faulty-store.ts'

const MAX_BODY_BYTES = 8192
const PRINTABLE_ASCII = /^[\x21-\x7E]+$/

let server: TestServer
let linksUrl: string
let batchUrl: string

before(async () => {
  server = await startTestServer({ baseUrl: 'http://short.test/', maxBodyBytes: MAX_BODY_BYTES })
  linksUrl = `${server.url}/api/v1/links`
  batchUrl = `${server.url}/api/v1/links/batch`
})

after(async () => {
  await server.close()
  removeDir(server.config.dataDir)
})

/** Sends a rejected create and checks the problem document and that nothing was stored. */
async function expectRejected (body: unknown, status: number, code: string): Promise<ApiResponse> {
  const before = await countStoredLinks(server)
  const response = await postJson(linksUrl, body)
  assertProblem(response, status, code)
  assert.equal(await countStoredLinks(server), before, `a rejected create stored a link: ${JSON.stringify(body)}`)
  return response
}

function chunkedBody (chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start (controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    }
  })
}

describe('target URL', () => {
  const rejected: Array<[string, unknown, string]> = [
    ['ftp scheme', 'ftp://example.com/file', 'UNSUPPORTED_SCHEME'],
    ['javascript scheme', 'javascript:alert(1)', 'UNSUPPORTED_SCHEME'],
    ['data scheme', 'data:text/html,<p>hi</p>', 'UNSUPPORTED_SCHEME'],
    ['file scheme', 'file:///etc/passwd', 'UNSUPPORTED_SCHEME'],
    ['mailto scheme', 'mailto:someone@example.com', 'UNSUPPORTED_SCHEME'],
    ['user and password', 'https://user:secret@example.com/', 'URL_HAS_CREDENTIALS'],
    ['user only', 'https://user@example.com/', 'URL_HAS_CREDENTIALS'],
    ['relative URL', 'example.com/page', 'INVALID_URL'],
    ['empty string', '', 'INVALID_URL'],
    ['only spaces', '   ', 'INVALID_URL'],
    ['no host', 'https://', 'INVALID_URL'],
    ['space in host', 'http://exa mple.com/', 'INVALID_URL'],
    ['unclosed IPv6 host', 'http://[::1/', 'INVALID_URL'],
    ['number', 42, 'INVALID_URL'],
    ['object', { href: 'https://example.com/' }, 'INVALID_URL'],
    ['array', ['https://example.com/'], 'INVALID_URL'],
    ['service base URL', 'http://short.test/abc1234', 'URL_POINTS_TO_SERVICE'],
    ['service host in other case', 'HTTP://SHORT.TEST/x', 'URL_POINTS_TO_SERVICE'],
    ['service host over https', 'https://short.test/x', 'URL_POINTS_TO_SERVICE'],
    ['service host with explicit port', 'http://short.test:80/x', 'URL_POINTS_TO_SERVICE'],
    ['service host with trailing dot', 'http://short.test./x', 'URL_POINTS_TO_SERVICE']
  ]
  for (const [name, url, code] of rejected) {
    test(`${name} is rejected with ${code}`, async () => {
      await expectRejected({ url }, 400, code)
    })
  }

  test('rejection echoes the value', async () => {
    const response = await expectRejected({ url: 'ftp://example.com/file' }, 400, 'UNSUPPORTED_SCHEME')

    assert.equal(response.body.value, 'ftp://example.com/file')
    assert.deepEqual(response.body.limit, ['http', 'https'])
    assert.match(response.body.detail, /"ftp"/)
  })

  test('service host on another port is accepted', async () => {
    const created = await postJson(linksUrl, { url: 'http://short.test:8080/elsewhere' })

    assert.equal(created.status, 201)
  })

  test('URL of maxUrlLength is stored whole', async () => {
    const prefix = 'https://example.com/'
    const url = prefix + 'a'.repeat(2048 - prefix.length)
    const created = await postJson(linksUrl, { url })

    assert.equal(created.status, 201)
    assert.equal(created.body.url, url)
    assert.equal((await resolveCode(server.url, created.body.code)).location, url)
  })

  test('URL over maxUrlLength is rejected with URL_TOO_LONG', async () => {
    const prefix = 'https://example.com/'
    const url = prefix + 'a'.repeat(2049 - prefix.length)
    const response = await expectRejected({ url }, 400, 'URL_TOO_LONG')

    assert.equal(response.body.limit, 2048)
    assert.match(response.body.detail, /2049/)
    assert.match(response.body.detail, /2048/)
  })

  test('URL that grows past maxUrlLength when encoded is rejected', async () => {
    const url = `https://example.com/${'é'.repeat(1000)}`
    assert.ok(url.length <= 2048)

    await expectRejected({ url }, 400, 'URL_TOO_LONG')
  })

  test('IDN host is stored as punycode', async () => {
    const created = await postJson(linksUrl, { url: 'https://Bücher.example/straße?q=ü' })

    assert.equal(created.status, 201)
    assert.equal(created.body.url, 'https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC')
    const location = (await resolveCode(server.url, created.body.code)).location
    assert.equal(location, 'https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC')
    assert.match(location ?? '', PRINTABLE_ASCII)
  })

  test('CR and LF cannot reach the Location header', async () => {
    const created = await postJson(linksUrl, { url: 'https://example.com/a\r\nSet-Cookie: x=1' })

    assert.equal(created.status, 201)
    const response = await request(`${server.url}/${created.body.code as string}`)
    assert.equal(response.headers.get('set-cookie'), null)
    assert.match(response.headers.get('location') ?? '', PRINTABLE_ASCII)
  })
})

describe('alias', () => {
  const invalid: Array<[string, unknown]> = [
    ['too short', 'ab'],
    ['too long', 'a'.repeat(65)],
    ['space', 'has space'],
    ['dot', 'dot.dot'],
    ['slash', 'slash/x'],
    ['percent', 'per%41cent'],
    ['non-ASCII letter', 'ümlaut'],
    ['empty', ''],
    ['number', 12345],
    ['object', { alias: 'abc' }]
  ]
  for (const [name, alias] of invalid) {
    test(`${name} is rejected with INVALID_ALIAS`, async () => {
      await expectRejected({ url: 'https://example.com/alias-rule', alias }, 400, 'INVALID_ALIAS')
    })
  }

  test('length rejection names the length and range', async () => {
    const response = await expectRejected({ url: 'https://example.com/alias-rule', alias: 'ab' }, 400, 'INVALID_ALIAS')

    assert.equal(response.body.value, 'ab')
    assert.deepEqual(response.body.limit, { minLength: 3, maxLength: 64 })
    assert.match(response.body.detail, /\b2\b/)
    assert.match(response.body.detail, /3 to 64/)
  })

  test('lengths 3 and 64 are accepted', async () => {
    const shortest = await postJson(linksUrl, { url: 'https://example.com/alias-3', alias: 'a-3' })
    const longest = await postJson(linksUrl, { url: 'https://example.com/alias-64', alias: 'L'.repeat(64) })

    assert.equal(shortest.status, 201)
    assert.equal(longest.status, 201)
    assert.equal((await resolveCode(server.url, 'L'.repeat(64))).location, 'https://example.com/alias-64')
  })

  test('reserved words are rejected in any case', async () => {
    for (const word of RESERVED_ALIASES) {
      const mixed = word.charAt(0).toUpperCase() + word.slice(1)
      for (const alias of [word, word.toUpperCase(), mixed]) {
        const response = await expectRejected({ url: 'https://example.com/reserved', alias }, 400, 'ALIAS_RESERVED')
        assert.equal(response.body.value, alias)
      }
    }
  })

  test('rejected reserved alias leaves no link', async () => {
    await expectRejected({ url: 'https://example.com/reserved-admin', alias: 'Admin' }, 400, 'ALIAS_RESERVED')

    assert.equal((await resolveCode(server.url, 'Admin')).status, 404)
    assertProblem(await request(`${linksUrl}/Admin`), 404, 'LINK_NOT_FOUND')
  })
})

describe('request body', () => {
  test('non-JSON content types are rejected with 415', async () => {
    const body = JSON.stringify({ url: 'https://example.com/media' })
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      for (const url of [linksUrl, batchUrl]) {
        const response = await postRaw(url, type, body)
        assertProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE')
      }
    }
    assert.equal((await resolveCode(server.url, 'media')).status, 404)
  })

  test('JSON content type with charset is accepted', async () => {
    const response = await postRaw(linksUrl, 'application/json; charset=utf-8', JSON.stringify({ url: 'https://example.com/charset' }))

    assert.equal(response.status, 201)
  })

  test('malformed JSON is rejected with INVALID_JSON', async () => {
    const before = await countStoredLinks(server)
    for (const text of ['{"url":', "{'url':'https://example.com/'}", '{url: "https://example.com/"}', '', '{"url":"https://example.com/"} x']) {
      for (const url of [linksUrl, batchUrl]) {
        const response = await postRaw(url, 'application/json', text)
        assertProblem(response, 400, 'INVALID_JSON')
      }
    }
    assert.equal(await countStoredLinks(server), before)
  })

  test('invalid UTF-8 is rejected with INVALID_JSON', async () => {
    const before = await countStoredLinks(server)
    const prefix = Buffer.from('{"url":"https://example.com/utf8/')
    const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe]), Buffer.from('"}')])

    const response = await postRaw(linksUrl, 'application/json', body)
    assertProblem(response, 400, 'INVALID_JSON')
    assert.match(response.body.detail, /UTF-8/)
    const batch = await postRaw(batchUrl, 'application/json', Buffer.concat([Buffer.from('{"links":['), body, Buffer.from(']}')]))
    assertProblem(batch, 400, 'INVALID_JSON')
    assert.equal(await countStoredLinks(server), before)
  })

  test('problem titles spell acronyms in capitals', async () => {
    const json = await postRaw(linksUrl, 'application/json', '{"url":')
    const credentials = await postRaw(linksUrl, 'application/json', JSON.stringify({ url: 'https://user:pw@example.com/' }))

    assert.equal(json.body.title, 'Invalid JSON')
    assert.equal(credentials.body.title, 'URL has credentials')
  })

  test('batch body without a links array names the member', async () => {
    const missing = await postRaw(batchUrl, 'application/json', '{}')
    const notArray = await postRaw(batchUrl, 'application/json', '{"links":{}}')

    assertProblem(missing, 400, 'INVALID_BODY')
    assert.equal(missing.body.value, 'an object without "links"')
    assertProblem(notArray, 400, 'INVALID_BODY')
    assert.equal(notArray.body.value, 'an object whose "links" is not an array')
  })

  test('wrong shape is rejected with INVALID_BODY', async () => {
    for (const body of [[], null, 'https://example.com/', 42, true, {}, { alias: 'no-url' }, { links: [] }]) {
      await expectRejected(body, 400, 'INVALID_BODY')
    }
  })

  test('body over maxBodyBytes is rejected with 413', async () => {
    const before = await countStoredLinks(server)
    const body = JSON.stringify({ url: 'https://example.com/large', padding: 'x'.repeat(MAX_BODY_BYTES) })

    for (const url of [linksUrl, batchUrl]) {
      const response = await postRaw(url, 'application/json', body)
      assertProblem(response, 413, 'BODY_TOO_LARGE')
      assert.equal(response.body.limit, MAX_BODY_BYTES)
      assert.match(response.body.detail, new RegExp(String(MAX_BODY_BYTES)))
      assert.match(response.body.detail, new RegExp(String(Buffer.byteLength(body))))
    }
    assert.equal(await countStoredLinks(server), before)
  })

  test('chunked body over maxBodyBytes is rejected with 413', async () => {
    const before = await countStoredLinks(server)
    const chunks = ['{"url":"https://example.com/chunked","padding":"', ...Array.from({ length: 10 }, () => 'x'.repeat(1000)), '"}']

    for (const url of [linksUrl, batchUrl]) {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunkedBody(chunks),
        duplex: 'half'
      } as RequestInit)
      assertProblem(response, 413, 'BODY_TOO_LARGE')
      assert.equal(response.body.limit, MAX_BODY_BYTES)
    }
    assert.equal(await countStoredLinks(server), before)
  })

  test('chunked body within the limit is accepted', async () => {
    const response = await request(linksUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunkedBody(['{"url":', '"https://example.com/', 'chunked-small"}']),
      duplex: 'half'
    } as RequestInit)

    assert.equal(response.status, 201)
    assert.equal(response.body.url, 'https://example.com/chunked-small')
  })

  test('body of exactly maxBodyBytes is accepted', async () => {
    const json = JSON.stringify({ url: 'https://example.com/exact' })
    const body = json + ' '.repeat(MAX_BODY_BYTES - json.length)
    assert.equal(Buffer.byteLength(body), MAX_BODY_BYTES)

    const response = await postRaw(linksUrl, 'application/json', body)
    assert.equal(response.status, 201)
  })
})

describe('random input', () => {
  const SEED = 20261204
  const random = seededRandom(SEED)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const PIECES = ['https://', 'http://', 'ftp://', 'example.com', 'short.test', '/', '?', '#', '%', '%41', ':', '@', ' ', '\t',
    '\u0000', '\r\n', 'é', '日本', '..', '[::1]', ':99999', 'a', '-', '_', 'api', 'x'.repeat(70)]

  function randomText (): string {
    return Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(PIECES)).join('')
  }

  function randomValue (): unknown {
    return pick([() => randomText(), () => random() * 1e6, () => null, () => true, () => [randomText()], () => ({ url: randomText() })])()
  }

  function randomItem (): unknown {
    const item: Record<string, unknown> = { url: random() < 0.8 ? randomText() : randomValue() }
    if (random() < 0.4) item.alias = random() < 0.7 ? randomText() : randomValue()
    return random() < 0.05 ? randomValue() : item
  }

  test(`random items never get 5xx or store a rejected item (seed ${SEED})`, async () => {
    const before = await countStoredLinks(server)
    let created = 0
    let rejected = 0

    // Batches of 20 stay below the body limit of this server.
    for (let batch = 0; batch < 15; batch++) {
      const items = Array.from({ length: 20 }, randomItem)
      const response = await postJson(batchUrl, { links: items })

      assert.equal(response.status, 200, JSON.stringify(response.body))
      for (const [i, result] of (response.body.results as any[]).entries()) {
        if (result.error !== undefined) {
          assert.ok([400, 409].includes(result.error.status), `item ${JSON.stringify(items[i])}: ${JSON.stringify(result.error)}`)
          rejected++
        } else if (result.created === true) {
          created++
        }
      }
    }
    assert.ok(created > 0, 'the generator should make some valid items')
    assert.ok(rejected > 0, 'the generator should make some invalid items')
    assert.equal(await countStoredLinks(server), before + created)
  })

  test(`random create bodies never get 5xx (seed ${SEED})`, async () => {
    for (let i = 0; i < 100; i++) {
      const body = randomItem()
      const response = await postJson(linksUrl, body)
      assert.ok(response.status < 500, `${JSON.stringify(body)}: ${response.status} ${JSON.stringify(response.body)}`)
      if (response.status >= 400) assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/)
    }
  })
})

describe('configured limits', () => {
  let limited: TestServer

  before(async () => {
    limited = await startTestServer({
      shards: 1,
      maxUrlLength: 64,
      allowedSchemes: ['https', 'ftp'],
      alias: { minLength: 5, maxLength: 10 }
    })
  })

  after(async () => {
    await limited.close()
    removeDir(limited.config.dataDir)
  })

  test('alias length range follows config', async () => {
    const url = `${limited.url}/api/v1/links`
    const tooShort = await postJson(url, { url: 'https://example.com/a', alias: 'abcd' })
    const tooLong = await postJson(url, { url: 'https://example.com/a', alias: 'abcdefghijk' })
    const shortest = await postJson(url, { url: 'https://example.com/a', alias: 'abcde' })
    const longest = await postJson(url, { url: 'https://example.com/a', alias: 'abcdefghij' })

    assertProblem(tooShort, 400, 'INVALID_ALIAS')
    assert.deepEqual(tooShort.body.limit, { minLength: 5, maxLength: 10 })
    assertProblem(tooLong, 400, 'INVALID_ALIAS')
    assert.equal(shortest.status, 201)
    assert.equal(longest.status, 201)
  })

  test('allowed schemes follow config', async () => {
    const url = `${limited.url}/api/v1/links`
    const http = await postJson(url, { url: 'http://example.com/' })
    const ftp = await postJson(url, { url: 'ftp://example.com/file' })

    assertProblem(http, 400, 'UNSUPPORTED_SCHEME')
    assert.deepEqual(http.body.limit, ['https', 'ftp'])
    assert.equal(ftp.status, 201)
  })

  test('URL length limit follows config', async () => {
    const url = `${limited.url}/api/v1/links`
    const prefix = 'https://example.com/'
    const atLimit = await postJson(url, { url: prefix + 'a'.repeat(64 - prefix.length) })
    const overLimit = await postJson(url, { url: prefix + 'a'.repeat(65 - prefix.length) })

    assert.equal(atLimit.status, 201)
    assertProblem(overLimit, 400, 'URL_TOO_LONG')
    assert.equal(overLimit.body.limit, 64)
  })
})
