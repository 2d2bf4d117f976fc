import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { diskUsageBytes } from '../bench/lib/disk.ts'
import { cpuBetween, parseProcStatBusy, parseStat, parseVmHwmBytes, readPeakRssBytes, snapshotCpu, type CpuSnapshot } from '../bench/lib/proc.ts'

// Captured from /proc/<pid>/stat of a node process and of one of its threads.
const NODE_STAT = '14136 (node) S 14135 14135 9 0 -1 4194560 31640 0 0 0 187 42 0 0 20 0 11 0 1046262 1279905792 67190 18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0'
const ODD_NAME_STAT = '2001 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 100 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0'

const STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
VmPeak:\t 1249908 kB
VmSize:\t 1249908 kB
VmHWM:\t  268836 kB
VmRSS:\t  262760 kB
Threads:\t11
`

test('stat fields after the name', () => {
  const stat = parseStat(NODE_STAT)
  assert.equal(stat.name, 'node')
  assert.equal(stat.utimeTicks, 187)
  assert.equal(stat.stimeTicks, 42)
})

test('stat name with spaces and parentheses', () => {
  const stat = parseStat(ODD_NAME_STAT)
  assert.equal(stat.name, 'a) b (c)')
  assert.equal(stat.utimeTicks, 7)
  assert.equal(stat.stimeTicks, 3)
})

test('stat line without fields rejected', () => {
  assert.throws(() => parseStat('garbage'), /not a \/proc stat line/)
  assert.throws(() => parseStat('1 (x) S 1 2'), /no numeric utime/)
})

test('peak RSS from status', () => {
  assert.equal(parseVmHwmBytes(STATUS), 268836 * 1024)
  assert.equal(parseVmHwmBytes('Name:\tkthreadd\n'), undefined)
})

test('cpu between snapshots', () => {
  const before: CpuSnapshot = { atMs: 1000, totalSeconds: 1, threads: new Map([['1', { name: 'main', seconds: 0.5 }], ['2', { name: 'worker', seconds: 0.5 }]]) }
  const after: CpuSnapshot = {
    atMs: 3000,
    totalSeconds: 3.5,
    threads: new Map([['1', { name: 'main', seconds: 2.3 }], ['2', { name: 'worker', seconds: 0.6 }], ['3', { name: 'late', seconds: 0.6 }]])
  }
  const usage = cpuBetween(before, after)
  assert.equal(usage.cpuSeconds, 2.5)
  assert.equal(usage.wallSeconds, 2)
  assert.equal(usage.cores, 1.25)
  assert.equal(usage.busiestThreadName, 'main')
  assert.ok(Math.abs(usage.busiestThreadCores - 0.9) < 1e-9, `busiest thread ${usage.busiestThreadCores}`)
})

test('snapshot of this process', () => {
  const snapshot = snapshotCpu(process.pid)
  assert.ok(snapshot !== undefined)
  assert.ok(snapshot.totalSeconds > 0)
  assert.ok(snapshot.threads.size >= 1)
  assert.ok(snapshot.threads.has(String(process.pid)), 'the main thread id equals the pid')
  assert.ok((readPeakRssBytes(process.pid) ?? 0) > 0)
})

test('snapshot of a missing process', () => {
  assert.equal(snapshotCpu(2 ** 22 + 1), undefined)
  assert.equal(readPeakRssBytes(2 ** 22 + 1), undefined)
})

test('disk usage counts allocated blocks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-du-'))
  try {
    const empty = diskUsageBytes(dir)
    writeFileSync(join(dir, 'data'), Buffer.alloc(64 * 1024, 1))
    const used = diskUsageBytes(dir) - empty
    assert.ok(used >= 64 * 1024, `64 KiB file counted as ${used} bytes`)
    assert.ok(used < 256 * 1024, `64 KiB file counted as ${used} bytes`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('machine busy ticks from /proc/stat', () => {
  const text = 'cpu  2255 34 2290 22625563 6290 127 456 7 0 0\ncpu0 1132 34 1441 11311718 3675 127 438 0 0 0\nintr 114930548\n'
  const { busyTicks, totalTicks } = parseProcStatBusy(text)
  assert.equal(busyTicks, 2255 + 34 + 2290 + 127 + 456 + 7)
  assert.equal(totalTicks, busyTicks + 22625563 + 6290)
  assert.throws(() => parseProcStatBusy('intr 1\n'), /no aggregate cpu line/)
})
