/**
 * Runs the import command in this process or as a child process and parses
 * its printed summary, for tests of `src/cli/import.ts`.
 */
import { spawn } from 'node:child_process'
import { main } from '../../src/cli/import.ts'

const REPO_ROOT = new URL('../../', import.meta.url)

export interface ImportRun {
  status: number | string
  stdout: string
  stderr: string
  /** Summary rows by label, e.g. `created` or `  UNSUPPORTED_SCHEME` trimmed to `UNSUPPORTED_SCHEME`. */
  summary: Map<string, string>
}

class CapturedOutput {
  text = ''
  readonly isTTY = false
  write (chunk: string): boolean {
    this.text += chunk
    return true
  }
}

/** Calls the command's `main` with `argv` in this process. */
export async function runImport (argv: readonly string[]): Promise<ImportRun> {
  const stdout = new CapturedOutput()
  const stderr = new CapturedOutput()
  const status = await main(argv, { stdout, stderr })
  return { status, stdout: stdout.text, stderr: stderr.text, summary: parseSummary(stdout.text) }
}

/** Runs `node --import tsx src/cli/import.ts` with `argv` and waits for it to exit. */
export async function spawnImport (argv: readonly string[]): Promise<ImportRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/import.ts', ...argv], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const status = await new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
  })
  return { status, stdout, stderr, summary: parseSummary(stdout) }
}

/** Reads `label   value` rows; labels are the text before the run of two or more spaces. */
export function parseSummary (text: string): Map<string, string> {
  const rows = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^\s*(\S.*?)\s{2,}(\S.*)$/.exec(line)
    if (match !== null) rows.set(match[1] as string, match[2] as string)
  }
  return rows
}

/** Returns the integer value of a summary row; throws when the row is missing, so a renamed label fails loudly. */
export function count (run: ImportRun, label: string): number {
  const value = run.summary.get(label)
  if (value === undefined) throw new Error(`summary has no row ${JSON.stringify(label)}:\n${run.stdout}${run.stderr}`)
  return Number.parseInt(value, 10)
}

/** Returns the rejected-line count of one error code from the summary (0 for a code not listed). */
export function rejectedCount (run: ImportRun, code: string): number {
  return run.summary.has(code) ? count(run, code) : 0
}
