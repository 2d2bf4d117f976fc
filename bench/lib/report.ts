/** Renders the results as the markdown printed at the end of a run and written to bench/results/latest.md. */
import type { Measurement, Scenario, Target } from './results.ts'

export interface MachineInfo {
  cpus: number
  cpuModel: string
  memoryBytes: number
  kernel: string
  node: string
  /** 1, 5 and 15 minute load averages when the run started; above the CPU count, other work shared the machine. */
  loadAverage: number[]
  tools: Record<string, string>
}

export interface BenchReport {
  machine: MachineInfo
  startedAt: string
  finishedAt?: string
  quick: boolean
  tool: Record<string, string>
  settings: Record<string, unknown>
  scenarios: Record<string, Scenario>
  startup?: Record<string, unknown>
  targets: Target[]
  micro?: unknown
  incomplete?: string
  /** The ceiling's redirect-hot rps at the start and at the end of the run. */
  ceilingDrift?: { firstRps: number, lastRps: number, driftPercent: number }
  notes: string[]
}

export function formatNumber (value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function megabytes (bytes: number | undefined): string {
  return bytes === undefined ? '–' : formatNumber(bytes / 1024 / 1024, 0)
}

function ratioText (value: number | undefined): string {
  return value === undefined ? '–' : `${formatNumber(value, 2)}×`
}

function rpsOf (run: Measurement | undefined): string {
  if (run === undefined) return '–'
  if (run.error !== undefined) return 'failed'
  return formatNumber(run.rps)
}

export function scenarioTable (scenarios: Record<string, Scenario>): string {
  const lines = [
    '| scenario | tool | product rps | errors | p50 ms | p99 ms | p99 at ½ max ms | CPU s /100k req | peak RSS MB | bytes/link | ceiling rps | reference rps | vs ceiling | vs reference | limit |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const [name, s] of Object.entries(scenarios)) {
    const tool = s.product?.tool ?? s.reference?.tool ?? s.ceiling?.tool ?? '–'
    lines.push(`| ${name} | ${tool} | ${rpsOf(s.product)} | ${formatNumber(s.errors)} | ${formatNumber(s.p50Ms, 2)} | ${formatNumber(s.p99Ms, 2)} | ` +
      `${formatNumber(s.p99AtHalfRateMs, 2)} | ${formatNumber(s.cpuSecondsPer100k, 2)} | ${megabytes(s.peakRssBytes)} | ` +
      `${formatNumber(s.bytesPerLink)} | ${rpsOf(s.ceiling)} | ${rpsOf(s.reference)} | ${ratioText(s.vsCeiling)} | ` +
      `${ratioText(s.vsReference)} | ${s.saturation ?? s.reference?.saturation ?? s.ceiling?.saturation ?? '–'} |`)
  }
  return lines.join('\n')
}

export function referenceTable (scenarios: Record<string, Scenario>): string {
  const lines = [
    '| scenario | server | rps | errors | p50 ms | p99 ms | p99 at ½ max ms | CPU s /100k req | peak RSS MB | bytes/link | limit |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  ]
  for (const [name, s] of Object.entries(scenarios)) {
    // The shard-count scenarios borrow the hot-redirect ceiling run; it is listed once, under redirect-hot.
    const ceiling = name.startsWith('shards-') ? undefined : s.ceiling
    for (const run of [ceiling, s.reference]) {
      if (run === undefined) continue
      lines.push(`| ${name} | ${run.server} | ${rpsOf(run)} | ${formatNumber(run.errors)} | ${formatNumber(run.p50Ms, 2)} | ${formatNumber(run.p99Ms, 2)} | ` +
        `${formatNumber(run.p99AtHalfRateMs, 2)} | ${formatNumber(run.cpuSecondsPer100k, 2)} | ${megabytes(run.peakRssBytes)} | ` +
        `${formatNumber(run.bytesPerLink)} | ${run.saturation ?? '–'} |`)
    }
  }
  return lines.join('\n')
}

function measuredText (t: Target): string {
  if (t.measured === undefined) return '–'
  if (t.unit === '×') return `${formatNumber(t.measured, 2)}×`
  if (t.unit === '') return `${formatNumber(t.measured * 100, 1)} %`
  return `${formatNumber(t.measured, t.unit === 'ms' ? 2 : 0)} ${t.unit}`
}

function thresholdText (t: Target): string {
  const symbol = t.comparison === '>=' ? '≥' : '≤'
  if (t.unit === '×') return `${symbol} ${t.threshold}×`
  if (t.unit === '') return `${symbol} ${t.threshold * 100} %`
  return `${symbol} ${formatNumber(t.threshold)} ${t.unit}`
}

export function targetTable (targets: readonly Target[]): string {
  const lines = ['| target | threshold | measured | status |', '| --- | --- | ---: | --- |']
  for (const t of targets) {
    const note = t.note === undefined ? '' : ` (${t.note})`
    lines.push(`| ${t.name} | ${thresholdText(t)} | ${measuredText(t)} | ${t.status}${note} |`)
  }
  return lines.join('\n')
}

export function renderMarkdown (report: BenchReport): string {
  const m = report.machine
  const parts = [
    `# Bench results (${report.quick ? 'quick' : 'full'} run, ${report.startedAt})`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${formatNumber(m.memoryBytes / 1024 ** 3, 0)} GiB, Linux ${m.kernel}, Node ${m.node}; load average at start ${m.loadAverage.join(', ')}.`,
    `Tools: ${Object.entries(report.tool).map(([k, v]) => `${k}: ${v}`).join('; ')}.`,
    '',
    '## Product against ceiling and reference',
    '',
    scenarioTable(report.scenarios),
    '',
    '## Ceiling and reference runs',
    '',
    referenceTable(report.scenarios),
    '',
    '## Targets',
    '',
    targetTable(report.targets)
  ]
  const notes = [
    ...Object.entries(report.scenarios).filter(([, s]) => s.note !== undefined).map(([name, s]) => `${name}: ${s.note as string}`),
    ...report.notes
  ]
  if (notes.length > 0) parts.push('', '## Notes', '', ...notes.map((n) => `- ${n}`))
  if (report.incomplete !== undefined) parts.push('', `**Incomplete run:** ${report.incomplete}`)
  return parts.join('\n') + '\n'
}
