/**
 * The shape of bench/results/latest.json and the arithmetic on it: ratios
 * between servers and the targets table. Kept free of I/O so it can be tested
 * on hand-made results.
 */

/** One load run against one server. */
export interface Measurement {
  server: string
  tool: string
  /** Requests per second; for create-batch, links per second. */
  rps?: number
  /** Operations that `rps` counts: requests, or links for create-batch. */
  requests?: number
  /** Batch requests sent, for create-batch. */
  batchRequests?: number
  /** Responses outside 2xx/3xx plus socket errors and failed links. */
  errors?: number
  p50Ms?: number
  p99Ms?: number
  /** Source of the percentiles, for example `h2load --log-file, uncorrected`. */
  latencyMethod?: string
  serverCpuSeconds?: number
  serverCores?: number
  serverBusiestThreadCores?: number
  cpuSecondsPer100k?: number
  clientCores?: number
  clientBusiestThreadCores?: number
  /** Mean cores that processes other than the server and the client used during the run (a shared machine). */
  otherCores?: number
  /** Description of the side that used up a core or the machine. */
  saturation?: string
  peakRssBytes?: number
  bytesOnDisk?: number
  bytesPerLink?: number
  linksStored?: number
  p99AtHalfRateMs?: number
  halfRateOfferedRps?: number
  halfRateMeasuredRps?: number
  error?: string
}

export interface Scenario extends Measurement {
  vsCeiling?: number
  vsReference?: number
  product?: Measurement
  ceiling?: Measurement
  reference?: Measurement
  note?: string
}

export type TargetStatus = 'met' | 'missed' | 'missing'

export interface Target {
  name: string
  comparison: '>=' | '<='
  threshold: number
  unit: string
  measured?: number
  status: TargetStatus
  note?: string
}

export const SCENARIO_NAMES = [
  'redirect-hot',
  'redirect-uniform',
  'create-single',
  'create-single-commit',
  'create-batch',
  'create-batch-commit',
  'mixed',
  'shards-1',
  'shards-2',
  'shards-4',
  'shards-8'
] as const

export type ScenarioName = typeof SCENARIO_NAMES[number]

/** Share of failed operations above which a run's throughput is not compared: failing fast is not serving. */
export const MAX_ERROR_SHARE = 0.01

/** Returns the run's rps, or undefined when it failed or more than MAX_ERROR_SHARE of its operations failed. */
export function usableRps (run: Measurement | undefined): number | undefined {
  if (run === undefined || run.error !== undefined || run.rps === undefined) return undefined
  const errors = run.errors ?? 0
  if (errors > 0 && errors > MAX_ERROR_SHARE * (run.requests ?? 0)) return undefined
  return run.rps
}

/** Returns a / b, or undefined when either is missing or b is not positive. */
export function ratio (a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return undefined
  return a / b
}

type ServerRuns = Partial<Record<'product' | 'ceiling' | 'reference', Measurement>>

/**
 * Gives a scenario that has no ceiling run of its own the one it is
 * compared with: the ceiling's hot redirects for the shard counts, and its
 * single creates for the creates at `commit` durability. The ceiling serves
 * both durabilities alike, so one run of each kind of request is enough.
 */
export function withSharedCeiling (name: ScenarioName, entry: ServerRuns, all: Partial<Record<ScenarioName, ServerRuns>>): ServerRuns {
  if (entry.ceiling !== undefined) return entry
  let ceiling: Measurement | undefined
  if (name.startsWith('shards-')) ceiling = all['redirect-hot']?.ceiling
  if (name === 'create-single-commit') ceiling = all['create-single']?.ceiling
  return ceiling === undefined ? entry : { ...entry, ceiling }
}

/** Builds a scenario entry: the product's figures at the top, each server's run below, and the ratios. */
export function buildScenario (runs: ServerRuns, note?: string): Scenario {
  const scenario: Scenario = { ...(runs.product ?? {}) } as Scenario
  scenario.vsCeiling = ratio(usableRps(runs.product), usableRps(runs.ceiling))
  scenario.vsReference = ratio(usableRps(runs.product), usableRps(runs.reference))
  if (runs.product !== undefined) scenario.product = runs.product
  if (runs.ceiling !== undefined) scenario.ceiling = runs.ceiling
  if (runs.reference !== undefined) scenario.reference = runs.reference
  const failing = (['product', 'ceiling', 'reference'] as const)
    .filter((side) => runs[side] !== undefined && runs[side]?.error === undefined && usableRps(runs[side]) === undefined)
  const notes = [note, ...failing.map((side) => `${side}: more than ${MAX_ERROR_SHARE * 100} % of operations failed, so its rps is not compared`)]
    .filter((text): text is string => text !== undefined)
  if (notes.length > 0) scenario.note = notes.join('; ')
  return scenario
}

export function evaluate (measured: number | undefined, comparison: '>=' | '<=', threshold: number): TargetStatus {
  if (measured === undefined || !Number.isFinite(measured)) return 'missing'
  const met = comparison === '>=' ? measured >= threshold : measured <= threshold
  return met ? 'met' : 'missed'
}

function target (name: string, comparison: '>=' | '<=', threshold: number, unit: string, measured: number | undefined, note?: string): Target {
  const row: Target = { name, comparison, threshold, unit, status: evaluate(measured, comparison, threshold) }
  if (measured !== undefined) row.measured = measured
  if (note !== undefined) row.note = note
  return row
}

/** Returns (best - worst) / best over the given throughputs, or undefined if any is missing. */
export function spread (values: ReadonlyArray<number | undefined>): number | undefined {
  if (values.length === 0 || values.some((v) => v === undefined || !(v > 0))) return undefined
  const numbers = values as number[]
  const best = Math.max(...numbers)
  return (best - Math.min(...numbers)) / best
}

export interface StartupFigure {
  ms?: number
  links: number
}

export const REQUIRED_STARTUP_LINKS = 1_000_000

/** Builds the targets table. Thresholds are fixed here and only ever raised. */
export function computeTargets (scenarios: Partial<Record<ScenarioName, Scenario>>, startup: StartupFigure | undefined): Target[] {
  const startupNote = startup !== undefined && startup.links < REQUIRED_STARTUP_LINKS
    ? `measured with ${startup.links} links, not ${REQUIRED_STARTUP_LINKS}`
    : undefined
  const shardRps = (['shards-1', 'shards-2', 'shards-4', 'shards-8'] as const).map((name) => usableRps(scenarios[name]))

  return [
    target('hot redirects vs ceiling', '>=', 0.90, '×', scenarios['redirect-hot']?.vsCeiling),
    target('uniform redirects vs ceiling', '>=', 0.75, '×', scenarios['redirect-uniform']?.vsCeiling),
    target('hot redirects vs reference', '>=', 3, '×', scenarios['redirect-hot']?.vsReference),
    target('uniform redirects vs reference', '>=', 3, '×', scenarios['redirect-uniform']?.vsReference),
    target('single creates vs reference (flush vs FULL)', '>=', 5, '×', scenarios['create-single']?.vsReference),
    target('single creates vs reference (commit vs NORMAL)', '>=', 5, '×', scenarios['create-single-commit']?.vsReference),
    target('batch import', '>=', 100_000, 'links/s', usableRps(scenarios['create-batch'])),
    target('p99 at half max rps (hot redirects)', '<=', 2, 'ms', scenarios['redirect-hot']?.p99AtHalfRateMs),
    target('start to ready with 1M links', '<=', 1000, 'ms', startup?.ms, startupNote),
    target('shards 1→8 rps spread (best−worst)/best', '<=', 0.15, '', spread(shardRps))
  ]
}
