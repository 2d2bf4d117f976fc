/**
 * `/metrics` in the Prometheus text format, on a prom-client Registry of
 * its own per server (several servers in one process, as in tests, must not
 * share series).
 *
 * Cost per request is kept off the hot path:
 * - API routes (create, batch, get) increment a labelled counter and
 *   observe a histogram when they respond, because those requests already
 *   pay for a body parse and a shard hop.
 * - The redirect, served synchronously on the front thread in a few
 *   microseconds, only increments plain number fields of the Redirector,
 *   which a scrape turns into counters, and times one request in
 *   REDIRECT_SAMPLE_INTERVAL.
 *
 * Figures held by the shard workers (their caches, leases, store size,
 * flushes) are fetched from every worker at scrape time with a timeout, so
 * a dead or stuck shard leaves its series out of that scrape and sets
 * `shortener_shard_stats_up` to 0 instead of hanging the scrape. Counters
 * kept inside a worker restart from 0 when piscina replaces the worker;
 * Prometheus `rate()` treats that as a counter reset.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Logger } from '../log.ts'
import { RateLimitedLog } from '../log.ts'
import type { ShardStats } from '../shard/protocol.ts'
import type { RequestHooks } from './app.ts'
import type { BreakerStateName, ShardBreaker } from './breaker.ts'
import type { RateLimits } from './rate-limits.ts'
import type { Redirector } from './redirect.ts'
import type { ShardClient } from './shard-client.ts'

export interface MetricsOptions {
  shards: readonly ShardClient[]
  breakers: readonly ShardBreaker[]
  redirector: Redirector
  rateLimits: RateLimits | undefined
  /** Status of a redirect response, for the `status` label of its requests. */
  redirectStatus: number
  maxQueuedOperations: number
  /** Time each shard has to reply to the stats request of one scrape. */
  statsTimeoutMs: number
  logger: Logger
}

/** One redirect in this many is timed for the redirect latency histogram. */
export const REDIRECT_SAMPLE_INTERVAL = 64

const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, 'half-open': 1, open: 2 }

// Routes whose latency is worth a histogram: those that wait for a shard.
const TIMED_ROUTES = new Set(['create', 'batch', 'get'])

const API_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const REDIRECT_SECONDS_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025]

/**
 * Builds the redirect latency histogram before the Redirector exists, since
 * the Redirector takes the observer at construction.
 */
export function redirectLatencyHistogram (registry: Registry): Histogram {
  return new Histogram({
    name: 'shortener_redirect_handler_duration_seconds',
    help: `Time the redirect handler takes on the front thread, sampled one request in ${REDIRECT_SAMPLE_INTERVAL} (network time excluded)`,
    buckets: REDIRECT_SECONDS_BUCKETS,
    registers: [registry]
  })
}

export class ServiceMetrics {
  readonly registry: Registry
  #options: MetricsOptions
  #statsErrors: RateLimitedLog
  #redirectsCounted = { redirected: 0, notFound: 0, rateLimited: 0 }

  #requests: Counter
  #apiSeconds: Histogram
  #frontCacheHits: Counter
  #frontCacheMisses: Counter
  #rateLimited: Counter
  #rateLimitClients: Gauge
  #queueDepth: Gauge
  #breakerState: Gauge
  #restarts: Counter
  #statsUp: Gauge
  #shardCacheHits: Counter
  #shardCacheMisses: Counter
  #leasesGranted: Counter
  #leaseRemaining: Gauge
  #indexLag: Gauge
  #storeBytes: Gauge
  #links: Gauge
  #flushes: Counter
  #flushSeconds: Counter
  #storeErrors: Counter

  constructor (registry: Registry, options: MetricsOptions) {
    this.registry = registry
    this.#options = options
    this.#statsErrors = new RateLimitedLog(options.logger)
    collectDefaultMetrics({ register: registry })

    const registers = [registry]
    const shardLabel = ['shard']
    this.#requests = new Counter({ name: 'shortener_http_requests_total', help: 'HTTP responses sent, by route and status (499: the client closed the connection first)', labelNames: ['route', 'status'], registers })
    this.#apiSeconds = new Histogram({ name: 'shortener_api_request_duration_seconds', help: 'Time from request to response for API routes that wait for a shard', labelNames: ['route'], buckets: API_SECONDS_BUCKETS, registers })
    this.#frontCacheHits = new Counter({ name: 'shortener_front_cache_hits_total', help: 'Redirect lookups served from the front thread\'s LRU cache', registers })
    this.#frontCacheMisses = new Counter({ name: 'shortener_front_cache_misses_total', help: 'Redirect lookups that missed the front cache and read the store', registers })
    this.#rateLimited = new Counter({ name: 'shortener_rate_limited_total', help: 'Requests rejected with 429 RATE_LIMITED, by limit', labelNames: ['limit'], registers })
    this.#rateLimitClients = new Gauge({ name: 'shortener_rate_limit_clients', help: 'Clients tracked in each limit\'s bucket map (at most rateLimit.maxClients)', labelNames: ['limit'], registers })

    new Gauge({ name: 'shortener_shard_queue_limit', help: 'Operations a shard may have queued or in flight before the front rejects with 503 (shard.maxQueuedOperations)', registers })
      .set(options.maxQueuedOperations)
    this.#queueDepth = new Gauge({ name: 'shortener_shard_queue_depth', help: 'Operations queued for or in flight in a shard', labelNames: shardLabel, registers })
    this.#breakerState = new Gauge({ name: 'shortener_shard_breaker_state', help: 'Circuit breaker state per shard: 0 closed, 1 half-open, 2 open', labelNames: shardLabel, registers })
    this.#restarts = new Counter({ name: 'shortener_shard_worker_restarts_total', help: 'Shard worker threads that exited and were replaced', labelNames: shardLabel, registers })
    this.#statsUp = new Gauge({ name: 'shortener_shard_stats_up', help: '1 when the shard replied to this scrape\'s stats request in time, else 0 (its worker-side series are then missing)', labelNames: shardLabel, registers })
    this.#shardCacheHits = new Counter({ name: 'shortener_shard_cache_hits_total', help: 'Lookups served from the shard\'s LRU cache', labelNames: shardLabel, registers })
    this.#shardCacheMisses = new Counter({ name: 'shortener_shard_cache_misses_total', help: 'Lookups that missed the shard\'s LRU cache and read its store', labelNames: shardLabel, registers })
    this.#leasesGranted = new Counter({ name: 'shortener_shard_leases_granted_total', help: 'ID range leases granted to the shard since its worker started', labelNames: shardLabel, registers })
    this.#leaseRemaining = new Gauge({ name: 'shortener_shard_lease_remaining', help: 'Sequence numbers left in the shard\'s current and prefetched leases', labelNames: shardLabel, registers })
    this.#indexLag = new Gauge({ name: 'shortener_shard_index_lag_links', help: 'Committed links whose URL index entry the shard has not written yet', labelNames: shardLabel, registers })
    this.#storeBytes = new Gauge({ name: 'shortener_shard_store_bytes', help: 'Size of the shard\'s LMDB file on disk', labelNames: shardLabel, registers })
    this.#links = new Gauge({ name: 'shortener_shard_links', help: 'Links stored in the shard', labelNames: shardLabel, registers })
    this.#flushes = new Counter({ name: 'shortener_shard_flushes_total', help: 'Durable flushes the shard waited for (durability flush)', labelNames: shardLabel, registers })
    this.#flushSeconds = new Counter({ name: 'shortener_shard_flush_seconds_total', help: 'Time the shard spent waiting for durable flushes', labelNames: shardLabel, registers })
    this.#storeErrors = new Counter({ name: 'shortener_shard_store_errors_total', help: 'Store writes that failed after their retries', labelNames: shardLabel, registers })
  }

  /** Request hooks that count and time the API routes. */
  get hooks (): RequestHooks {
    return { onResponse: this.#onResponse }
  }

  /** Renders every series; shard figures are fetched now, within the stats timeout. */
  render = async (): Promise<{ contentType: string, body: string }> => {
    await this.#refresh()
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  #onResponse = (route: string, status: number, startedAt: number): void => {
    this.#requests.inc({ route, status })
    if (TIMED_ROUTES.has(route)) this.#apiSeconds.observe({ route }, (performance.now() - startedAt) / 1000)
  }

  async #refresh (): Promise<void> {
    const { shards, breakers, redirector, rateLimits } = this.#options
    const stats = await Promise.allSettled(shards.map((shard) => shard.stats(this.#options.statsTimeoutMs)))

    this.#countRedirects()
    setCounter(this.#frontCacheHits, {}, redirector.hits)
    setCounter(this.#frontCacheMisses, {}, redirector.misses)
    if (rateLimits !== undefined) {
      this.#rateLimited.reset()
      this.#rateLimitClients.reset()
      for (const limit of [rateLimits.create, rateLimits.notFound]) {
        this.#rateLimited.inc({ limit: limit.name }, limit.rejected)
        this.#rateLimitClients.set({ limit: limit.name }, limit.buckets.clients)
      }
    }

    this.#restarts.reset()
    for (const shard of shards) {
      const labels = { shard: shard.id }
      this.#queueDepth.set(labels, shard.outstanding)
      this.#breakerState.set(labels, BREAKER_STATE_VALUE[(breakers[shard.id] as ShardBreaker).state])
      this.#restarts.inc(labels, shard.restarts)
    }

    this.#resetWorkerSeries()
    stats.forEach((result, shard) => {
      this.#statsUp.set({ shard }, result.status === 'fulfilled' ? 1 : 0)
      if (result.status === 'fulfilled') this.#setWorkerSeries(result.value)
      else this.#statsErrors.warn(`stats:${shard}`, { shard, err: result.reason }, 'shard stats request for metrics failed or timed out')
    })
  }

  /** Adds the redirect responses sent since the last scrape to the request counter. */
  #countRedirects (): void {
    const { redirector, redirectStatus } = this.#options
    const counted = this.#redirectsCounted
    this.#requests.inc({ route: 'redirect', status: redirectStatus }, redirector.redirected - counted.redirected)
    this.#requests.inc({ route: 'redirect', status: 404 }, redirector.notFound - counted.notFound)
    this.#requests.inc({ route: 'redirect', status: 429 }, redirector.rateLimited - counted.rateLimited)
    counted.redirected = redirector.redirected
    counted.notFound = redirector.notFound
    counted.rateLimited = redirector.rateLimited
  }

  #resetWorkerSeries (): void {
    for (const metric of [this.#shardCacheHits, this.#shardCacheMisses, this.#leasesGranted, this.#leaseRemaining, this.#indexLag,
      this.#storeBytes, this.#links, this.#flushes, this.#flushSeconds, this.#storeErrors]) {
      metric.reset()
    }
  }

  #setWorkerSeries (stats: ShardStats): void {
    const labels = { shard: stats.shard }
    this.#shardCacheHits.inc(labels, stats.cacheHits)
    this.#shardCacheMisses.inc(labels, stats.cacheMisses)
    this.#leasesGranted.inc(labels, stats.leasesGranted)
    this.#leaseRemaining.set(labels, stats.leaseRemaining)
    this.#indexLag.set(labels, stats.indexLag)
    this.#storeBytes.set(labels, stats.storeBytes)
    this.#links.set(labels, stats.links)
    this.#flushes.inc(labels, stats.flushes)
    this.#flushSeconds.inc(labels, stats.flushSecondsTotal)
    this.#storeErrors.inc(labels, stats.storeErrors)
  }
}

/** Sets a counter to a total kept elsewhere (prom-client counters only go up). */
function setCounter (counter: Counter, labels: Record<string, string | number>, total: number): void {
  counter.reset()
  counter.inc(labels, total)
}
