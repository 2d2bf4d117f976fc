/**
 * A `LinkStore` wrapper that injects faults into a shard's writes, for the
 * resilience tests. A server started with `{ storeWrapper: FAULTY_STORE_PATH }`
 * loads this module in every shard worker. The test steers the faults from
 * its own thread with `StoreFaults` over a BroadcastChannel, because worker
 * threads share no memory with the test.
 *
 * Every wrapper starts without faults, and so does a worker that piscina
 * starts again after one died. Only one server with faulty stores may run in
 * a process at a time, because all of them would listen on the same channel.
 */
import { fileURLToPath } from 'node:url'
import { BroadcastChannel } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import type { IndexEntry, LinkRecord, LinkStore } from '../../src/store/types.ts'
import { DelegatingStore } from './delegating-store.ts'

/** Pass as `storeWrapper` in the server options. */
export const FAULTY_STORE_PATH = fileURLToPath(import.meta.url)

const CHANNEL_NAME = 'shortener-test-store-faults'

/**
 * What a faulty transaction does. lmdb-js commits the puts of one
 * event-loop turn as one transaction, so faults strike all puts of a turn
 * together, as a failed commit does:
 * - `throw`: rejects them before they reach the store, so nothing is written;
 * - `full`: the same with an ENOSPC error, as a full disk gives;
 * - `stall`: waits `stallMs`, then puts for real (the front may have given up by then);
 * - `stall-flush`: every `flushed()` waits `stallMs` before the real flush (puts are not faulted);
 * - `exit`: ends the worker thread with `process.exit(1)` before touching the store;
 * - `fail-index`: rejects URL index writes (`putIndexEntries`) and leaves link writes alone.
 */
export type FaultMode = 'none' | 'throw' | 'stall' | 'stall-flush' | 'full' | 'exit' | 'fail-index'

export interface FaultPlan {
  mode: FaultMode
  /** Share of transactions that fault, from 0 to 1, drawn from a PRNG seeded with `seed + shard`. */
  rate?: number
  seed?: number
  /** Faulted transactions per shard after which puts succeed again; unlimited when unset. */
  maxFaults?: number
  stallMs?: number
  /** Shards that fault; all when unset. */
  shards?: number[]
}

export interface StoreCounters {
  shard: number
  puts: number
  /** Transactions (event-loop turns of puts) that faulted. */
  faults: number
  getLinks: number
  flushes: number
}

type ControlMessage = { type: 'plan', id: number, plan: FaultPlan } | { type: 'counters', id: number }
interface AckMessage { type: 'ack', id: number, counters: StoreCounters }

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class InjectedStoreError extends Error {
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.name = 'InjectedStoreError'
    this.code = code
  }
}

class FaultyStore extends DelegatingStore {
  #shard: number
  #plan: FaultPlan = { mode: 'none' }
  #random: () => number = Math.random
  #planFaults = 0
  #turnFaults: boolean | undefined
  #counters: StoreCounters
  #channel: BroadcastChannel

  constructor (inner: LinkStore, shard: number) {
    super(inner)
    this.#shard = shard
    this.#counters = { shard, puts: 0, faults: 0, getLinks: 0, flushes: 0 }
    this.#channel = new BroadcastChannel(CHANNEL_NAME)
    this.#channel.unref()
    this.#channel.onmessage = (event) => { this.#onControl((event as { data: ControlMessage | AckMessage }).data) }
  }

  override getLink (code: string): LinkRecord | undefined {
    this.#counters.getLinks++
    return this.inner.getLink(code)
  }

  override async putLink (code: string, record: LinkRecord): Promise<unknown> {
    this.#counters.puts++
    const mode = this.#plan.mode
    if (mode === 'stall-flush' || mode === 'fail-index' || !this.#faultsThisTurn()) return await this.inner.putLink(code, record)

    switch (mode) {
      case 'throw':
        throw new InjectedStoreError('EIO', `injected store failure on shard ${this.#shard}`)
      case 'full':
        throw new InjectedStoreError('ENOSPC', `injected ENOSPC: No space left on device (shard ${this.#shard})`)
      case 'exit':
        return process.exit(1)
      case 'stall':
        await sleep(this.#plan.stallMs ?? 1000)
        return await this.inner.putLink(code, record)
      default:
        return await this.inner.putLink(code, record)
    }
  }

  override async putIndexEntries (entries: readonly IndexEntry[], indexedThrough: number): Promise<unknown> {
    if (this.#plan.mode === 'fail-index' && this.#shouldFault()) {
      this.#counters.faults++
      throw new InjectedStoreError('EIO', `injected index write failure on shard ${this.#shard}`)
    }
    return await this.inner.putIndexEntries(entries, indexedThrough)
  }

  override async flushed (): Promise<void> {
    this.#counters.flushes++
    if (this.#plan.mode === 'stall-flush' && this.#appliesToThisShard()) await sleep(this.#plan.stallMs ?? 1000)
    await this.inner.flushed()
  }

  override async close (): Promise<void> {
    this.#channel.close()
    await this.inner.close()
  }

  /** Decides once per event-loop turn, so that all puts of one transaction share the outcome. */
  #faultsThisTurn (): boolean {
    if (this.#turnFaults === undefined) {
      this.#turnFaults = this.#shouldFault()
      if (this.#turnFaults) this.#counters.faults++
      setImmediate(() => { this.#turnFaults = undefined })
    }
    return this.#turnFaults
  }

  #shouldFault (): boolean {
    const plan = this.#plan
    if (plan.mode === 'none' || !this.#appliesToThisShard()) return false
    if (plan.maxFaults !== undefined && this.#planFaults >= plan.maxFaults) return false
    if (this.#random() >= (plan.rate ?? 1)) return false
    this.#planFaults++
    return true
  }

  #appliesToThisShard (): boolean {
    return this.#plan.shards === undefined || this.#plan.shards.includes(this.#shard)
  }

  #onControl (message: ControlMessage | AckMessage): void {
    // The channel also carries the other shards' acks. A reply to those would
    // start an endless exchange of acks between the workers, and the test
    // side could then count one shard twice.
    if (message.type === 'ack') return
    if (message.type === 'plan') {
      this.#plan = message.plan
      this.#planFaults = 0
      this.#random = seededRandom((message.plan.seed ?? 1) + this.#shard)
    }
    const ack: AckMessage = { type: 'ack', id: message.id, counters: { ...this.#counters } }
    this.#channel.postMessage(ack)
  }
}

export default function wrapStore (store: LinkStore, context: { shard: number }): LinkStore {
  return new FaultyStore(store, context.shard)
}

/**
 * The test's side of the channel: sets the fault plan of every shard and
 * reads their counters, waiting for a reply from each of `shards` workers.
 */
export class StoreFaults {
  #channel = new BroadcastChannel(CHANNEL_NAME)
  #shards: number
  #nextId = 1
  #waiting = new Map<number, { acks: StoreCounters[], resolve: (acks: StoreCounters[]) => void }>()

  constructor (shards: number) {
    this.#shards = shards
    this.#channel.unref()
    this.#channel.onmessage = (event) => { this.#onAck((event as { data: AckMessage }).data) }
  }

  /** Applies `plan` in every shard; resolves with the counters each shard had before. */
  async set (plan: FaultPlan): Promise<StoreCounters[]> {
    return await this.#request((id) => ({ type: 'plan', id, plan }))
  }

  /** Counters of every shard, ordered by shard. */
  async counters (): Promise<StoreCounters[]> {
    return await this.#request((id) => ({ type: 'counters', id }))
  }

  close (): void {
    this.#channel.close()
  }

  async #request (build: (id: number) => ControlMessage): Promise<StoreCounters[]> {
    const id = this.#nextId++
    const answered = new Promise<StoreCounters[]>((resolve) => { this.#waiting.set(id, { acks: [], resolve }) })
    this.#channel.postMessage(build(id))
    const timeout = sleep(5000, 'timeout', { ref: false })
    const result = await Promise.race([answered, timeout])
    this.#waiting.delete(id)
    if (typeof result === 'string') throw new Error(`only some of ${this.#shards} shard stores replied on the fault channel within 5 s`)
    return result.sort((a, b) => a.shard - b.shard)
  }

  #onAck (message: AckMessage): void {
    const waiting = this.#waiting.get(message.id)
    if (waiting === undefined) return
    waiting.acks.push(message.counters)
    if (waiting.acks.length === this.#shards) waiting.resolve(waiting.acks)
  }
}
