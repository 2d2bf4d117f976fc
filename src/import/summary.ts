/**
 * Counters of one import run and their printed form. The counters are
 * updated as batches finish, so a failed run can still print how far it got.
 */

export class ImportCounts {
  linesRead = 0
  emptyLines = 0
  created = 0
  existing = 0
  /** Rejected lines per error code, in order of first appearance. */
  readonly rejectedByCode = new Map<string, number>()
  readonly startedAt = performance.now()
  /** Wall time of the import, set when it ends; until then the time so far. */
  finishedAt: number | undefined

  get rejected (): number {
    let total = 0
    for (const count of this.rejectedByCode.values()) total += count
    return total
  }

  /** Lines that resulted in a link, new or existing. */
  get links (): number {
    return this.created + this.existing
  }

  get wallMs (): number {
    return (this.finishedAt ?? performance.now()) - this.startedAt
  }

  /** Links per second of wall time. */
  get linksPerSecond (): number {
    const seconds = this.wallMs / 1000
    return seconds > 0 ? this.links / seconds : 0
  }

  addRejected (code: string): void {
    this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1)
  }
}

export interface VerifyCounts {
  matched: number
  mismatched: number
  wallMs: number
}

const LABEL_WIDTH = 28

export function formatSummary (counts: ImportCounts, verify?: VerifyCounts): string {
  const rows: Array<[string, string]> = [
    ['lines read', String(counts.linesRead)],
    ['empty lines skipped', String(counts.emptyLines)],
    ['created', String(counts.created)],
    ['already existing', String(counts.existing)],
    ['rejected', String(counts.rejected)]
  ]
  const codes = [...counts.rejectedByCode.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  for (const [code, count] of codes) rows.push([`  ${code}`, String(count)])
  rows.push(['wall time', `${(counts.wallMs / 1000).toFixed(2)} s`])
  rows.push(['rate', `${Math.round(counts.linksPerSecond)} links/s`])
  if (verify !== undefined) {
    rows.push(['verify matched', String(verify.matched)])
    rows.push(['verify mismatched', String(verify.mismatched)])
    rows.push(['verify wall time', `${(verify.wallMs / 1000).toFixed(2)} s`])
  }
  return rows.map(([label, value]) => `${label.padEnd(LABEL_WIDTH)}${value}\n`).join('')
}

/** Formats one status line for the terminal progress display. */
export function formatProgress (counts: ImportCounts): string {
  return `${counts.linesRead} lines, ${counts.links} links (${counts.created} new), ` +
    `${counts.rejected} rejected, ${Math.round(counts.linksPerSecond)} links/s`
}
