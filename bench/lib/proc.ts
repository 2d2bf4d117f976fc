/**
 * CPU time and peak memory of a running process, read from Linux /proc.
 * `/proc/<pid>/stat` gives user and system time in clock ticks for the whole
 * process, all threads together. `/proc/<pid>/task/<tid>/stat` gives it per
 * thread. That shows whether one thread (the product's front, a load tool's
 * event loop) used a whole core while the process as a whole did not.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface StatFields {
  /** Thread or process name from the `comm` field, without parentheses. */
  name: string
  utimeTicks: number
  stimeTicks: number
}

/**
 * Parses one /proc stat line. The name may contain spaces and parentheses,
 * so the fields are counted from the last `)`: state is field 3, utime 14, stime 15.
 */
export function parseStat (text: string): StatFields {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`)

  const rest = text.slice(close + 2).trim().split(/\s+/)
  const utimeTicks = Number(rest[11])
  const stimeTicks = Number(rest[12])
  if (!Number.isFinite(utimeTicks) || !Number.isFinite(stimeTicks)) {
    throw new Error(`stat line has no numeric utime and stime: ${text.slice(0, 80)}`)
  }
  return { name: text.slice(open + 1, close), utimeTicks, stimeTicks }
}

/** Returns VmHWM (peak resident set size) in bytes from /proc/<pid>/status text, or undefined if absent. */
export function parseVmHwmBytes (statusText: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(statusText)
  return match === null ? undefined : Number(match[1]) * 1024
}

let clockTicksPerSecond: number | undefined

export function clockTicks (): number {
  if (clockTicksPerSecond === undefined) {
    const text = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()
    clockTicksPerSecond = Number(text) > 0 ? Number(text) : 100
  }
  return clockTicksPerSecond
}

export interface CpuSnapshot {
  atMs: number
  totalSeconds: number
  /** CPU seconds and name per thread id. */
  threads: Map<string, { name: string, seconds: number }>
}

/** Reads the CPU time of a process and of each of its threads; undefined once the process is gone. */
export function snapshotCpu (pid: number): CpuSnapshot | undefined {
  const ticks = clockTicks()
  try {
    const total = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    const threads = new Map<string, { name: string, seconds: number }>()
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'))
        threads.set(tid, { name: stat.name, seconds: (stat.utimeTicks + stat.stimeTicks) / ticks })
      } catch {
        // The thread ended between listing and reading.
      }
    }
    return { atMs: performance.now(), totalSeconds: (total.utimeTicks + total.stimeTicks) / ticks, threads }
  } catch {
    return undefined
  }
}

export interface CpuUsage {
  /** CPU seconds used between the two snapshots, all threads. */
  cpuSeconds: number
  wallSeconds: number
  /** Mean number of cores busy: cpuSeconds / wallSeconds. */
  cores: number
  /** Mean cores used by the busiest single thread; near 1 means that thread was the limit. */
  busiestThreadCores: number
  busiestThreadName: string
}

/** Compares two snapshots of one process. Threads that started after `before` count from zero. */
export function cpuBetween (before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const wallSeconds = Math.max((after.atMs - before.atMs) / 1000, 1e-9)
  let busiestSeconds = 0
  let busiestThreadName = ''
  for (const [tid, thread] of after.threads) {
    const used = thread.seconds - (before.threads.get(tid)?.seconds ?? 0)
    if (used > busiestSeconds) {
      busiestSeconds = used
      busiestThreadName = thread.name
    }
  }
  const cpuSeconds = after.totalSeconds - before.totalSeconds
  return {
    cpuSeconds,
    wallSeconds,
    cores: cpuSeconds / wallSeconds,
    busiestThreadCores: busiestSeconds / wallSeconds,
    busiestThreadName
  }
}

/**
 * Samples a process every `intervalMs` so its usage is known even if it exits
 * before the window closes (a load tool does). `stop()` returns the usage
 * between the first and the last successful sample.
 */
export class CpuWindow {
  readonly #pid: number
  readonly #timer: NodeJS.Timeout
  readonly #first: CpuSnapshot | undefined
  #last: CpuSnapshot | undefined

  constructor (pid: number, intervalMs = 250) {
    this.#pid = pid
    this.#first = snapshotCpu(pid)
    this.#last = this.#first
    this.#timer = setInterval(() => this.#sample(), intervalMs)
    this.#timer.unref()
  }

  #sample (): void {
    const snapshot = snapshotCpu(this.#pid)
    if (snapshot !== undefined) this.#last = snapshot
  }

  stop (): CpuUsage | undefined {
    clearInterval(this.#timer)
    this.#sample()
    if (this.#first === undefined || this.#last === undefined) return undefined
    return cpuBetween(this.#first, this.#last)
  }
}

export function readPeakRssBytes (pid: number): number | undefined {
  try {
    return parseVmHwmBytes(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return undefined
  }
}

/**
 * Parses the aggregate `cpu` line of /proc/stat into busy and total ticks.
 * Busy is everything except idle and iowait; guest time is already counted
 * in user time, so it is not added again.
 */
export function parseProcStatBusy (text: string): { busyTicks: number, totalTicks: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (line === undefined) throw new Error('/proc/stat has no aggregate cpu line')
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[]
  const busyTicks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)
  return { busyTicks, totalTicks: busyTicks + (idle ?? 0) + (iowait ?? 0) }
}

/** Measures how many cores the whole machine kept busy over a window, to see how much other work shared it. */
export class MachineWindow {
  readonly #startBusySeconds: number
  readonly #startMs: number

  constructor () {
    this.#startBusySeconds = readMachineBusySeconds()
    this.#startMs = performance.now()
  }

  /** Returns the mean number of busy cores since construction. */
  stop (): number {
    const wallSeconds = Math.max((performance.now() - this.#startMs) / 1000, 1e-9)
    return (readMachineBusySeconds() - this.#startBusySeconds) / wallSeconds
  }
}

function readMachineBusySeconds (): number {
  try {
    return parseProcStatBusy(readFileSync('/proc/stat', 'utf8')).busyTicks / clockTicks()
  } catch {
    return 0
  }
}
