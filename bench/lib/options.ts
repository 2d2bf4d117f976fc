/** Command-line options of `npm run bench` and the settings they select. */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

export interface BenchConfig {
  quick: boolean
  /** Links preloaded for the redirect scenarios. */
  links: number
  /** Links preloaded per shard-count run and for the commit-durability runs. */
  smallLinks: number
  /** Requests in an h2load replay list. */
  uriCount: number
  durationSeconds: number
  warmupSeconds: number
  connections: number
  clientThreads: number
  shards: number
  shardCounts: number[]
  /** Rounds over all shard counts in turn. Each count's figure is the median of its rounds. */
  shardRounds: number
  /** Rounds of the product's hot redirects alternating with the ceiling. The figures are the medians. */
  hotRounds: number
  zipfExponent: number
  createPercent: number
  batchSize: number
  preloadConcurrency: number
  /** Cache entries (front and per shard) for redirect-uniform, far below `links`. */
  smallCacheEntries: number
  seed: number
  /** The whole run stops by itself after this long. */
  timeLimitMs: number
  /** One import stops after this long, so a slow import cannot use up the time of the scenarios after it. */
  maxPreloadMs: number
  keepData: boolean
  /** `autocannon` skips h2load and wrk even where installed, to try the fallback. */
  loadTool: 'auto' | 'autocannon'
  /** How the product starts: through tsx from src/ (the documented command) or from the compiled dist/. */
  productEntry: 'tsx' | 'dist'
}

const HELP = `Usage: npm run bench -- [options]

  --quick               small sets and short runs (about 90 s in all)
  --links N             links preloaded for redirects (default 1000000, quick 20000)
  --duration S          seconds of load per run (default 8, quick 1)
  --connections N       client connections (default 64)
  --client-threads N    load tool threads (default 1, leaving the other core(s) to the server)
  --shards N            product shards for all scenarios but shards-N
                        (default: one per CPU, as a deployment would set it)
  --seed N              seed of every sampled request list (default 42)
  --keep-data           keep the temporary data directories
  --load-tool T         auto (h2load and wrk where installed) or autocannon (default auto)
  --product-entry E     dist (builds, then runs node dist/cli/serve.js as npm start does)
                        or tsx (node --import tsx src/cli/serve.ts) (default dist)
  --help                print this text
`

function positiveInteger (name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive integer, received ${text}`)
  return value
}

function positiveNumber (name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!(value > 0)) throw new RangeError(`--${name} must be a positive number, received ${text}`)
  return value
}

/**
 * Returns one shard per CPU, what an operator would configure on the bench
 * machine. The product's default (4) is not sized for any machine; the
 * shards-N scenarios measure other counts.
 */
function benchDefaultShards (): number {
  return availableParallelism()
}

export function parseBenchOptions (argv: readonly string[]): BenchConfig | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      links: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'client-threads': { type: 'string' },
      shards: { type: 'string' },
      seed: { type: 'string' },
      'keep-data': { type: 'boolean', default: false },
      'load-tool': { type: 'string', default: 'auto' },
      'product-entry': { type: 'string', default: 'dist' },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) return 'help'

  const loadTool = values['load-tool']
  if (loadTool !== 'auto' && loadTool !== 'autocannon') throw new RangeError(`--load-tool must be auto or autocannon, received ${loadTool}`)

  const productEntry = values['product-entry']
  if (productEntry !== 'tsx' && productEntry !== 'dist') throw new RangeError(`--product-entry must be tsx or dist, received ${productEntry}`)

  const quick = values.quick
  const links = positiveInteger('links', values.links, quick ? 20_000 : 1_000_000)
  const smallCacheEntries = Math.max(100, Math.floor(links / 100))
  return {
    quick,
    links,
    smallLinks: Math.min(links, quick ? 5_000 : 50_000),
    uriCount: quick ? 50_000 : 500_000,
    durationSeconds: positiveNumber('duration', values.duration, quick ? 1 : 8),
    warmupSeconds: quick ? 0.5 : 1,
    connections: positiveInteger('connections', values.connections, 64),
    clientThreads: positiveInteger('client-threads', values['client-threads'], 1),
    shards: positiveInteger('shards', values.shards, benchDefaultShards()),
    shardCounts: [1, 2, 4, 8],
    shardRounds: quick ? 1 : 3,
    hotRounds: quick ? 1 : 3,
    zipfExponent: 1,
    createPercent: 10,
    batchSize: 1000,
    preloadConcurrency: 4,
    smallCacheEntries,
    seed: positiveInteger('seed', values.seed, 42),
    timeLimitMs: quick ? 88_000 : 600_000,
    maxPreloadMs: quick ? 15_000 : 150_000,
    keepData: values['keep-data'],
    loadTool,
    productEntry
  }
}

export const BENCH_HELP = HELP
