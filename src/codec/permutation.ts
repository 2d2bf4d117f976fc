/**
 * A keyed permutation of [0, 62^L) for code lengths L = 7 and L = 8, so that
 * consecutive ID numbers become codes that look unrelated and cannot be
 * enumerated by counting.
 *
 * Each length has its own balanced Feistel network over the smallest even bit
 * width whose power of two covers 62^L. For L = 7 that is 42 bits in two
 * 21-bit halves, and 2^42 is about 1.25 × 62^7. For L = 8 it is 48 bits in two
 * 24-bit halves, and 2^48 is about 1.29 × 62^8. A Feistel network is a
 * bijection on [0, 2^bits) for any round function. Cycle walking turns it
 * into a bijection on [0, 62^L): an output at or above 62^L is encrypted
 * again until it lands inside the domain, which takes 1.25 passes on average
 * for L = 7 and 1.29 for L = 8.
 *
 * The round function works on 32-bit integers (xor with the round key, then
 * the MurmurHash3 32-bit finalizer) and each half fits in 24 bits, so the
 * whole computation stays in plain JavaScript numbers below 2^53 and
 * allocates nothing. Round keys come from the 32-byte deployment key through
 * HKDF-SHA-256, with a separate derivation for each length.
 *
 * This hides the order of IDs from casual observers. It is not meant to stand
 * up to cryptanalysis: anyone who sees many codes together with their IDs
 * could learn the permutation. Links must not rely on their code staying
 * secret.
 */

import { hkdfSync } from 'node:crypto'

export const PERMUTATION_KEY_BYTES = 32

/**
 * Rounds per network: twice the four after which a Feistel network with
 * random round functions is a pseudorandom permutation (Luby and Rackoff).
 */
const ROUNDS = 8

const HKDF_SALT = 'shortener code permutation v1'

type CodeLength = 7 | 8

/** One Feistel network with cycle walking over [0, domainSize). */
class CycleWalkingFeistel {
  readonly domainSize: number
  readonly #halfSize: number
  readonly #halfMask: number
  readonly #roundKeys: Int32Array

  constructor (domainSize: number, halfBits: number, roundKeys: Int32Array) {
    this.domainSize = domainSize
    this.#halfSize = 2 ** halfBits
    this.#halfMask = this.#halfSize - 1
    this.#roundKeys = roundKeys
  }

  encrypt (n: number): number {
    let x = this.#encryptOnce(n)
    while (x >= this.domainSize) x = this.#encryptOnce(x)
    return x
  }

  decrypt (x: number): number {
    let n = this.#decryptOnce(x)
    while (n >= this.domainSize) n = this.#decryptOnce(n)
    return n
  }

  #encryptOnce (value: number): number {
    const halfSize = this.#halfSize
    let high = Math.floor(value / halfSize)
    let low = value - high * halfSize

    for (let round = 0; round < ROUNDS; round++) {
      const mixed = high ^ this.#roundFunction(low, round)
      high = low
      low = mixed
    }
    return high * halfSize + low
  }

  #decryptOnce (value: number): number {
    const halfSize = this.#halfSize
    let high = Math.floor(value / halfSize)
    let low = value - high * halfSize

    for (let round = ROUNDS - 1; round >= 0; round--) {
      const restored = low ^ this.#roundFunction(high, round)
      low = high
      high = restored
    }
    return high * halfSize + low
  }

  #roundFunction (half: number, round: number): number {
    let h = half ^ this.#roundKeys[round]!
    h ^= h >>> 16
    h = Math.imul(h, 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    return h & this.#halfMask
  }
}

function deriveRoundKeys (key: Uint8Array, length: CodeLength): Int32Array {
  const info = `round keys for ${length}-character codes`
  const bytes = new DataView(hkdfSync('sha256', key, HKDF_SALT, info, ROUNDS * Int32Array.BYTES_PER_ELEMENT))

  // Read big-endian explicitly so that every host derives the same keys.
  const roundKeys = new Int32Array(ROUNDS)
  for (let round = 0; round < ROUNDS; round++) {
    roundKeys[round] = bytes.getInt32(round * Int32Array.BYTES_PER_ELEMENT)
  }
  return roundKeys
}

export class CodePermutation {
  readonly #seven: CycleWalkingFeistel
  readonly #eight: CycleWalkingFeistel

  /**
   * @param key 32 secret bytes, a deployment constant: changing it changes
   *   the meaning of every code already issued.
   * @throws {RangeError} when the key is not 32 bytes long.
   */
  constructor (key: Uint8Array) {
    if (!(key instanceof Uint8Array)) {
      throw new TypeError(`key must be a Uint8Array of ${PERMUTATION_KEY_BYTES} bytes, received ${typeof key}`)
    }
    if (key.byteLength !== PERMUTATION_KEY_BYTES) {
      throw new RangeError(`key must be ${PERMUTATION_KEY_BYTES} bytes long, received ${key.byteLength} bytes`)
    }

    this.#seven = new CycleWalkingFeistel(62 ** 7, 21, deriveRoundKeys(key, 7))
    this.#eight = new CycleWalkingFeistel(62 ** 8, 24, deriveRoundKeys(key, 8))
  }

  /**
   * Maps `n` to its image in [0, 62^length).
   *
   * @throws {RangeError} when `length` is not 7 or 8, or `n` is not an integer in [0, 62^length).
   */
  permute (n: number, length: CodeLength): number {
    const network = this.#networkFor(length)
    checkInDomain('n', n, network, length)
    return network.encrypt(n)
  }

  /**
   * Maps an image `x` back to the `n` that `permute` maps to it.
   *
   * @throws {RangeError} when `length` is not 7 or 8, or `x` is not an integer in [0, 62^length).
   */
  invert (x: number, length: CodeLength): number {
    const network = this.#networkFor(length)
    checkInDomain('x', x, network, length)
    return network.decrypt(x)
  }

  #networkFor (length: CodeLength): CycleWalkingFeistel {
    if (length === 7) return this.#seven
    if (length === 8) return this.#eight
    throw new RangeError(`length must be 7 or 8, received ${String(length)}`)
  }
}

function checkInDomain (name: string, value: number, network: CycleWalkingFeistel, length: CodeLength): void {
  if (Number.isInteger(value) && value >= 0 && value < network.domainSize) return
  throw new RangeError(`${name} must be an integer from 0 to 62^${length} - 1 = ${network.domainSize - 1}, received ${value}`)
}
