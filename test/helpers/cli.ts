/**
 * Runs `src/cli/serve.ts` as a child process that is expected to exit on its
 * own (bad config, deployment mismatch) and collects its output.
 */
import { spawn } from 'node:child_process'

const REPO_ROOT = new URL('../../', import.meta.url)

/** Maximum time a failing start may take before the child is killed and the run fails. */
const MAX_RUN_MS = 30_000

export interface CliRun {
  /** Exit code, or the signal name when the child was killed. */
  exit: number | string
  stdout: string
  stderr: string
}

export async function runCli (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/serve.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })

  // A child that starts listening instead of failing would never exit by itself.
  const killer = setTimeout(() => { child.kill('SIGKILL') }, MAX_RUN_MS)
  const exit = await new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
  })
  clearTimeout(killer)
  return { exit, stdout, stderr }
}
