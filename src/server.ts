/**
 * Assembles and runs the service: meta store and deployment constants, one
 * shard worker per shard, the front's readers and routes, and the listening
 * socket. `close()` takes it all down again in order.
 */
import { mkdirSync } from 'node:fs'
import { Registry } from 'prom-client'
import uWS, { type us_listen_socket } from 'uWebSockets.js'
import { CodeCodec, MAX_CODE_LENGTH } from './codec/code.ts'
import type { Config } from './config/schema.ts'
import { FrontApp, type RequestHooks } from './front/app.ts'
import { ShardBreaker, type BreakerStateName } from './front/breaker.ts'
import { composeHooks } from './front/hooks.ts'
import { LinkService } from './front/links.ts'
import { REDIRECT_SAMPLE_INTERVAL, redirectLatencyHistogram, ServiceMetrics } from './front/metrics.ts'
import { RateLimits } from './front/rate-limits.ts'
import { Redirector } from './front/redirect.ts'
import { ShardClient } from './front/shard-client.ts'
import { RESERVED_ALIASES } from './links/alias.ts'
import { createLogger, RateLimitedLog, type Logger } from './log.ts'
import { Router } from './routing/router.ts'
import { LmdbLinkStore } from './store/lmdb.ts'
import { DataDirLock } from './store/data-dir-lock.ts'
import { MetaStore, type DeploymentConstants } from './store/meta.ts'

export interface Server {
  readonly port: number
  /** Base of this server's own URLs, e.g. `http://127.0.0.1:PORT/`. */
  readonly origin: string
  readonly config: Config
  readonly shards: readonly ShardClient[]
  readonly breakers: readonly ShardBreaker[]
  readonly front: FrontApp
  readonly redirector: Redirector
  readonly router: Router
  /** Stops accepting, lets in-flight requests finish, closes stores; idempotent. */
  close (): Promise<void>
}

export interface ServerOptions {
  logger?: Logger
  /** Request hooks run after the built-in rate limits and metrics (which come from config). */
  hooks?: RequestHooks
  /** Called with each breaker's state changes. */
  onBreakerChange?: (shard: number, state: BreakerStateName) => void
  /** Replaces the built-in `/metrics` renderer; called once, on the first scrape. */
  metrics?: (server: Server) => () => Promise<{ contentType: string, body: string }>
  /** For tests only: file path of a module whose default export wraps each shard's store (see `StoreWrapper`). */
  storeWrapper?: string
}

export class ListenError extends Error {
  constructor (host: string, port: number) {
    super(`Failed to listen on ${host}:${port}; is the port in use or the address not local?`)
    this.name = 'ListenError'
  }
}

const READY_TIMEOUT_MS = 2000
const MAX_STATS_TIMEOUT_MS = 2000

export async function startServer (config: Config, options: ServerOptions = {}): Promise<Server> {
  const logger = options.logger ?? createLogger(config.logLevel)
  mkdirSync(config.dataDir, { recursive: true })
  const lock = DataDirLock.acquire(config.dataDir)

  let meta: MetaStore
  let constants: DeploymentConstants
  try {
    meta = new MetaStore(config.dataDir)
    constants = meta.loadConstants({ slots: config.slots, shards: config.shards })
  } catch (error) {
    lock.release()
    throw error
  }
  const codec = new CodeCodec({ key: constants.permutationKey, slots: constants.slots })
  const router = new Router({ codec, slots: constants.slots, shards: constants.shards })

  const breakers = Array.from({ length: config.shards }, (_, shard) => new ShardBreaker(shard, config.breaker, (state) => {
    logger.warn({ shard, state }, 'shard breaker changed state')
    options.onBreakerChange?.(shard, state)
  }))
  const shards = breakers.map((breaker, shard) => new ShardClient({
    workerData: {
      shard,
      dataDir: config.dataDir,
      slots: constants.slots,
      permutationKey: constants.permutationKey,
      durability: config.durability,
      cacheEntries: config.cache.shardEntries,
      leaseSize: config.lease.size,
      mapSizeBytes: config.shard.mapSizeBytes,
      indexBatchEntries: config.shard.indexBatchEntries,
      indexLagMs: config.shard.indexLagMs,
      retry: config.retry,
      logLevel: config.logLevel,
      ...(options.storeWrapper === undefined ? {} : { storeWrapperPath: options.storeWrapper })
    },
    maxQueuedOperations: config.shard.maxQueuedOperations,
    maxBatchOperations: config.shard.maxBatchOperations,
    timeoutMs: config.shard.timeoutMs,
    breaker,
    logger
  }))

  try {
    await Promise.all(shards.map((shard) => shard.ping(Math.max(config.shard.timeoutMs, 30_000))))
  } catch (error) {
    await Promise.allSettled(shards.map((shard) => shard.close()))
    await meta.close()
    lock.release()
    throw error
  }

  const readers = shards.map((_, shard) => new LmdbLinkStore({ dataDir: config.dataDir, shard, codec, mapSizeBytes: config.shard.mapSizeBytes }))
  const baseUrl = new URL(config.baseUrl)
  const links = new LinkService({
    router,
    shards,
    baseUrl: config.baseUrl,
    targetRules: { maxUrlLength: config.maxUrlLength, allowedSchemes: config.allowedSchemes, baseUrl },
    aliasRules: { minLength: config.alias.minLength, maxLength: config.alias.maxLength, reserved: new Set(RESERVED_ALIASES) },
    maxBatchSize: config.maxBatchSize
  })
  const rateLimits = config.rateLimit.enabled ? createRateLimits(config, logger) : undefined
  const registry = new Registry()
  const redirectSeconds = redirectLatencyHistogram(registry)
  const redirector = new Redirector({
    router,
    readers,
    cacheEntries: config.cache.frontEntries,
    redirectStatus: config.redirectStatus,
    maxCodeLength: Math.max(MAX_CODE_LENGTH, config.alias.maxLength),
    onNotFound: rateLimits?.checkNotFound,
    onLatencySample: (seconds) => { redirectSeconds.observe(seconds) },
    latencySampleInterval: REDIRECT_SAMPLE_INTERVAL
  })
  const metrics = new ServiceMetrics(registry, {
    shards,
    breakers,
    redirector,
    rateLimits,
    redirectStatus: config.redirectStatus,
    maxQueuedOperations: config.shard.maxQueuedOperations,
    statsTimeoutMs: Math.min(config.shard.timeoutMs, MAX_STATS_TIMEOUT_MS),
    logger
  })

  const isReady = async (): Promise<{ ready: boolean, detail: Record<string, unknown> }> => {
    const states = await Promise.all(shards.map(async (shard, i) => {
      const breaker = (breakers[i] as ShardBreaker).state
      try {
        await shard.ping(READY_TIMEOUT_MS)
        return { shard: i, answering: true, breaker }
      } catch {
        return { shard: i, answering: false, breaker }
      }
    }))
    return { ready: states.every((s) => s.answering && s.breaker !== 'open'), detail: { shards: states } }
  }

  let server: Server | undefined
  const front = new FrontApp({
    links,
    redirector,
    limits: { maxBodyBytes: config.maxBodyBytes },
    logger,
    hooks: composeHooks(rateLimits?.hooks, metrics.hooks, options.hooks),
    isReady,
    metrics: options.metrics === undefined ? metrics.render : customMetrics(options.metrics, () => server as Server)
  })

  const release = async (): Promise<void> => {
    await Promise.all(shards.map((shard) => shard.close()))
    for (const breaker of breakers) breaker.dispose()
    await Promise.all(readers.map((reader) => reader.close()))
    await meta.close()
    lock.release()
  }

  let listenSocket: us_listen_socket
  try {
    listenSocket = await listen(front, config.host, config.port)
  } catch (error) {
    // Without this a failed start leaves the shard threads running and the
    // data directory locked.
    front.app.close()
    await release()
    throw error
  }
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket)
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info({ inFlight: front.inFlight }, 'stopping: draining in-flight requests')
      front.startDraining()
      uWS.us_listen_socket_close(listenSocket)
      const idle = await Promise.race([
        front.idle().then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, config.shutdownGraceMs, false).unref())
      ])
      if (!idle) logger.warn({ inFlight: front.inFlight, shutdownGraceMs: config.shutdownGraceMs }, 'grace period over; closing with requests in flight')
      front.app.close()
      await release()
      logger.info('stopped')
    })()
    return closing
  }

  server = { port, origin, config, shards, breakers, front, redirector, router, close }
  logger.info({ port, host: config.host, shards: config.shards, slots: constants.slots, durability: config.durability }, 'listening')
  return server
}

function createRateLimits (config: Config, logger: Logger): RateLimits {
  const rejections = new RateLimitedLog(logger)
  return new RateLimits(config.rateLimit, {
    onReject: (limit, client) => { rejections.warn(`rate-limit:${limit}`, { limit, client }, 'client rate limited') }
  })
}

/** Wraps a caller's renderer factory so that it runs once, on the first scrape, when the server exists. */
function customMetrics (factory: NonNullable<ServerOptions['metrics']>, server: () => Server): () => Promise<{ contentType: string, body: string }> {
  let render: (() => Promise<{ contentType: string, body: string }>) | undefined
  return () => {
    render ??= factory(server())
    return render()
  }
}

// `uWS.LIBUS_LISTEN_EXCLUSIVE_PORT` at run time; the typings declare it
// only as a member of an enum that the module does not export.
const LISTEN_EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT

/** The uWebSockets.js listen call with a host and options, which the native code takes but its types omit. */
type ListenWithHost = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => unknown

function listen (front: FrontApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    // uWebSockets.js binds with SO_REUSEPORT by default, so a second service
    // on a taken port would start and silently take part of its connections.
    const listenWithHost = front.app.listen.bind(front.app) as unknown as ListenWithHost
    listenWithHost(host, port, LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket === false) reject(new ListenError(host, port))
      else resolve(socket)
    })
  })
}
