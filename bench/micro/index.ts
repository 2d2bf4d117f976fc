/**
 * `npm run bench:micro`: tinybench micro benchmarks of the codec, routing,
 * target normalization, the LMDB store and the shard round trip. Prints a
 * table and stores the results under `micro` in bench/results/latest.json
 * (other keys of that file are kept).
 *
 * Usage: npm run bench:micro -- [--quick]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchCodec } from './codec.ts'
import { benchShardRoundTrip } from './shard.ts'
import { benchStore } from './store.ts'
import type { MicroResult } from './tasks.ts'

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const timeMs = values.quick ? 200 : 1000

function format (value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function table (results: readonly MicroResult[]): string {
  const lines = [
    '| group | benchmark | mean µs a call | p99 µs a call | µs an operation | operations/s |',
    '| --- | --- | ---: | ---: | ---: | ---: |'
  ]
  for (const r of results) {
    lines.push(`| ${r.group} | ${r.name} | ${format(r.meanUs, 3)} | ${format(r.p99Us, 3)} | ${format(r.meanUsPerOp, 3)} | ${format(1e6 / r.meanUsPerOp, 0)} |`)
  }
  return lines.join('\n')
}

function store (results: MicroResult[], startedAt: string): void {
  const path = join(RESULTS_DIR, 'latest.json')
  let report: Record<string, unknown> = {}
  if (existsSync(path)) {
    try {
      report = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    } catch {
      process.stderr.write(`bench:micro: ${path} is not valid JSON; writing a new file\n`)
    }
  }
  report.micro = { startedAt, quick: values.quick, node: process.version, results }
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n')
}

const startedAt = new Date().toISOString()
const results: MicroResult[] = []
const groups: Array<[string, (timeMs: number) => Promise<MicroResult[]>]> = [
  ['codec', benchCodec],
  ['lmdb', benchStore],
  ['shard', benchShardRoundTrip]
]
for (const [name, run] of groups) {
  process.stderr.write(`bench:micro: ${name}\n`)
  try {
    results.push(...await run(timeMs))
  } catch (error) {
    process.stderr.write(`bench:micro: ${name} failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = 1
  }
}

process.stdout.write(table(results) + '\n')
store(results, startedAt)
