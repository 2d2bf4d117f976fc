/**
 * Messages between the front and a shard worker. One message carries every
 * operation the front queued for that shard in one event-loop turn, as
 * parallel arrays rather than one object per operation. Structured cloning
 * of a few flat arrays costs far less than of many small objects, and the
 * thread hop, not the store, is what each message pays for.
 */
import type { LinkStore } from '../store/types.ts'

export const OP_GET = 0
export const OP_CREATE = 1
export const OP_CREATE_ALIAS = 2

export type OpKind = typeof OP_GET | typeof OP_CREATE | typeof OP_CREATE_ALIAS

export interface BatchRequest {
  type: 'batch'
  kinds: OpKind[]
  /** The code for OP_GET, the normalized target for the creates. */
  args: string[]
  /** The alias for OP_CREATE_ALIAS, '' otherwise. */
  aliases: string[]
  /**
   * 16 bytes per operation: for OP_CREATE the first 16 bytes of SHA-256 of
   * the URL (the front computed it to route), zeros otherwise.
   */
  urlKeys: Uint8Array
}

export interface ControlRequest {
  type: 'ping' | 'stats' | 'close'
}

export type ShardRequest = BatchRequest | ControlRequest

export const RESULT_CREATED = 0
export const RESULT_EXISTED = 1
export const RESULT_FOUND = 2
export const RESULT_NOT_FOUND = 3
export const RESULT_FAILED = 4

export type ResultStatus =
  | typeof RESULT_CREATED
  | typeof RESULT_EXISTED
  | typeof RESULT_FOUND
  | typeof RESULT_NOT_FOUND
  | typeof RESULT_FAILED

/** A ShortenerError reduced to what survives structured cloning. */
export interface WireError {
  code: string
  status: number
  message: string
  fields: Record<string, unknown>
}

export interface BatchResponse {
  statuses: ResultStatus[]
  codes: string[]
  urls: string[]
  createdAt: number[]
  /** Set only where the status is RESULT_FAILED. */
  errors: Array<WireError | undefined>
}

export interface ShardStats {
  shard: number
  links: number
  storeBytes: number
  cacheHits: number
  cacheMisses: number
  leasesGranted: number
  /** Sequence numbers left in the current lease. */
  leaseRemaining: number
  /** Committed generated links whose `urls` index entry is not written yet. */
  indexLag: number
  flushes: number
  flushSecondsTotal: number
  storeErrors: number
}

export interface ShardWorkerData {
  shard: number
  dataDir: string
  slots: number
  permutationKey: Uint8Array
  durability: 'flush' | 'commit'
  cacheEntries: number
  leaseSize: number
  mapSizeBytes: number
  indexBatchEntries: number
  indexLagMs: number
  retry: { attempts: number, baseDelayMs: number, maxDelayMs: number }
  logLevel: string
  /** File path of a module whose default export wraps the store (tests inject faults this way); unset in service use. */
  storeWrapperPath?: string
}

/** Default export of a `storeWrapperPath` module: returns the store the shard uses in place of `store`. */
export type StoreWrapper = (store: LinkStore, context: { shard: number }) => LinkStore
