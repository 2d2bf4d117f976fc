/** Returns the p-th percentile (0..100) of ascending `sorted` by the nearest-rank method, or undefined if empty. */
export function percentile (sorted: ArrayLike<number>, p: number): number | undefined {
  if (sorted.length === 0) return undefined
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]
}

/** Parses a duration with a unit as printed by wrk and h2load (`355.00us`, `1.07ms`, `2.5s`, `1.2m`) into milliseconds. */
export function parseDurationMs (text: string): number | undefined {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim())
  if (match === null) return undefined
  const value = Number(match[1])
  const factor: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  return value * (factor[match[2] as string] as number)
}

/**
 * Returns the item whose `value` is the median, or undefined if there is
 * none. Of an even count it returns the lower middle item. It returns a whole
 * item, so the figures that come with the median run stay together.
 */
export function medianItem<T> (items: readonly T[], value: (item: T) => number): T | undefined {
  if (items.length === 0) return undefined
  const sorted = [...items].sort((a, b) => value(a) - value(b))
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

export function round (value: number | undefined, digits: number): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined
  const scale = 10 ** digits
  return Math.round(value * scale) / scale
}
