/**
 * Input rules for a link's target: the long URL that a code redirects to.
 *
 * `normalizeTarget` parses the input once with the WHATWG URL parser (Node's
 * built-in `URL`) and returns its `href`. That serialization is the single
 * normal form used for storage, deduplication and the `Location` header, so
 * two spellings of one URL become one link. WHATWG parsing:
 * - lowercases the scheme and the host, and converts IDN hosts to ASCII
 *   (punycode), so `http://Bücher.example` becomes `http://xn--bcher-kva.example/`;
 * - rewrites IPv4 hosts in decimal, hex or octal form to dotted decimal;
 * - removes the default port of the scheme (`:80` for http, `:443` for https);
 * - resolves `.` and `..` path segments and gives an empty http(s) path `/`;
 * - percent-encodes spaces, non-ASCII and control characters, strips leading
 *   and trailing spaces and C0 controls, and removes tabs and newlines anywhere;
 * - decodes percent-escapes in the host only (`ex%41mple.com` is `example.com`).
 *
 * It does not sort query parameters, drop the fragment, decode
 * percent-escapes in the path or query, change the case of percent-escapes or
 * remove a trailing dot from the host. Servers may treat those differences as
 * different resources, and a shortener must not change which resource the
 * target names.
 * Doing only what the standard does also means every client that follows the
 * standard reads the stored URL the same way.
 *
 * The result is printable ASCII (0x21 to 0x7E) because it becomes a `Location`
 * header, where a CR or LF would let a caller inject headers. The WHATWG
 * serializer already percent-encodes everything else, and a final check
 * enforces it anyway.
 */

import {
  InvalidUrlError,
  UnsupportedSchemeError,
  UrlHasCredentialsError,
  UrlPointsToServiceError,
  UrlTooLongError
} from '../errors.ts'
import { describeType, echoNonString } from './received-value.ts'

export interface TargetRules {
  /** Maximum length of a target in UTF-16 code units, checked on the raw input and on the normalized URL. Default 2048. */
  maxUrlLength: number
  /** Accepted schemes in lower case without the colon, for example `['http', 'https']`. */
  allowedSchemes: readonly string[]
  /** The service's own public base URL. A target on its host and port would loop back into the service. */
  baseUrl: URL
}

/** Default ports of the WHATWG special schemes that have one, keyed by `URL.protocol`. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'http:': 80,
  'https:': 443,
  'ws:': 80,
  'wss:': 443,
  'ftp:': 21
}

const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/
const NOT_PRINTABLE_ASCII = /[^\x21-\x7E]/

/**
 * Validates a target URL and returns its normalized form (`new URL(input).href`).
 * Throws a `ShortenerError` subclass that names the failed rule. A URL over the length limit is rejected, never truncated.
 */
export function normalizeTarget (input: unknown, rules: TargetRules): string {
  if (typeof input !== 'string') {
    throw new InvalidUrlError(echoNonString(input), `expected a string, received ${describeType(input)}`)
  }
  // Checked before trimming and parsing, so an oversized input is rejected without being scanned.
  if (input.length > rules.maxUrlLength) {
    throw new UrlTooLongError(input, input.length, rules.maxUrlLength)
  }
  const trimmed = input.trim()
  if (trimmed === '') {
    throw new InvalidUrlError(input, input === '' ? 'received an empty string' : 'received only whitespace')
  }

  const url = parseAbsolute(trimmed)
  const href = url.href
  // Percent-encoding and punycode can make the href several times longer than the input ("é" becomes "%C3%A9").
  if (href.length > rules.maxUrlLength) {
    throw new UrlTooLongError(href, href.length, rules.maxUrlLength)
  }

  const scheme = url.protocol.slice(0, -1)
  if (!rules.allowedSchemes.includes(scheme)) {
    throw new UnsupportedSchemeError(trimmed, scheme, rules.allowedSchemes)
  }
  if (url.username !== '' || url.password !== '') {
    throw new UrlHasCredentialsError(trimmed)
  }
  if (url.hostname === '') {
    throw new InvalidUrlError(trimmed, 'it has no host')
  }
  if (pointsToService(url, rules.baseUrl)) {
    throw new UrlPointsToServiceError(trimmed, rules.baseUrl.origin)
  }
  // No known input reaches this branch. It keeps a parser bug from putting control characters into a header.
  if (NOT_PRINTABLE_ASCII.test(href)) {
    throw new InvalidUrlError(trimmed, 'its normalized form contains spaces, control characters or non-ASCII characters')
  }

  return href
}

function parseAbsolute (trimmed: string): URL {
  try {
    return new URL(trimmed)
  } catch {
    // Node's TypeError message is only "Invalid URL", so it is not kept as the cause.
    const reason = SCHEME_PREFIX.test(trimmed)
      ? 'the WHATWG URL parser rejected it'
      : 'it has no scheme, so it is relative. Send an absolute URL such as https://example.com/page'
    throw new InvalidUrlError(trimmed, reason)
  }
}

/**
 * Reports whether `url` is served by the service at `baseUrl`: the same host
 * and the same effective port. http on its default port 80 and https on its
 * default port 443 count as one service, because a site that serves one
 * usually redirects it to the other. Another port on the same host is a
 * different service.
 */
function pointsToService (url: URL, baseUrl: URL): boolean {
  if (withoutTrailingDot(url.hostname) !== withoutTrailingDot(baseUrl.hostname)) return false

  if (isOnDefaultWebPort(url) && isOnDefaultWebPort(baseUrl)) return true
  const port = effectivePort(url)
  return port !== undefined && port === effectivePort(baseUrl)
}

// NOTE: only the host name is compared. Another name or address that reaches
// the same server (`localhost` for `127.0.0.1`, a second DNS name) is not
// detected, because that would need DNS lookups on the create path.
function withoutTrailingDot (hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
}

function isOnDefaultWebPort (url: URL): boolean {
  return url.port === '' && (url.protocol === 'http:' || url.protocol === 'https:')
}

function effectivePort (url: URL): number | undefined {
  return url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port)
}
