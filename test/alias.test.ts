import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { ShortenerError } from '../src/errors.ts'
import { RESERVED_ALIASES, validateAlias, type AliasRules } from '../src/links/alias.ts'

const rules: AliasRules = {
  minLength: 3,
  maxLength: 64,
  reserved: new Set(RESERVED_ALIASES)
}

/** Runs `validateAlias` and returns the error it throws, failing if it returns instead. */
function rejectionOf (input: unknown, aliasRules: AliasRules = rules): ShortenerError {
  try {
    const alias = validateAlias(input, aliasRules)
    assert.fail(`expected a rejection, got ${JSON.stringify(alias)}`)
  } catch (error) {
    assert.ok(error instanceof ShortenerError, `expected a ShortenerError, got ${String(error)}`)
    return error
  }
}

describe('validateAlias accepts', () => {
  const cases: Array<[string, string]> = [
    ['minimum length', 'abc'],
    ['maximum length', 'a'.repeat(64)],
    ['every allowed character', 'AZaz09-_'],
    ['mixed case kept', 'PromoCode'],
    ['only dashes and underscores', '-_-'],
    ['reserved word as prefix', 'api-docs'],
    ['reserved word as suffix', 'my_metrics'],
    ['reserved word plus letter', 'apis']
  ]

  for (const [name, input] of cases) {
    test(name, () => {
      assert.equal(validateAlias(input, rules), input)
    })
  }
})

describe('validateAlias rejects', () => {
  const cases: Array<[string, unknown, string]> = [
    ['number', 12345, 'INVALID_ALIAS'],
    ['null', null, 'INVALID_ALIAS'],
    ['undefined', undefined, 'INVALID_ALIAS'],
    ['object', { alias: 'abc' }, 'INVALID_ALIAS'],
    ['array', ['abc'], 'INVALID_ALIAS'],
    ['empty string', '', 'INVALID_ALIAS'],
    ['one under minimum', 'ab', 'INVALID_ALIAS'],
    ['one over maximum', 'a'.repeat(65), 'INVALID_ALIAS'],
    ['1 MB string', 'a'.repeat(1024 * 1024), 'INVALID_ALIAS'],
    ['space', 'my alias', 'INVALID_ALIAS'],
    ['surrounding spaces', ' abc ', 'INVALID_ALIAS'],
    ['dot', 'robots.txt', 'INVALID_ALIAS'],
    ['slash', 'a/b/c', 'INVALID_ALIAS'],
    ['percent escape', 'a%20b', 'INVALID_ALIAS'],
    ['question mark', 'abc?x=1', 'INVALID_ALIAS'],
    ['hash', 'abc#top', 'INVALID_ALIAS'],
    ['plus', 'a+b', 'INVALID_ALIAS'],
    ['tilde', '~abc', 'INVALID_ALIAS'],
    ['non-ASCII letter', 'café', 'INVALID_ALIAS'],
    ['fullwidth letters', 'ａｂｃ', 'INVALID_ALIAS'],
    ['emoji', 'ab😀', 'INVALID_ALIAS'],
    ['trailing newline', 'abc\n', 'INVALID_ALIAS'],
    ['NUL character', 'ab\u0000c', 'INVALID_ALIAS'],
    ['reserved lower case', 'api', 'ALIAS_RESERVED'],
    ['reserved upper case', 'API', 'ALIAS_RESERVED'],
    ['reserved mixed case', 'Api', 'ALIAS_RESERVED'],
    ['reserved probe', 'healthz', 'ALIAS_RESERVED'],
    ['reserved readiness', 'ReadyZ', 'ALIAS_RESERVED'],
    ['reserved metrics', 'METRICS', 'ALIAS_RESERVED']
  ]

  for (const [name, input, code] of cases) {
    test(name, () => {
      assert.equal(rejectionOf(input).code, code)
    })
  }
})

describe('validateAlias error fields', () => {
  test('length error shows range', () => {
    const error = rejectionOf('ab')

    assert.equal(error.code, 'INVALID_ALIAS')
    assert.equal(error.fields.value, 'ab')
    assert.deepEqual(error.fields.limit, { minLength: 3, maxLength: 64 })
  })

  test('charset error shows charset', () => {
    const error = rejectionOf('a.b.c')

    assert.equal(error.code, 'INVALID_ALIAS')
    assert.equal(error.fields.value, 'a.b.c')
    assert.equal(error.fields.limit, '[A-Za-z0-9_-]')
  })

  test('non-string echoes its type', () => {
    const error = rejectionOf(['abc'])

    assert.equal(error.code, 'INVALID_ALIAS')
    assert.equal(error.fields.value, '[array]')
  })

  test('reserved error echoes value', () => {
    const error = rejectionOf('Metrics')

    assert.equal(error.code, 'ALIAS_RESERVED')
    assert.equal(error.fields.value, 'Metrics')
  })

  test('rules limits are used', () => {
    const short: AliasRules = { ...rules, minLength: 1, maxLength: 4 }

    assert.equal(validateAlias('x', short), 'x')
    assert.deepEqual(rejectionOf('abcde', short).fields.limit, { minLength: 1, maxLength: 4 })
  })

  test('rules reserved set is used', () => {
    const custom: AliasRules = { ...rules, reserved: new Set(['promo']) }

    assert.equal(rejectionOf('PROMO', custom).code, 'ALIAS_RESERVED')
    assert.equal(validateAlias('api', custom), 'api')
  })
})

describe('RESERVED_ALIASES', () => {
  test('contains the served paths', () => {
    for (const path of ['api', 'healthz', 'readyz', 'metrics']) {
      assert.ok(RESERVED_ALIASES.includes(path), `${path} is missing`)
    }
  })

  test('entries are spellable lower case', () => {
    for (const word of RESERVED_ALIASES) {
      assert.match(word, /^[a-z0-9_-]+$/)
    }
  })

  test('entries are unique', () => {
    assert.equal(new Set(RESERVED_ALIASES).size, RESERVED_ALIASES.length)
  })

  test('every entry is rejected', () => {
    const anyLength: AliasRules = { ...rules, minLength: 1, maxLength: 64 }
    for (const word of RESERVED_ALIASES) {
      assert.equal(rejectionOf(word, anyLength).code, 'ALIAS_RESERVED', word)
      assert.equal(rejectionOf(word.toUpperCase(), anyLength).code, 'ALIAS_RESERVED', word)
    }
  })
})
