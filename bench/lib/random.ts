/**
 * Seeded randomness for the bench, so a run's request mix can be rebuilt:
 * mulberry32 (a 32-bit generator, plenty for choosing keys), a Fisher–Yates
 * shuffle, and a Zipf sampler over ranks.
 */

/** Returns a generator of floats in [0, 1) from a 32-bit seed. */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Shuffles `items` in place and returns it. */
export function shuffle<T> (items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const held = items[i] as T
    items[i] = items[j] as T
    items[j] = held
  }
  return items
}

/**
 * Draws ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^exponent, by
 * binary search in the cumulative distribution (8 bytes a rank, so 8 MB for
 * a million links). Rank 0 is the most frequent.
 */
export class ZipfSampler {
  readonly #cumulative: Float64Array
  readonly #random: () => number

  constructor (n: number, exponent: number, random: () => number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, received ${n}`)
    if (!(exponent > 0)) throw new RangeError(`exponent must be positive, received ${exponent}`)

    this.#cumulative = new Float64Array(n)
    let sum = 0
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, exponent)
      this.#cumulative[k] = sum
    }
    for (let k = 0; k < n; k++) this.#cumulative[k] = (this.#cumulative[k] as number) / sum
    this.#random = random
  }

  next (): number {
    const u = this.#random()
    let low = 0
    let high = this.#cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((this.#cumulative[middle] as number) > u) high = middle
      else low = middle + 1
    }
    return low
  }
}
