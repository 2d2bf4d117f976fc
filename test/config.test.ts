import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { ConfigError, envName, loadConfig } from '../src/config/load.ts'
import { KEYS, type Config, type KeySpec } from '../src/config/schema.ts'
import { runCli } from './helpers/cli.ts'

const DEFAULTS = JSON.parse(readFileSync(new URL('../config/default.json', import.meta.url), 'utf8')) as Record<string, unknown>

function valueAt (object: unknown, key: string): unknown {
  let node = object
  for (const part of key.split('.')) node = (node as Record<string, unknown>)[part]
  return node
}

function kebab (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

/** Returns the ConfigError that loading throws, failing if loading succeeds. */
function configErrorOf (options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options)
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`)
    return error
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(options)}`)
}

interface Alternative {
  text: string
  expected: unknown
  /** Other flags the value needs to pass the checks between keys. */
  companions?: string[]
}

/** Returns a valid value other than the default, as command-line text and as loaded. */
function alternativeOf (spec: KeySpec, defaultValue: unknown): Alternative {
  switch (spec.key) {
    case 'baseUrl': return { text: 'https://sho.rt/s', expected: 'https://sho.rt/s/' }
    case 'allowedSchemes': return { text: 'https,ftp', expected: ['https', 'ftp'] }
    case 'rateLimit.trustedProxies': return { text: '127.0.0.1,10.0.0.0/8', expected: ['127.0.0.1', '10.0.0.0/8'] }
    case 'rateLimit.clientAddress':
      return { text: 'x-forwarded-for', expected: 'x-forwarded-for', companions: ['--rate-limit.trusted-proxies', '127.0.0.1'] }
  }
  const { kind } = spec
  switch (kind.type) {
    case 'integer': {
      const value = (defaultValue as number) + 1 <= kind.max ? (defaultValue as number) + 1 : (defaultValue as number) - 1
      return { text: String(value), expected: value }
    }
    case 'enum': {
      const value = kind.values.find((candidate) => candidate !== defaultValue) as string | number
      return { text: String(value), expected: value }
    }
    case 'boolean': return { text: String(!(defaultValue as boolean)), expected: !(defaultValue as boolean) }
    case 'string': return { text: `${String(defaultValue)}-other`, expected: `${String(defaultValue)}-other` }
    default: assert.fail(`no alternative value for ${spec.key} of type ${kind.type}`)
  }
}

describe('loadConfig', () => {
  test('defaults come from config/default.json', () => {
    const config = loadConfig()

    for (const { key } of KEYS) {
      const expected = key === 'baseUrl' ? 'http://localhost:8080/' : valueAt(DEFAULTS, key)
      assert.deepEqual(valueAt(config, key), expected, key)
    }
  })

  test('every default.json key is in the schema', () => {
    const schemaKeys = new Set(KEYS.map((spec) => spec.key))
    const walk = (node: Record<string, unknown>, prefix: string): string[] => Object.entries(node).flatMap(([name, value]) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? walk(value as Record<string, unknown>, `${prefix}${name}.`)
        : [`${prefix}${name}`])

    for (const key of walk(DEFAULTS, '')) assert.ok(schemaKeys.has(key), `${key} is missing from KEYS`)
  })

  for (const spec of KEYS) {
    test(`${spec.key} is settable by flag and environment`, () => {
      const { text, expected, companions = [] } = alternativeOf(spec, valueAt(DEFAULTS, spec.key))
      assert.notDeepEqual(expected, valueAt(loadConfig(), spec.key), 'the alternative must differ from the default')

      const companionEnv: Record<string, string> = {}
      for (let i = 0; i < companions.length; i += 2) {
        const key = KEYS.find((candidate) => `--${kebab(candidate.key)}` === companions[i])?.key as string
        companionEnv[envName(key)] = companions[i + 1] as string
      }

      const byFlag = loadConfig({ argv: [`--${spec.key}`, text, ...companions] })
      const byKebabFlag = loadConfig({ argv: [`--${kebab(spec.key)}=${text}`, ...companions] })
      const byEnv = loadConfig({ env: { [envName(spec.key)]: text, ...companionEnv } })

      assert.deepEqual(valueAt(byFlag, spec.key), expected)
      assert.deepEqual(valueAt(byKebabFlag, spec.key), expected)
      assert.deepEqual(valueAt(byEnv, spec.key), expected)
    })
  }

  test('environment names follow SHORTENER_DOTTED_KEY', () => {
    assert.equal(envName('breaker.openMs'), 'SHORTENER_BREAKER_OPEN_MS')
    assert.equal(envName('maxUrlLength'), 'SHORTENER_MAX_URL_LENGTH')
    assert.equal(envName('shards'), 'SHORTENER_SHARDS')
  })

  test('layers apply defaults < overrides < env < flags', () => {
    const overrides = { port: 1111, breaker: { openMs: 1111 } } as const
    const env = { SHORTENER_PORT: '2222', SHORTENER_BREAKER_OPEN_MS: '2222' }
    const argv = ['--port', '3333', '--breaker.open-ms', '3333']

    const all = loadConfig({ overrides, env, argv })
    const noFlags = loadConfig({ overrides, env })
    const onlyOverrides = loadConfig({ overrides })
    const none = loadConfig()

    assert.equal(all.port, 3333)
    assert.equal(all.breaker.openMs, 3333)
    assert.equal(noFlags.port, 2222)
    assert.equal(noFlags.breaker.openMs, 2222)
    assert.equal(onlyOverrides.port, 1111)
    assert.equal(onlyOverrides.breaker.openMs, 1111)
    assert.equal(none.port, DEFAULTS.port)
    assert.equal(none.breaker.openMs, (DEFAULTS.breaker as Config['breaker']).openMs)
  })

  test('nested override keeps sibling defaults', () => {
    const config = loadConfig({ overrides: { breaker: { openMs: 1234 } } })

    assert.equal(config.breaker.openMs, 1234)
    assert.equal(config.breaker.windowMs, (DEFAULTS.breaker as Config['breaker']).windowMs)
  })

  test('boolean flag without a value means true', () => {
    const config = loadConfig({ env: { SHORTENER_RATE_LIMIT_ENABLED: 'false' }, argv: ['--rate-limit.enabled', '--port', '1'] })

    assert.equal(config.rateLimit.enabled, true)
    assert.equal(config.port, 1)
  })

  const invalid: Array<[string, Parameters<typeof loadConfig>[0], string, RegExp[]]> = [
    ['shards zero', { argv: ['--shards', '0'] }, 'shards', [/\b0\b/, /1 to 256/]],
    ['shards fraction', { argv: ['--shards', '1.5'] }, 'shards', [/1\.5/, /1 to 256/]],
    ['port too high', { argv: ['--port', '70000'] }, 'port', [/70000/, /0 to 65535/]],
    ['port not a number', { argv: ['--port', 'abc'] }, 'port', [/"abc"/, /0 to 65535/]],
    ['negative length from env', { env: { SHORTENER_MAX_URL_LENGTH: '-5' } }, 'maxUrlLength', [/-5/, /16 to 65536/, /SHORTENER_MAX_URL_LENGTH|maxUrlLength/]],
    ['redirect status 304', { argv: ['--redirect-status', '304'] }, 'redirectStatus', [/304/, /301, 302, 303, 307, 308/]],
    ['unknown durability', { env: { SHORTENER_DURABILITY: 'sometimes' } }, 'durability', [/"sometimes"/, /flush, commit/]],
    ['base URL with another scheme', { argv: ['--base-url', 'ftp://example.com/'] }, 'baseUrl', [/ftp:\/\/example\.com\//, /http or https/]],
    ['base URL with a query', { argv: ['--base-url', 'https://example.com/?x=1'] }, 'baseUrl', [/\?x=1/]],
    ['boolean not true or false', { argv: ['--rate-limit.enabled', 'maybe'] }, 'rateLimit.enabled', [/"maybe"/, /true or false/]],
    ['scheme with a colon', { argv: ['--allowed-schemes', 'https:'] }, 'allowedSchemes', [/"https:"/]],
    ['empty scheme list', { argv: ['--allowed-schemes', ','] }, 'allowedSchemes', [/\[\]/]],
    ['alias minLength above maxLength', { argv: ['--alias.min-length', '10', '--alias.max-length', '5'] }, 'alias.minLength', [/10/, /5/]],
    ['retry base above max', { argv: ['--retry.base-delay-ms', '900', '--retry.max-delay-ms', '500'] }, 'retry.baseDelayMs', [/900/, /500/]],
    ['empty host', { argv: ['--host', ''] }, 'host', [/""/]]
  ]
  for (const [name, options, key, patterns] of invalid) {
    test(`rejects ${name}`, () => {
      const error = configErrorOf(options)

      assert.equal(error.key, key)
      assert.ok(error.message.includes(key), `message should name ${key}: ${error.message}`)
      for (const pattern of patterns) assert.match(error.message, pattern)
    })
  }

  test('rejects an unknown flag', () => {
    const error = configErrorOf({ argv: ['--no-such-option', '1'] })

    assert.match(error.message, /--no-such-option/)
  })

  test('rejects a positional argument', () => {
    const error = configErrorOf({ argv: ['serve'] })

    assert.match(error.message, /"serve"/)
  })

  test('rejects a flag without its value', () => {
    const error = configErrorOf({ argv: ['--port'] })

    assert.equal(error.key, 'port')
    assert.match(error.message, /--port/)
  })
})

describe('serve command', () => {
  test('bad values and unknown flags exit with code 2', async () => {
    const [shardsFlag, envValue, unknownFlag] = await Promise.all([
      runCli(['--shards', '0']),
      runCli([], { SHORTENER_REDIRECT_STATUS: '304' }),
      runCli(['--no-such-option', '1'])
    ])

    assert.equal(shardsFlag.exit, 2)
    assert.match(shardsFlag.stderr, /shards/)
    assert.match(shardsFlag.stderr, /received 0/)
    assert.match(shardsFlag.stderr, /1 to 256/)
    assert.doesNotMatch(shardsFlag.stdout, /"listening"/)

    assert.equal(envValue.exit, 2)
    assert.match(envValue.stderr, /redirectStatus/)
    assert.match(envValue.stderr, /304/)
    assert.match(envValue.stderr, /301, 302, 303, 307, 308/)

    assert.equal(unknownFlag.exit, 2)
    assert.match(unknownFlag.stderr, /--no-such-option/)
  })
})
