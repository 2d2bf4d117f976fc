/**
 * What "durable" means at the system-call level, watched with strace: a
 * range lease resolves only after meta.mdb was synced, and a shard store's
 * `flushed()` resolves only after its file was synced. A kill cannot show
 * this (a killed process leaves its writes in the page cache), a trace can.
 *
 * Needs strace and permission to trace a child; skipped with the reason
 * otherwise.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { removeDir, tempDataDir } from './helpers/server.ts'

const REPO_ROOT = new URL('../', import.meta.url)
const SYNC_CALLS = /\b(fsync|fdatasync|msync|sync_file_range)\(\d+<([^>]*)>/

const workDir = tempDataDir('shortener-sync-')
after(() => { removeDir(workDir) })

function straceMissing (): string | undefined {
  const probe = spawnSync('strace', ['-f', '-e', 'trace=none', 'true'], { stdio: 'pipe' })
  if (probe.error !== undefined) return `strace is not available: ${probe.error.message}`
  if (probe.status !== 0) return `strace cannot trace here: ${probe.stderr.toString().trim()}`
  return undefined
}

const skipReason = straceMissing()

/** Runs the probe under strace; returns the trace lines from the first marker on. */
function traceProbe (mode: 'lease' | 'flush', dataDir: string): string[] {
  const traceFile = join(workDir, `${mode}.strace`)
  const run = spawnSync('strace', [
    '-f', '-y', '-e', 'trace=fsync,fdatasync,msync,sync_file_range,write', '-o', traceFile,
    process.execPath, '--import', 'tsx', 'test/helpers/sync-probe.ts', mode, dataDir
  ], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 30_000 })
  assert.equal(run.status, 0, `probe failed: ${run.stderr.toString()}`)
  const lines = readFileSync(traceFile, 'utf8').split('\n')
  const start = lines.findIndex((line) => line.includes('PROBE-BEFORE'))
  assert.ok(start >= 0, 'the trace contains the first marker')
  return lines.slice(start)
}

/** Files synced between the first marker and the line containing `marker`. */
function syncedBefore (lines: string[], marker: string): string[] {
  const end = lines.findIndex((line) => line.includes(marker))
  assert.ok(end >= 0, `the trace contains ${marker}`)
  return lines.slice(0, end).flatMap((line) => {
    const match = SYNC_CALLS.exec(line)
    return match === null ? [] : [match[2] as string]
  })
}

test('lease is synced before it resolves', { skip: skipReason }, () => {
  const dataDir = join(workDir, 'lease')
  const lines = traceProbe('lease', dataDir)
  const synced = syncedBefore(lines, 'PROBE-RESOLVED')
  assert.ok(synced.some((file) => file.endsWith('meta.mdb')), `meta.mdb synced before the lease resolved; synced: ${synced.join(', ') || 'nothing'}`)
})

test('flushed resolves after a sync', { skip: skipReason }, () => {
  const dataDir = join(workDir, 'flush')
  const lines = traceProbe('flush', dataDir)
  const synced = syncedBefore(lines, 'PROBE-RESOLVED')
  assert.ok(synced.some((file) => file.endsWith('shard-0.mdb')), `shard-0.mdb synced before flushed() resolved; synced: ${synced.join(', ') || 'nothing'}`)
})
