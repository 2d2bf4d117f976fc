/** Shared shape of a micro benchmark result as written to latest.json under `micro`. */
import type { Bench } from 'tinybench'

export interface MicroResult {
  group: string
  name: string
  /** Mean time per call in microseconds. */
  meanUs: number
  p99Us: number
  /** Calls per second, from the mean. */
  opsPerSecond: number
  samples: number
  /** Operations a call performs; per-operation figures divide by it. */
  opsPerCall: number
  meanUsPerOp: number
}

/** Reads the results of a finished tinybench run. `opsPerCall` maps a task name to the operations one call performs. */
export function collect (group: string, bench: Bench, opsPerCall: Record<string, number> = {}): MicroResult[] {
  const results: MicroResult[] = []
  for (const task of bench.tasks) {
    const result = task.result
    if (result.state !== 'completed') {
      throw new Error(`micro benchmark ${group}/${task.name} did not complete: ${result.state}`)
    }
    const meanUs = result.latency.mean * 1000
    const ops = opsPerCall[task.name] ?? 1
    results.push({
      group,
      name: task.name,
      meanUs,
      p99Us: result.latency.p99 * 1000,
      opsPerSecond: 1e6 / meanUs,
      samples: result.latency.samplesCount,
      opsPerCall: ops,
      meanUsPerOp: meanUs / ops
    })
  }
  return results
}
