import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { ShortenerError } from '../src/errors.ts'
import { normalizeTarget, type TargetRules } from '../src/links/target.ts'

const rules: TargetRules = {
  maxUrlLength: 2048,
  allowedSchemes: ['http', 'https'],
  baseUrl: new URL('http://127.0.0.1:8080')
}

const PRINTABLE_ASCII = /^[\x21-\x7E]+$/

/** Runs `normalizeTarget` and returns the error it throws, failing if it returns instead. */
function rejectionOf (input: unknown, targetRules: TargetRules = rules): ShortenerError {
  try {
    const href = normalizeTarget(input, targetRules)
    assert.fail(`expected a rejection, got ${JSON.stringify(href)}`)
  } catch (error) {
    assert.ok(error instanceof ShortenerError, `expected a ShortenerError, got ${String(error)}`)
    return error
  }
}

describe('normalizeTarget accepts', () => {
  const cases: Array<[string, string, string]> = [
    ['adds the root path', 'https://example.com', 'https://example.com/'],
    ['lowercases scheme and host', 'HTTPS://ExAmple.COM/Path', 'https://example.com/Path'],
    ['removes default http port', 'http://example.com:80/a', 'http://example.com/a'],
    ['removes default https port', 'https://example.com:443/a', 'https://example.com/a'],
    ['keeps other ports', 'https://example.com:8443/a', 'https://example.com:8443/a'],
    ['resolves dot segments', 'https://example.com/a/../b/./c', 'https://example.com/b/c'],
    ['keeps query order and fragment', 'https://example.com/?b=2&a=1#Top', 'https://example.com/?b=2&a=1#Top'],
    ['keeps escape case', 'https://example.com/%7e/%7E', 'https://example.com/%7e/%7E'],
    ['decodes escapes in host only', 'https://ex%41mple.com/%41?%41', 'https://example.com/%41?%41'],
    ['keeps trailing host dot', 'https://example.com./', 'https://example.com./'],
    ['trims surrounding whitespace', '  \thttps://example.com/x \n', 'https://example.com/x'],
    ['removes inner tabs and newlines', 'https://exa\tmple.com/pa\nth', 'https://example.com/path'],
    ['defuses header injection', 'https://example.com/\r\nSet-Cookie: x=1', 'https://example.com/Set-Cookie:%20x=1'],
    ['encodes spaces everywhere', 'https://example.com/a b?c d#e f', 'https://example.com/a%20b?c%20d#e%20f'],
    ['encodes control characters', 'https://example.com/a\u007Fb\u0001c', 'https://example.com/a%7Fb%01c'],
    ['converts IDN to punycode', 'http://bücher.example/', 'http://xn--bcher-kva.example/'],
    ['converts IDN with port', 'https://münchen.de:443/straße', 'https://xn--mnchen-3ya.de/stra%C3%9Fe'],
    ['converts non-Latin IDN',
      'https://例え.テスト/パス?キー=値#断片',
      'https://xn--r8jz45g.xn--zckzah/%E3%83%91%E3%82%B9?%E3%82%AD%E3%83%BC=%E5%80%A4#%E6%96%AD%E7%89%87'],
    ['drops empty userinfo', 'http://@example.com/', 'http://example.com/'],
    ['allows service host on port 80', 'http://0x7f.1/', 'http://127.0.0.1/'],
    ['allows service host on other port', 'http://127.0.0.1:8081/x', 'http://127.0.0.1:8081/x'],
    ['allows IPv6 loopback', 'http://[::1]:8080/', 'http://[::1]:8080/']
  ]

  for (const [name, input, expected] of cases) {
    test(name, () => {
      const href = normalizeTarget(input, rules)

      assert.equal(href, expected)
      assert.match(href, PRINTABLE_ASCII)
      assert.equal(normalizeTarget(href, rules), href)
    })
  }

  test('URL of exactly maxUrlLength', () => {
    const prefix = 'https://example.com/'
    const input = prefix + 'a'.repeat(rules.maxUrlLength - prefix.length)

    assert.equal(normalizeTarget(input, rules), input)
  })
})

describe('normalizeTarget rejects', () => {
  const cases: Array<[string, unknown, string]> = [
    ['number', 42, 'INVALID_URL'],
    ['null', null, 'INVALID_URL'],
    ['undefined', undefined, 'INVALID_URL'],
    ['object', { href: 'https://example.com/' }, 'INVALID_URL'],
    ['array', ['https://example.com/'], 'INVALID_URL'],
    ['URL object', new URL('https://example.com/'), 'INVALID_URL'],
    ['empty string', '', 'INVALID_URL'],
    ['whitespace only', ' \t\n ', 'INVALID_URL'],
    ['relative path', '/relative/path', 'INVALID_URL'],
    ['host without scheme', 'example.com/page', 'INVALID_URL'],
    ['scheme-relative URL', '//example.com/page', 'INVALID_URL'],
    ['scheme without host', 'http://', 'INVALID_URL'],
    ['space in host', 'https://exa mple.com/', 'INVALID_URL'],
    ['unclosed IPv6 host', 'http://[::1/', 'INVALID_URL'],
    ['port out of range', 'http://example.com:99999/', 'INVALID_URL'],
    ['ftp scheme', 'ftp://example.org/', 'UNSUPPORTED_SCHEME'],
    ['javascript scheme', 'javascript:alert(1)', 'UNSUPPORTED_SCHEME'],
    ['data scheme', 'data:text/html,hi', 'UNSUPPORTED_SCHEME'],
    ['file scheme', 'file:///etc/passwd', 'UNSUPPORTED_SCHEME'],
    ['mailto scheme', 'mailto:a@example.com', 'UNSUPPORTED_SCHEME'],
    ['user name', 'https://user@example.com/', 'URL_HAS_CREDENTIALS'],
    ['user name and password', 'https://user:secret@example.com/', 'URL_HAS_CREDENTIALS'],
    ['password only', 'https://:secret@example.com/', 'URL_HAS_CREDENTIALS'],
    ['service base URL', 'http://127.0.0.1:8080/abc', 'URL_POINTS_TO_SERVICE'],
    ['service in upper case', 'HTTP://127.0.0.1:8080', 'URL_POINTS_TO_SERVICE'],
    ['service as decimal IPv4', 'http://2130706433:8080/x', 'URL_POINTS_TO_SERVICE'],
    ['service as hex IPv4', 'http://0x7f.0.0.1:8080/x', 'URL_POINTS_TO_SERVICE'],
    ['service with trailing dot', 'http://127.0.0.1.:8080/x', 'URL_POINTS_TO_SERVICE'],
    ['service port over https', 'https://127.0.0.1:8080/x', 'URL_POINTS_TO_SERVICE']
  ]

  for (const [name, input, code] of cases) {
    test(name, () => {
      assert.equal(rejectionOf(input).code, code)
    })
  }
})

describe('normalizeTarget length limit', () => {
  test('raw input one over limit', () => {
    const prefix = 'https://example.com/'
    const input = prefix + 'a'.repeat(rules.maxUrlLength - prefix.length + 1)
    const error = rejectionOf(input)

    assert.equal(error.code, 'URL_TOO_LONG')
    assert.equal(error.fields.limit, rules.maxUrlLength)
    assert.equal(error.fields.value, input)
  })

  test('10 MB input', () => {
    const input = 'https://example.com/' + 'a'.repeat(10 * 1024 * 1024)
    const error = rejectionOf(input)

    assert.equal(error.code, 'URL_TOO_LONG')
    assert.equal(error.fields.limit, rules.maxUrlLength)
  })

  test('whitespace counts before trimming', () => {
    const input = ' '.repeat(rules.maxUrlLength) + 'https://example.com/'

    assert.equal(rejectionOf(input).code, 'URL_TOO_LONG')
  })

  test('growth by percent-encoding', () => {
    // 20 + 700 characters in, 20 + 700 * 6 out: each "é" becomes "%C3%A9".
    const input = 'https://example.com/' + 'é'.repeat(700)
    assert.ok(input.length <= rules.maxUrlLength)
    const error = rejectionOf(input)

    assert.equal(error.code, 'URL_TOO_LONG')
    assert.equal(error.fields.limit, rules.maxUrlLength)
    assert.equal(error.fields.value, 'https://example.com/' + '%C3%A9'.repeat(700))
  })
})

describe('normalizeTarget error fields', () => {
  test('non-string echoes its type', () => {
    const error = rejectionOf({ href: 'https://example.com/' })

    assert.equal(error.code, 'INVALID_URL')
    assert.equal(error.fields.value, '[object]')
  })

  test('scheme error lists allowed', () => {
    const error = rejectionOf('ftp://example.org/')

    assert.equal(error.code, 'UNSUPPORTED_SCHEME')
    assert.deepEqual(error.fields.limit, ['http', 'https'])
    assert.equal(error.fields.value, 'ftp://example.org/')
  })

  test('parse error echoes input', () => {
    const error = rejectionOf('example.com/page')

    assert.equal(error.code, 'INVALID_URL')
    assert.equal(error.fields.value, 'example.com/page')
  })
})

describe('normalizeTarget empty host', () => {
  const permissive: TargetRules = { ...rules, allowedSchemes: ['http', 'https', 'file', 'mailto', 'urn'] }
  const cases: Array<[string, string]> = [
    ['file without host', 'file:///etc/passwd'],
    ['mailto address', 'mailto:a@example.com'],
    ['URN', 'urn:isbn:0451450523']
  ]

  for (const [name, input] of cases) {
    test(name, () => {
      assert.equal(rejectionOf(input, permissive).code, 'INVALID_URL')
    })
  }

  test('file with host accepted', () => {
    assert.equal(normalizeTarget('file://server/share', permissive), 'file://server/share')
  })
})

describe('normalizeTarget service on default port', () => {
  const publicRules: TargetRules = { ...rules, baseUrl: new URL('https://sho.rt/') }
  const looping: Array<[string, string]> = [
    ['same origin', 'https://sho.rt/abc'],
    ['http on port 80', 'http://sho.rt/abc'],
    ['explicit port 443', 'https://SHO.RT:443/abc'],
    ['explicit port 80', 'http://sho.rt:80/abc'],
    ['http on port 443', 'http://sho.rt:443/abc'],
    ['trailing host dot', 'https://sho.rt./abc'],
    ['upper case host', 'HTTPS://Sho.Rt']
  ]
  const allowed: Array<[string, string]> = [
    ['other port', 'https://sho.rt:8443/abc'],
    ['subdomain', 'https://www.sho.rt/abc'],
    ['parent domain', 'https://rt/abc'],
    ['similar host', 'https://sho.rt.example/abc']
  ]

  for (const [name, input] of looping) {
    test(`rejects ${name}`, () => {
      assert.equal(rejectionOf(input, publicRules).code, 'URL_POINTS_TO_SERVICE')
    })
  }

  for (const [name, input] of allowed) {
    test(`allows ${name}`, () => {
      assert.equal(normalizeTarget(input, publicRules), new URL(input).href)
    })
  }

  test('base on other port allows 80', () => {
    const portRules: TargetRules = { ...rules, baseUrl: new URL('http://sho.rt:8080/') }

    assert.equal(normalizeTarget('http://sho.rt/abc', portRules), 'http://sho.rt/abc')
    assert.equal(rejectionOf('http://sho.rt:8080/abc', portRules).code, 'URL_POINTS_TO_SERVICE')
  })
})

describe('normalizeTarget over corpus', () => {
  // The full corpus sits beside the repository where it is developed; a
  // clone without it uses the committed sample drawn from it.
  const fullCorpusUrl = new URL('../../shared/corpus/debian-doc-urls.txt', import.meta.url)
  const corpusUrl = existsSync(fullCorpusUrl) ? fullCorpusUrl : new URL('./fixtures/corpus/debian-doc-urls-sample.txt', import.meta.url)
  const skip = existsSync(corpusUrl) ? false : `corpus file not found at ${corpusUrl.pathname}`

  test('every line accepted or rejected cleanly', { skip }, () => {
    const text = readFileSync(corpusUrl, 'utf8')
    // Split on LF only, so a line ending in CR is fed with its CR, as a client could send it.
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()

    let created = 0
    let rejected = 0
    const rejectedByCode = new Map<string, number>()
    const badOutputs: string[] = []
    const notIdempotent: string[] = []
    const foreignErrors: string[] = []

    for (const line of lines) {
      let href: string
      try {
        href = normalizeTarget(line, rules)
      } catch (error) {
        if (!(error instanceof ShortenerError)) {
          foreignErrors.push(`${JSON.stringify(line)}: ${String(error)}`)
          continue
        }
        rejected++
        rejectedByCode.set(error.code, (rejectedByCode.get(error.code) ?? 0) + 1)
        continue
      }

      created++
      if (!PRINTABLE_ASCII.test(href)) badOutputs.push(`${JSON.stringify(line)} -> ${JSON.stringify(href)}`)
      let again: string | undefined
      try {
        again = normalizeTarget(href, rules)
      } catch (error) {
        notIdempotent.push(`${JSON.stringify(href)} rejected on second pass: ${String(error)}`)
        continue
      }
      if (again !== href) notIdempotent.push(`${JSON.stringify(href)} -> ${JSON.stringify(again)}`)
    }

    assert.deepEqual(foreignErrors, [])
    assert.deepEqual(badOutputs, [])
    assert.deepEqual(notIdempotent, [])
    assert.ok(lines.length > 0, 'corpus is empty')
    assert.ok(created > 0, 'no corpus line was accepted')
    assert.equal(created + rejected, lines.length)
    let rejectedSum = 0
    for (const count of rejectedByCode.values()) rejectedSum += count
    assert.equal(rejectedSum, rejected)
  })
})
