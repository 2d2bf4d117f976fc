/**
 * Base62 text for non-negative integers, digits first, then upper case, then
 * lower case, so that codes stay case-sensitive and URL-safe without escaping.
 *
 * `decodeBase62` runs for every redirect request, so it reads characters with
 * `charCodeAt` through a lookup table and allocates nothing. Invalid text
 * yields -1 instead of an exception so that the caller can fall back to
 * routing the text as an alias without a try/catch on the hot path.
 */

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

const BASE = 62

/** Digit value of each ASCII character code, or -1 for characters outside the alphabet. */
const DIGIT_OF_CHAR_CODE = new Int8Array(128).fill(-1)
for (let digit = 0; digit < BASE; digit++) {
  DIGIT_OF_CHAR_CODE[BASE62_ALPHABET.charCodeAt(digit)] = digit
}

/** Largest value that can take one more digit without passing Number.MAX_SAFE_INTEGER. */
const MAX_VALUE_BEFORE_SHIFT = Math.floor(Number.MAX_SAFE_INTEGER / BASE)

/**
 * Encodes `n` as exactly `length` base62 characters, left-padded with '0'.
 *
 * @throws {RangeError} when `n` is not a safe non-negative integer, when
 *   `length` is not a positive integer, or when `n` needs more than `length`
 *   characters.
 */
export function encodeBase62 (n: number, length: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`n must be a safe non-negative integer, received ${n}`)
  }
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new RangeError(`length must be a positive integer, received ${length}`)
  }

  let text = ''
  let rest = n
  for (let position = 0; position < length; position++) {
    const digit = rest % BASE
    text = BASE62_ALPHABET.charAt(digit) + text
    rest = (rest - digit) / BASE
  }

  if (rest !== 0) {
    throw new RangeError(
      `n must be below 62^${length} = ${BASE ** length} to fit in ${length} base62 characters, received ${n}`)
  }
  return text
}

/**
 * Decodes base62 text into its value.
 *
 * Returns -1 when the text is empty, contains a character outside
 * BASE62_ALPHABET, or encodes a value above Number.MAX_SAFE_INTEGER.
 * Leading '0' characters are accepted, so '0000001' decodes to 1.
 */
export function decodeBase62 (text: string): number {
  const length = text.length
  if (length === 0) return -1

  let value = 0
  for (let index = 0; index < length; index++) {
    const charCode = text.charCodeAt(index)
    const digit = charCode < 128 ? DIGIT_OF_CHAR_CODE[charCode]! : -1
    if (digit < 0) return -1
    if (value > MAX_VALUE_BEFORE_SHIFT) return -1

    // value * BASE is at most MAX_SAFE_INTEGER and exact. Adding the digit may
    // round, but a true sum above MAX_SAFE_INTEGER never rounds back below it.
    value = value * BASE + digit
    if (value > Number.MAX_SAFE_INTEGER) return -1
  }
  return value
}
