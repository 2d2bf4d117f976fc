/**
 * Routes codes, aliases and target URLs to slots, and slots to shards.
 *
 * Keys route to slots, not directly to shard numbers. The slot count is a
 * deployment constant stored in the meta store and never changes, so the slot
 * of a code or URL never changes either. The shard count may change: then
 * only the slot map changes, and whole slots move from one store to another.
 * Routing straight by `hash % shards` would instead send almost every key to
 * a different shard whenever the shard count changed.
 *
 * Every operation on one code or one URL goes to the single shard that owns
 * its slot, which keeps dedup and alias uniqueness inside one writer:
 * - a target URL routes by its URL key (a SHA-256 prefix), modulo slots;
 * - a generated code routes by the number it encodes, modulo slots, which is
 *   the slot the minting shard put into it;
 * - an alias of 7 or 8 base62 characters routes the same way as a generated
 *   code, so it meets any generated code it could collide with in one shard;
 * - any other alias routes by a SHA-256 prefix of its text, modulo slots.
 */

import { hash } from 'node:crypto'

import { CodeCodec, MAX_SLOTS } from '../codec/code.ts'

/** Largest shard count: shard numbers are stored in a Uint16Array. */
export const MAX_SHARDS = 65_536

export const URL_KEY_BYTES = 16

/**
 * Returns the first 16 bytes of the SHA-256 digest of the URL's UTF-8 bytes.
 * It is the LMDB key for dedup and the input of URL routing. Stores confirm a
 * match by comparing the stored URL, so a digest collision cannot merge links.
 */
export function urlKey (normalizedUrl: string): Buffer {
  return hash('sha256', normalizedUrl, 'buffer').subarray(0, URL_KEY_BYTES)
}

/** Returns the map that assigns slot `s` to shard `s % shards`. */
export function defaultSlotMap (slots: number, shards: number): Uint16Array {
  checkCounts(slots, shards)

  const slotMap = new Uint16Array(slots)
  for (let slot = 0; slot < slots; slot++) slotMap[slot] = slot % shards
  return slotMap
}

export interface RouterOptions {
  /** Codec of this deployment; its slot count must equal `slots`. */
  codec: CodeCodec
  /** Number of slots, a deployment constant from 1 to MAX_SLOTS. */
  slots: number
  /** Number of shards, from 1 to `slots`. */
  shards: number
  /** Shard of each slot, as stored in the meta store. Defaults to `defaultSlotMap(slots, shards)`. */
  slotMap?: Uint16Array
}

export class Router {
  readonly slots: number
  readonly shards: number
  readonly #codec: CodeCodec
  readonly #slotMap: Uint16Array

  /** @throws {RangeError} naming the count or slot map entry that is invalid. */
  constructor (options: RouterOptions) {
    const { codec, slots, shards, slotMap } = options
    checkCounts(slots, shards)
    if (codec.slots !== slots) {
      throw new RangeError(`slots is ${slots} but the codec was built for ${codec.slots} slots. Build both from the deployment's slot count`)
    }

    this.slots = slots
    this.shards = shards
    this.#codec = codec
    this.#slotMap = slotMap === undefined ? defaultSlotMap(slots, shards) : copyCheckedSlotMap(slotMap, slots, shards)
  }

  /** A copy of the slot map, for storing or for planning a reshard. */
  get slotMap (): Uint16Array {
    return this.#slotMap.slice()
  }

  /** Returns the slot of a URL key made by `urlKey`. */
  slotOfUrlKey (key: Buffer): number {
    return key.readUInt32BE(0) % this.slots
  }

  slotOfUrl (normalizedUrl: string): number {
    return this.slotOfUrlKey(urlKey(normalizedUrl))
  }

  /**
   * Returns the slot of a generated code or an alias. A code of 7 or 8 base62
   * characters takes no allocation on this path, because it runs for every
   * redirect.
   */
  slotOfCode (code: string): number {
    const n = this.#codec.numberOfCode(code)
    if (n >= 0) return n % this.slots
    return this.#slotOfAlias(code)
  }

  /** @throws {RangeError} when `slot` is not an integer in [0, slots). */
  shardOfSlot (slot: number): number {
    const shard = this.#slotMap[slot]
    if (shard === undefined) {
      throw new RangeError(`slot must be an integer from 0 to ${this.slots - 1}, received ${slot}`)
    }
    return shard
  }

  shardOfCode (code: string): number {
    return this.shardOfSlot(this.slotOfCode(code))
  }

  shardOfUrl (normalizedUrl: string): number {
    return this.shardOfSlot(this.slotOfUrl(normalizedUrl))
  }

  #slotOfAlias (alias: string): number {
    return hash('sha256', alias, 'buffer').readUInt32BE(0) % this.slots
  }
}

function checkCounts (slots: number, shards: number): void {
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) {
    throw new RangeError(`slots must be an integer from 1 to ${MAX_SLOTS}, received ${slots}`)
  }
  if (!Number.isInteger(shards) || shards < 1 || shards > Math.min(slots, MAX_SHARDS)) {
    throw new RangeError(`shards must be an integer from 1 to ${Math.min(slots, MAX_SHARDS)} (at most one shard per slot), received ${shards}`)
  }
}

function copyCheckedSlotMap (slotMap: Uint16Array, slots: number, shards: number): Uint16Array {
  if (!(slotMap instanceof Uint16Array)) {
    throw new TypeError(`slotMap must be a Uint16Array, received ${typeof slotMap}`)
  }
  if (slotMap.length !== slots) {
    throw new RangeError(`slotMap must have one entry per slot (${slots}), received ${slotMap.length} entries`)
  }

  for (let slot = 0; slot < slots; slot++) {
    const shard = slotMap[slot]!
    if (shard >= shards) {
      throw new RangeError(`slotMap assigns slot ${slot} to shard ${shard}, but shard numbers must be below ${shards}`)
    }
  }
  return slotMap.slice()
}
