/**
 * Request lists for the load tools. h2load `-i` reads one URI a line and every
 * client replays the list from the top, so the list itself must carry the key
 * distribution. The wrk scripts read bare codes, one a line, and pick among
 * them at random per request.
 */
import { writeFileSync } from 'node:fs'
import { mulberry32, shuffle, ZipfSampler } from './random.ts'

export interface SampleOptions {
  /** Number of requests in the list. */
  count: number
  /** Zipf exponent; 1 is the classic web-traffic shape. */
  exponent: number
  seed: number
}

/**
 * Samples `count` codes from a Zipf distribution. Ranks are assigned to codes
 * through a seeded shuffle, so the hot links are spread over the whole set
 * instead of being the first ones created (which would favor a store that
 * keeps insertion order, like the reference's sequential ids).
 */
export function sampleZipfCodes (codes: readonly string[], options: SampleOptions): string[] {
  const random = mulberry32(options.seed)
  const byRank = shuffle([...codes], random)
  const sampler = new ZipfSampler(byRank.length, options.exponent, random)
  const sample: string[] = new Array(options.count)
  for (let i = 0; i < options.count; i++) sample[i] = byRank[sampler.next()] as string
  return sample
}

/** Returns `count` codes drawn uniformly with replacement. */
export function sampleUniformCodes (codes: readonly string[], count: number, seed: number): string[] {
  const random = mulberry32(seed)
  const sample: string[] = new Array(count)
  for (let i = 0; i < count; i++) sample[i] = codes[Math.floor(random() * codes.length)] as string
  return sample
}

/** Formats h2load input: one absolute URI a line (h2load takes scheme, host and port from the first). */
export function formatUriLines (origin: string, codes: readonly string[]): string {
  const base = origin.endsWith('/') ? origin.slice(0, -1) : origin
  let text = ''
  for (const code of codes) text += `${base}/${code}\n`
  return text
}

export function writeUriFile (path: string, origin: string, codes: readonly string[]): void {
  writeFileSync(path, formatUriLines(origin, codes))
}

export function writeCodeFile (path: string, codes: readonly string[]): void {
  writeFileSync(path, codes.join('\n') + '\n')
}

/** Makes `count` distinct base62 codes of `length` characters, standing in for real codes on the ceiling. */
export function syntheticCodes (count: number, length: number, seed: number): string[] {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
  const random = mulberry32(seed)
  const seen = new Set<string>()
  while (seen.size < count) {
    let code = ''
    for (let i = 0; i < length; i++) code += alphabet[Math.floor(random() * 62)]
    seen.add(code)
  }
  return [...seen]
}
