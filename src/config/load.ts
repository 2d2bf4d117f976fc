/**
 * Builds the running configuration from four layers, later ones winning:
 * `config/default.json`, programmatic overrides (tests, embedding), environment
 * variables `SHORTENER_<KEY>` and command-line flags `--<key>`. A key such as
 * `breaker.openMs` is `--breaker.openMs` or `--breaker.open-ms` on the command
 * line and `SHORTENER_BREAKER_OPEN_MS` in the environment. Every value is
 * validated once, here, so the rest of the code trusts its config.
 */
import { readFileSync } from 'node:fs'
import { trustedList } from '../front/client-address.ts'
import { KEYS, type Config, type KeySpec } from './schema.ts'

export class ConfigError extends Error {
  readonly key: string

  constructor (key: string, message: string) {
    super(message)
    this.name = 'ConfigError'
    this.key = key
  }
}

const DEFAULTS_URL = new URL('../../config/default.json', import.meta.url)

export interface LoadOptions {
  argv?: readonly string[]
  env?: Readonly<Record<string, string | undefined>>
  /** Values set by code, as a partial Config; applied above the defaults. */
  overrides?: DeepPartial<Config>
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] }

export function loadConfig (options: LoadOptions = {}): Config {
  const values = new Map<string, unknown>()
  const defaults = JSON.parse(readFileSync(DEFAULTS_URL, 'utf8')) as Record<string, unknown>

  for (const spec of KEYS) values.set(spec.key, getPath(defaults, spec.key))
  for (const spec of KEYS) {
    const value = options.overrides === undefined ? undefined : getPath(options.overrides, spec.key)
    if (value !== undefined) values.set(spec.key, value)
  }
  for (const spec of KEYS) {
    const raw = options.env?.[envName(spec.key)]
    if (raw !== undefined) values.set(spec.key, parseText(spec, raw, envName(spec.key)))
  }
  for (const [spec, raw] of parseFlags(options.argv ?? [])) {
    values.set(spec.key, parseText(spec, raw, `--${spec.key}`))
  }

  const config: Record<string, unknown> = {}
  for (const spec of KEYS) {
    setPath(config, spec.key, validate(spec, values.get(spec.key)))
  }
  checkRelations(config as unknown as Config)
  return config as unknown as Config
}

export function envName (key: string): string {
  return 'SHORTENER_' + key.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

function flagName (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

const SPEC_BY_FLAG = new Map<string, KeySpec>()
for (const spec of KEYS) {
  SPEC_BY_FLAG.set(spec.key, spec)
  SPEC_BY_FLAG.set(flagName(spec.key), spec)
}

function parseFlags (argv: readonly string[]): Array<[KeySpec, string]> {
  const pairs: Array<[KeySpec, string]> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith('--')) {
      throw new ConfigError(arg, `Unexpected argument ${JSON.stringify(arg)}; every option is --name value`)
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    const spec = SPEC_BY_FLAG.get(name)
    if (spec === undefined) {
      throw new ConfigError(name, `Unknown option --${name}; the README lists every option`)
    }
    let raw: string | undefined
    if (eq !== -1) {
      raw = arg.slice(eq + 1)
    } else if (spec.kind.type === 'boolean' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--') === true)) {
      raw = 'true'
    } else {
      raw = argv[++i]
    }
    if (raw === undefined) throw new ConfigError(spec.key, `Option --${name} needs a value`)
    pairs.push([spec, raw])
  }
  return pairs
}

/** Converts text from a flag or the environment to the key's type; validate() checks ranges. */
function parseText (spec: KeySpec, raw: string, source: string): unknown {
  switch (spec.kind.type) {
    case 'integer':
      return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw
    case 'boolean':
      if (raw === 'true' || raw === '1') return true
      if (raw === 'false' || raw === '0') return false
      throw new ConfigError(spec.key, `${spec.key} (from ${source}) must be true or false, received ${JSON.stringify(raw)}`)
    case 'list':
      return raw.split(',').map((item) => item.trim()).filter((item) => item !== '')
    case 'enum':
      return spec.kind.values.some((value) => typeof value === 'number') && /^\d+$/.test(raw) ? Number(raw) : raw
    default:
      return raw
  }
}

function validate (spec: KeySpec, value: unknown): unknown {
  const { key, kind } = spec
  const received = `received ${JSON.stringify(value)}`
  switch (kind.type) {
    case 'integer':
      if (!Number.isSafeInteger(value) || (value as number) < kind.min || (value as number) > kind.max) {
        throw new ConfigError(key, `${key} must be an integer from ${kind.min} to ${kind.max}, ${received}`)
      }
      return value
    case 'boolean':
      if (typeof value !== 'boolean') throw new ConfigError(key, `${key} must be true or false, ${received}`)
      return value
    case 'enum':
      if (!kind.values.includes(value as string | number)) {
        throw new ConfigError(key, `${key} must be one of ${kind.values.join(', ')}, ${received}`)
      }
      return value
    case 'string':
      if (typeof value !== 'string' || (value === '' && kind.allowEmpty !== true)) {
        throw new ConfigError(key, `${key} must be a non-empty string, ${received}`)
      }
      return value
    case 'url':
      return validateBaseUrl(key, value)
    case 'list':
      return validateList(spec, kind.pattern, kind.patternHint, value)
  }
}

function validateBaseUrl (key: string, value: unknown): string {
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(key, `${key} must be an absolute http or https URL without query or fragment, received ${JSON.stringify(value)}`)
  }
  // The base always ends in `/` so that `base + code` is the short URL.
  return url.href.endsWith('/') ? url.href : `${url.href}/`
}

function validateList (spec: KeySpec, pattern: RegExp | undefined, hint: string | undefined, value: unknown): string[] {
  const { key } = spec
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new ConfigError(key, `${key} must be a list of strings, received ${JSON.stringify(value)}`)
  }
  const bad = pattern === undefined ? undefined : value.find((item) => !pattern.test(item as string))
  if (bad !== undefined) {
    throw new ConfigError(key, `${key} must contain ${hint ?? 'valid entries'}, received ${JSON.stringify(bad)}`)
  }
  return value as string[]
}

function checkRelations (config: Config): void {
  if (config.alias.minLength > config.alias.maxLength) {
    throw new ConfigError('alias.minLength',
      `alias.minLength (${config.alias.minLength}) must not exceed alias.maxLength (${config.alias.maxLength})`)
  }
  if (config.retry.baseDelayMs > config.retry.maxDelayMs) {
    throw new ConfigError('retry.baseDelayMs',
      `retry.baseDelayMs (${config.retry.baseDelayMs}) must not exceed retry.maxDelayMs (${config.retry.maxDelayMs})`)
  }
  if (config.allowedSchemes.length === 0) {
    throw new ConfigError('allowedSchemes', 'allowedSchemes must name at least one scheme, received []')
  }
  checkTrustedProxies(config.rateLimit)
}

function checkTrustedProxies (rateLimit: Config['rateLimit']): void {
  try {
    trustedList(rateLimit.trustedProxies)
  } catch (error) {
    if (!(error instanceof RangeError)) throw error
    throw new ConfigError('rateLimit.trustedProxies',
      `rateLimit.trustedProxies must list IP addresses or CIDR ranges such as 10.0.0.0/8: ${error.message}`)
  }
  // With no trusted proxy, every client behind the proxy would share the
  // proxy's bucket, which is a configuration mistake and not a choice.
  if (rateLimit.enabled && rateLimit.clientAddress === 'x-forwarded-for' && rateLimit.trustedProxies.length === 0) {
    throw new ConfigError('rateLimit.trustedProxies',
      'rateLimit.clientAddress is x-forwarded-for, so rateLimit.trustedProxies must list the proxies in front of the service, received []')
  }
}

function getPath (object: unknown, path: string): unknown {
  let node = object
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function setPath (object: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let node = object
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {}
    node = node[part] as Record<string, unknown>
  }
  node[parts.at(-1) as string] = value
}
