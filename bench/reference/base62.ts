const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Encodes a non-negative safe integer in base62, most significant digit first. */
export function encodeBase62 (value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`value must be a non-negative safe integer, received ${value}`)
  }
  let text = ''
  let rest = value
  do {
    text = ALPHABET[rest % 62] + text
    rest = Math.floor(rest / 62)
  } while (rest > 0)
  return text
}
