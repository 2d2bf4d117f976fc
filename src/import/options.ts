/**
 * Command-line options of `npm run import`, their defaults, validation and
 * help text. Every number is checked once here, so the rest of the importer
 * can trust its options.
 */
import { parseArgs } from 'node:util'
import { UsageError } from './errors.ts'
import { MAX_LINE_CHARS } from './lines.ts'

export interface ImportOptions {
  /** Path of the input file: one URL per line, UTF-8. */
  file: string
  /** Origin of a running shortener, e.g. `http://127.0.0.1:8080`. */
  server: string
  /** Path of the rejects file, or undefined to write none. */
  rejects: string | undefined
  /** Maximum links in one batch request. Default 1000, the server's default `maxBatchSize`. */
  batchSize: number
  /** Maximum request body in bytes; a batch is cut before it grows past it. Default 4 MiB, the server's default `maxBodyBytes`. */
  maxBodyBytes: number
  /** Batch requests in flight at once. Default 4. */
  concurrency: number
  /** Retries of a request that failed with a network error, 429 or 5xx, after the first attempt. Default 5. */
  retries: number
  /** Time one request may take before it is aborted and retried, in milliseconds. Default 60000. */
  timeoutMs: number
  /** Whether to request every created or found code after the import and compare its `Location`. */
  verify: boolean
  /** Lookups in flight at once during `--verify`. Default 16. */
  verifyConcurrency: number
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8080'

const DEFAULTS = {
  batchSize: 1000,
  maxBodyBytes: 4 * 1024 * 1024,
  concurrency: 4,
  retries: 5,
  timeoutMs: 60_000,
  verifyConcurrency: 16
}

/** Bytes of `{"links":[` plus `]}` and of one `{"url":` plus `}`, around the encoded URLs. */
export const BODY_FRAME_BYTES = 13
export const ITEM_FRAME_BYTES = 8
/** JSON escapes a control character or a lone surrogate as `\uXXXX`: 6 bytes for one UTF-16 code unit. */
const MAX_JSON_BYTES_PER_CHAR = 6
/** The smallest body that can carry one line of the maximum length, so no accepted line is ever unsendable. */
export const MIN_BODY_BYTES = BODY_FRAME_BYTES + ITEM_FRAME_BYTES + 2 + MAX_JSON_BYTES_PER_CHAR * MAX_LINE_CHARS

export const HELP = `Usage: npm run import -- FILE [options]

Creates a short link for every line of FILE through POST /api/v1/links/batch
of a running shortener. The file is streamed, so it may be of any size.

Input
  One URL per line, UTF-8. Lines end with LF; a CR before the LF (CRLF files)
  is removed. Empty lines are skipped and counted. Every other line is sent
  unchanged, surrounding spaces included: the server trims them, and rejects
  a line of only whitespace as INVALID_URL. A line longer than
  ${MAX_LINE_CHARS} characters (the largest maxUrlLength a server accepts)
  is not sent and is rejected as LINE_TOO_LONG.

Options
  --server URL               Origin of the shortener (default ${DEFAULT_SERVER}).
  --rejects OUT              Write each rejected line to OUT as
                             LINE-NUMBER<TAB>ERROR-CODE<TAB>LINE, in input order,
                             line numbers from 1. A LINE_TOO_LONG line is cut to
                             its first ${MAX_LINE_CHARS} characters there.
  --batch-size N             Links per batch request, at most the server's
                             maxBatchSize (default ${DEFAULTS.batchSize}).
  --max-body-bytes N         Largest request body in bytes, at most the server's
                             maxBodyBytes (default ${DEFAULTS.maxBodyBytes}, minimum ${MIN_BODY_BYTES}).
  --concurrency N            Batch requests in flight at once (default ${DEFAULTS.concurrency}).
  --retries N                Retries of a request after a network error, 429 or
                             5xx, and of a link that failed with a 5xx error
                             (default ${DEFAULTS.retries}). Waits follow Retry-After when
                             the server sends it, else exponential backoff.
  --timeout-ms N             Time in milliseconds one request may take before it
                             is aborted and retried (default ${DEFAULTS.timeoutMs}).
  --verify                   After the import, request GET /CODE for every created
                             or existing link without following the redirect and
                             check that Location equals the link's url.
  --verify-concurrency N     Lookups in flight at once with --verify (default ${DEFAULTS.verifyConcurrency}).
  -h, --help                 Print this help.

Output
  A summary on stdout: lines read, empty lines, links created, links that
  already existed, rejected lines per error code, wall time and links per
  second. Progress on stderr while it runs, only when stderr is a terminal.

Exit status
  0  every non-empty line was created, found or rejected (and, with --verify,
     every link matched)
  1  a batch could not be delivered: server unreachable, 5xx or 429 after all
     retries, or a whole batch rejected with a 4xx status
  2  invalid command line, or the input file cannot be read
  3  --verify found links whose Location differs from their url
`

/** Parses `argv` (without node and the script path); throws `UsageError` with a message that names the option. */
export function parseImportArgs (argv: readonly string[]): ImportOptions | 'help' {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        server: { type: 'string' },
        rejects: { type: 'string' },
        'batch-size': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        concurrency: { type: 'string' },
        retries: { type: 'string' },
        'timeout-ms': { type: 'string' },
        verify: { type: 'boolean' },
        'verify-concurrency': { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }

  const { values, positionals } = parsed
  if (values.help === true) return 'help'
  if (positionals.length !== 1) {
    throw new UsageError(`expected exactly one input FILE, received ${positionals.length} positional arguments`)
  }

  return {
    file: positionals[0] as string,
    server: parseServer(values.server ?? DEFAULT_SERVER),
    rejects: values.rejects,
    batchSize: parseInteger('--batch-size', values['batch-size'], DEFAULTS.batchSize, 1, 100_000),
    maxBodyBytes: parseInteger('--max-body-bytes', values['max-body-bytes'], DEFAULTS.maxBodyBytes, MIN_BODY_BYTES, 1024 * 1024 * 1024),
    concurrency: parseInteger('--concurrency', values.concurrency, DEFAULTS.concurrency, 1, 256),
    retries: parseInteger('--retries', values.retries, DEFAULTS.retries, 0, 100),
    timeoutMs: parseInteger('--timeout-ms', values['timeout-ms'], DEFAULTS.timeoutMs, 1, 3_600_000),
    verify: values.verify === true,
    verifyConcurrency: parseInteger('--verify-concurrency', values['verify-concurrency'], DEFAULTS.verifyConcurrency, 1, 1024)
  }
}

function parseInteger (name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, received ${JSON.stringify(raw)}`)
  }
  return value
}

/** Returns the server's origin without a trailing slash. */
function parseServer (raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--server must be an absolute http or https URL such as ${DEFAULT_SERVER}, received ${JSON.stringify(raw)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server must use http or https, received ${JSON.stringify(raw)}`)
  }
  return url.origin
}
