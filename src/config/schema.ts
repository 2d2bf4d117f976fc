/**
 * The one place that lists every configuration key: its type, allowed range
 * and meaning. `config/default.json` supplies the defaults. The loader lets
 * an environment variable and then a command-line flag override each key,
 * and it validates every value here before anything starts. The README's config
 * table is written from this list.
 */

export interface Config {
  host: string
  port: number
  baseUrl: string
  dataDir: string
  shards: number
  slots: number
  durability: 'flush' | 'commit'
  redirectStatus: 301 | 302 | 303 | 307 | 308
  maxUrlLength: number
  allowedSchemes: string[]
  maxBodyBytes: number
  maxBatchSize: number
  alias: { minLength: number, maxLength: number }
  cache: { frontEntries: number, shardEntries: number }
  lease: { size: number }
  shard: { maxQueuedOperations: number, maxBatchOperations: number, timeoutMs: number, mapSizeBytes: number, indexBatchEntries: number, indexLagMs: number }
  breaker: {
    windowMs: number
    minCalls: number
    failureRatePercent: number
    openMs: number
    halfOpenCalls: number
    trialTimeoutMs: number
  }
  retry: { attempts: number, baseDelayMs: number, maxDelayMs: number }
  rateLimit: {
    enabled: boolean
    clientAddress: 'peer' | 'x-forwarded-for'
    trustedProxies: string[]
    createPerSecond: number
    createBurst: number
    notFoundPerSecond: number
    notFoundBurst: number
    maxClients: number
  }
  shutdownGraceMs: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

export type KeyKind =
  | { type: 'integer', min: number, max: number }
  | { type: 'string', allowEmpty?: boolean }
  | { type: 'url' }
  | { type: 'enum', values: readonly (string | number)[] }
  | { type: 'boolean' }
  | { type: 'list', pattern?: RegExp, patternHint?: string }

export interface KeySpec {
  /** Dotted path into Config, e.g. `breaker.openMs`. */
  key: string
  kind: KeyKind
  description: string
}

const MAX_MS = 24 * 60 * 60 * 1000

export const KEYS: readonly KeySpec[] = [
  { key: 'host', kind: { type: 'string' }, description: 'Address to listen on (`0.0.0.0` all IPv4, `::` all IPv6, `127.0.0.1` loopback only).' },
  { key: 'port', kind: { type: 'integer', min: 0, max: 65535 }, description: 'TCP port to listen on; 0 picks a free port and logs it.' },
  { key: 'baseUrl', kind: { type: 'url' }, description: 'Public base URL of the service: builds `shortUrl`, and targets on it are rejected.' },
  { key: 'dataDir', kind: { type: 'string' }, description: 'Directory of the LMDB files (meta store and one store per shard).' },
  { key: 'shards', kind: { type: 'integer', min: 1, max: 256 }, description: 'Number of shard worker threads, each owning one store.' },
  { key: 'slots', kind: { type: 'integer', min: 1, max: 65536 }, description: 'Routing slots; fixed at first start and stored, a different value later is an error.' },
  { key: 'durability', kind: { type: 'enum', values: ['flush', 'commit'] }, description: 'When a create is acknowledged: `flush` after the data is on disk, `commit` once visible (faster, may lose the last writes on power loss).' },
  { key: 'redirectStatus', kind: { type: 'enum', values: [301, 302, 303, 307, 308] }, description: 'HTTP status of a redirect.' },
  { key: 'maxUrlLength', kind: { type: 'integer', min: 16, max: 65536 }, description: 'Maximum target length in characters, before and after normalization.' },
  { key: 'allowedSchemes', kind: { type: 'list', pattern: /^[a-z][a-z0-9+.-]*$/, patternHint: 'lower-case URL schemes without the colon' }, description: 'Target URL schemes accepted, comma-separated on the command line.' },
  { key: 'maxBodyBytes', kind: { type: 'integer', min: 1024, max: 256 * 1024 * 1024 }, description: 'Maximum request body size in bytes (413 above it).' },
  { key: 'maxBatchSize', kind: { type: 'integer', min: 1, max: 100000 }, description: 'Maximum links in one batch request.' },
  { key: 'alias.minLength', kind: { type: 'integer', min: 1, max: 64 }, description: 'Shortest alias accepted, in characters.' },
  { key: 'alias.maxLength', kind: { type: 'integer', min: 1, max: 256 }, description: 'Maximum alias length, in characters.' },
  { key: 'cache.frontEntries', kind: { type: 'integer', min: 0, max: 100_000_000 }, description: 'Redirect cache entries in the front thread (0 disables it).' },
  { key: 'cache.shardEntries', kind: { type: 'integer', min: 0, max: 100_000_000 }, description: 'LRU cache entries in each shard (0 disables it).' },
  { key: 'lease.size', kind: { type: 'integer', min: 16, max: 1 << 24 }, description: 'IDs in one range lease; a crash leaves at most this many unused per shard.' },
  { key: 'shard.maxQueuedOperations', kind: { type: 'integer', min: 1, max: 10_000_000 }, description: 'Maximum operations queued or in flight per shard; beyond it the front responds 503.' },
  { key: 'shard.maxBatchOperations', kind: { type: 'integer', min: 1, max: 100_000 }, description: 'Operations sent to a shard in one message.' },
  { key: 'shard.timeoutMs', kind: { type: 'integer', min: 10, max: MAX_MS }, description: 'Time a shard has to reply to a message before its requests get 503.' },
  { key: 'shard.mapSizeBytes', kind: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER }, description: 'LMDB map size per shard in bytes; 0 lets lmdb-js grow it as needed.' },
  { key: 'shard.indexBatchEntries', kind: { type: 'integer', min: 1, max: 1_000_000 }, description: 'URL index entries a shard writes in one batch once that many wait.' },
  { key: 'shard.indexLagMs', kind: { type: 'integer', min: 1, max: 3_600_000 }, description: 'Time after which waiting URL index entries are written, in milliseconds. An index write in progress can delay them by its own duration. The next start after a crash rebuilds about this much time of creates.' },
  { key: 'breaker.windowMs', kind: { type: 'integer', min: 100, max: MAX_MS }, description: 'Sliding window of the per-shard breaker.' },
  { key: 'breaker.minCalls', kind: { type: 'integer', min: 1, max: 1000 }, description: 'Calls in the window before the breaker may open.' },
  { key: 'breaker.failureRatePercent', kind: { type: 'integer', min: 1, max: 100 }, description: 'Failure rate in the window at or above which the breaker opens.' },
  { key: 'breaker.openMs', kind: { type: 'integer', min: 10, max: MAX_MS }, description: 'Time the breaker stays open before it lets trial calls through.' },
  { key: 'breaker.halfOpenCalls', kind: { type: 'integer', min: 1, max: 1000 }, description: 'Trial calls let through while half-open.' },
  { key: 'breaker.trialTimeoutMs', kind: { type: 'integer', min: 10, max: MAX_MS }, description: 'Time after which a hung trial call returns the breaker to open.' },
  { key: 'retry.attempts', kind: { type: 'integer', min: 1, max: 10 }, description: 'Attempts for a shard write that fails transiently (1 means no retry).' },
  { key: 'retry.baseDelayMs', kind: { type: 'integer', min: 1, max: 60000 }, description: 'First retry delay; doubles each attempt, with full jitter.' },
  { key: 'retry.maxDelayMs', kind: { type: 'integer', min: 1, max: 600000 }, description: 'Upper bound of one retry delay.' },
  { key: 'rateLimit.enabled', kind: { type: 'boolean' }, description: 'Per-client token buckets on creates and on not-found lookups.' },
  { key: 'rateLimit.clientAddress', kind: { type: 'enum', values: ['peer', 'x-forwarded-for'] }, description: 'Which address identifies a client: the TCP peer, or the right-most address in `X-Forwarded-For` that is not a trusted proxy (only when the peer is one). IPv6 clients are keyed by their /64.' },
  { key: 'rateLimit.trustedProxies', kind: { type: 'list' }, description: 'Addresses or CIDR ranges (`10.0.0.0/8`) of the proxies whose `X-Forwarded-For` is believed (only with `x-forwarded-for`, which needs at least one).' },
  { key: 'rateLimit.createPerSecond', kind: { type: 'integer', min: 1, max: 10_000_000 }, description: 'Create requests a client may make per second, sustained (a batch is one request).' },
  { key: 'rateLimit.createBurst', kind: { type: 'integer', min: 1, max: 10_000_000 }, description: 'Create requests a client may make at once.' },
  { key: 'rateLimit.notFoundPerSecond', kind: { type: 'integer', min: 1, max: 10_000_000 }, description: 'Lookups of unknown codes (redirects and API lookups) a client may make per second, sustained.' },
  { key: 'rateLimit.notFoundBurst', kind: { type: 'integer', min: 1, max: 10_000_000 }, description: 'Lookups of unknown codes a client may make at once.' },
  { key: 'rateLimit.maxClients', kind: { type: 'integer', min: 1, max: 100_000_000 }, description: 'Clients tracked per bucket map; the least recently seen are dropped.' },
  { key: 'shutdownGraceMs', kind: { type: 'integer', min: 0, max: MAX_MS }, description: 'Time in-flight requests get to finish after SIGTERM or SIGINT.' },
  { key: 'logLevel', kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, description: 'Minimum level of log lines written.' }
]
