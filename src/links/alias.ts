/**
 * Input rules for an alias: a code chosen by the caller instead of a
 * generated one. An alias is the first and only path segment of its short
 * URL, so it must not take a path that the service serves itself.
 *
 * Aliases are case-sensitive like generated codes, so `Promo` and `promo` are
 * two links. Reserved words are the exception: they are rejected in any letter
 * case, because some proxies and users change the case of paths.
 */

import { AliasReservedError, InvalidAliasError } from '../errors.ts'
import { describeType, echoNonString } from './received-value.ts'

export interface AliasRules {
  /** Minimum alias length in characters. Default 3. */
  minLength: number
  /** Maximum alias length in characters. Default 64. */
  maxLength: number
  /** Reserved first path segments in lower case, rejected in any letter case. */
  reserved: ReadonlySet<string>
}

/**
 * First path segments that the service serves or may serve later, in lower
 * case. Only names that the alias charset can spell are listed: `favicon.ico`,
 * `robots.txt` and `.well-known` contain a dot and can never be aliases.
 */
export const RESERVED_ALIASES: readonly string[] = [
  // Served now: the JSON API, probes and Prometheus metrics.
  'api', 'healthz', 'readyz', 'livez', 'metrics',
  // Probe paths that load balancers and monitoring tools are often configured with.
  'health', 'ready', 'status', 'ping',
  // The static home page, its files and API documentation.
  'static', 'assets', 'public', 'docs', 'openapi',
  // Room for an operator or user interface without taking links away later.
  'admin', 'dashboard', 'login', 'logout', 'auth', 'oauth', 'account', 'stats'
]

/** Characters an alias may contain. None of them needs percent-encoding in a URL path. */
const ALIAS_CHARSET = '[A-Za-z0-9_-]'
const ALIAS_PATTERN = /^[A-Za-z0-9_-]+$/

/** Validates an alias and returns it unchanged, letter case included. */
export function validateAlias (input: unknown, rules: AliasRules): string {
  if (typeof input !== 'string') {
    throw new InvalidAliasError(echoNonString(input), `expected a string, received ${describeType(input)}`)
  }
  // Checked before the pattern, so an oversized value is rejected without scanning it.
  if (input.length < rules.minLength || input.length > rules.maxLength) {
    throw new InvalidAliasError(input,
      `it is ${input.length} characters long, but it must be ${rules.minLength} to ${rules.maxLength} characters`,
      { minLength: rules.minLength, maxLength: rules.maxLength })
  }
  if (!ALIAS_PATTERN.test(input)) {
    throw new InvalidAliasError(input,
      'it may contain only the letters A to Z and a to z, the digits 0 to 9, "-" and "_"',
      ALIAS_CHARSET)
  }
  if (rules.reserved.has(input.toLowerCase())) {
    throw new AliasReservedError(input)
  }

  return input
}
