/**
 * Generated codes. A shard mints `n = seq * slots + slot`, where `seq` comes
 * from its leased ID range and `slot` is the slot of the target URL, and the
 * code is `encodeBase62(P(n), L)` with the keyed permutation P of
 * [0, 62^L). Because the slot sits in `n mod slots`, the front recovers the
 * slot of any generated code with `numberOfCode(code) % slots` and sends the
 * lookup to the shard that minted it, with no table lookup.
 *
 * Capacity. Each `seq` is used with exactly one slot, so the number of
 * generated codes equals the number of `seq` values below the limit. With
 * slots = 4096:
 * - L = 7 while n < 62^7 = 3,521,614,606,208, so 62^7 / 4096 ≈ 859.8 million
 *   codes are 7 characters long.
 * - L = 8 while n < 62^8 = 218,340,105,584,896, so 62^8 / 4096 ≈ 53.3 billion
 *   codes fit in total, 52.4 billion of them 8 characters long.
 * - 62^8 is about 2^47.6, below 2^53, so `n` and every permutation step stay
 *   exact in plain JavaScript numbers. Past 62^8 minting throws
 *   CodeSpaceExhaustedError; a 9-character length would need 54 bits and
 *   BigInt or split arithmetic.
 *
 * The two lengths never collide: every 7-character code has a different
 * length from every 8-character one, and within one length P is a bijection.
 */

import { CodeSpaceExhaustedError } from '../errors.ts'
import { decodeBase62, encodeBase62 } from './base62.ts'
import { CodePermutation } from './permutation.ts'

export const MIN_CODE_LENGTH = 7
export const MAX_CODE_LENGTH = 8

/** Largest slot count. It keeps the modulo bias of a 32-bit hash over slots below 2^-16. */
export const MAX_SLOTS = 65_536

const SEVEN_CHARACTER_LIMIT = 62 ** MIN_CODE_LENGTH
const EIGHT_CHARACTER_LIMIT = 62 ** MAX_CODE_LENGTH

export interface CodeCodecOptions {
  /** Permutation key of 32 bytes. It is a deployment constant. */
  key: Uint8Array
  /** Number of routing slots, an integer from 1 to MAX_SLOTS. It is a deployment constant. */
  slots: number
}

export class CodeCodec {
  readonly slots: number
  readonly #permutation: CodePermutation

  /** @throws {RangeError} when the key is not 32 bytes or `slots` is out of range. */
  constructor (options: CodeCodecOptions) {
    const { key, slots } = options
    checkSlotCount(slots)
    this.slots = slots
    this.#permutation = new CodePermutation(key)
  }

  /**
   * Mints the code for ID `seq` in `slot`.
   *
   * @throws {RangeError} when `seq` is not a safe non-negative integer or
   *   `slot` is not an integer in [0, slots).
   * @throws {CodeSpaceExhaustedError} when `seq * slots + slot` reaches 62^8.
   */
  mint (seq: number, slot: number): string {
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new RangeError(`seq must be a safe non-negative integer, received ${seq}`)
    }
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) {
      throw new RangeError(`slot must be an integer from 0 to ${this.slots - 1}, received ${slot}`)
    }

    // For a huge seq the product rounds, but it still compares above the limit.
    return this.codeOfNumber(seq * this.slots + slot)
  }

  /**
   * Returns the code of number `n`: 7 characters below 62^7, else 8.
   *
   * @throws {CodeSpaceExhaustedError} when `n` reaches 62^8.
   */
  codeOfNumber (n: number): string {
    if (n >= EIGHT_CHARACTER_LIMIT) throw new CodeSpaceExhaustedError()
    const length = n < SEVEN_CHARACTER_LIMIT ? 7 : 8
    return encodeBase62(this.#permutation.permute(n, length), length)
  }

  /**
   * Returns the number of a code as minted, or -1 when no number mints this
   * code: other text, or an 8-character code whose number is below 62^7
   * (that number mints a 7-character code).
   */
  numberOfGeneratedCode (code: string): number {
    const n = this.numberOfCode(code)
    if (n < 0 || (code.length === 8 && n < SEVEN_CHARACTER_LIMIT)) return -1
    return n
  }

  /**
   * Returns the number `n` that a code of 7 or 8 base62 characters encodes,
   * or -1 for any other text. It allocates nothing, for the redirect path.
   *
   * Every 8-character base62 text has a number, even when that `n` is below
   * 62^7 and so was never minted at 8 characters. Routing still needs the
   * number, and the lookup in the shard then finds no link.
   */
  numberOfCode (code: string): number {
    const length = code.length
    if (length !== 7 && length !== 8) return -1

    const value = decodeBase62(code)
    if (value < 0) return -1
    return this.#permutation.invert(value, length)
  }
}

function checkSlotCount (slots: number): void {
  if (Number.isInteger(slots) && slots >= 1 && slots <= MAX_SLOTS) return
  throw new RangeError(`slots must be an integer from 1 to ${MAX_SLOTS}, received ${slots}`)
}
