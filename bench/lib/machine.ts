import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import type { MachineInfo } from './report.ts'

function versionOf (command: string, args: string[]): string {
  try {
    const output = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return output.split('\n')[0]?.trim() ?? 'unknown'
  } catch (error) {
    // wrk prints its version and then exits with 1 because no URL was given.
    const stdout = (error as { stdout?: string }).stdout ?? ''
    return stdout.split('\n')[0]?.trim() || 'not installed'
  }
}

function cpuModel (): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    return match?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown'
  } catch {
    return os.cpus()[0]?.model ?? 'unknown'
  }
}

export function describeMachine (): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
    tools: {
      h2load: versionOf('h2load', ['--version']),
      wrk: versionOf('wrk', ['-v'])
    }
  }
}

export function toolInstalled (version: string): boolean {
  return version !== 'not installed'
}
