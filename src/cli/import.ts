/**
 * `npm run import -- FILE [options]`: creates a short link for every line of
 * FILE on a running shortener, prints a summary and, with `--verify`, checks
 * every link's redirect. `--help` lists the options and exit statuses.
 */
import { stat } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { DeliveryError, UsageError } from '../import/errors.ts'
import { importFile } from '../import/importer.ts'
import { LineWriter } from '../import/line-writer.ts'
import { HELP, parseImportArgs, type ImportOptions } from '../import/options.ts'
import { Progress, type Output } from '../import/progress.ts'
import { ServerClient } from '../import/server-client.ts'
import { formatProgress, formatSummary, ImportCounts } from '../import/summary.ts'
import { LinkLog, verifyLinks, type VerifyResult } from '../import/verify.ts'

export const EXIT_OK = 0
export const EXIT_DELIVERY_FAILED = 1
export const EXIT_USAGE = 2
export const EXIT_VERIFY_MISMATCH = 3

export interface ImportIo {
  stdout: Output
  stderr: Output
}

/** Runs the command with `argv` (without node and the script) and returns its exit status. */
export async function main (argv: readonly string[], io: ImportIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: ImportOptions
  try {
    const parsed = parseImportArgs(argv)
    if (parsed === 'help') {
      io.stdout.write(HELP)
      return EXIT_OK
    }
    options = parsed
    await checkInputFile(options.file)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.stderr.write(`import: ${error.message}\nRun with --help for usage.\n`)
    return EXIT_USAGE
  }

  const counts = new ImportCounts()
  const verify: VerifyResult | undefined = options.verify ? { matched: 0, mismatched: 0, wallMs: 0, examples: [] } : undefined
  try {
    await run(options, counts, verify, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`import: ${error.message}\n`)
      return EXIT_USAGE
    }
    if (!(error instanceof DeliveryError)) throw error
    io.stderr.write(`import: failed: ${error.message}\n`)
    if (counts.linesRead > 0) {
      io.stdout.write(formatSummary(counts, verify))
      io.stderr.write('The lines counted above were imported. Run the same command again to finish; ' +
        'links created by this run then count as already existing.\n')
    }
    return EXIT_DELIVERY_FAILED
  }

  io.stdout.write(formatSummary(counts, verify))
  if (verify !== undefined && verify.mismatched > 0) {
    io.stderr.write(`import: --verify found ${verify.mismatched} links whose redirect differs from their url, for example:\n`)
    for (const example of verify.examples) {
      io.stderr.write(`  /${example.code}: expected Location ${example.expected}, received ${example.status} Location ${example.location ?? '(none)'}\n`)
    }
    return EXIT_VERIFY_MISMATCH
  }
  return EXIT_OK
}

/** Imports, then verifies when `verify` is given; fills `counts` and `verify` as it goes. */
async function run (options: ImportOptions, counts: ImportCounts, verify: VerifyResult | undefined, io: ImportIo): Promise<void> {
  const client = new ServerClient(options.server, { retries: options.retries, timeoutMs: options.timeoutMs })
  await client.checkHealth()

  const rejects = options.rejects === undefined ? undefined : await LineWriter.open(options.rejects)
  const linkLog = verify === undefined ? undefined : await LinkLog.create()
  try {
    const progress = new Progress(io.stderr, () => formatProgress(counts))
    try {
      await importFile(options, client, counts, { rejects, links: linkLog?.writer })
    } finally {
      progress.stop()
      await rejects?.close()
    }
    if (linkLog === undefined || verify === undefined) return

    const verifyProgress = new Progress(io.stderr, () =>
      `verified ${verify.matched + verify.mismatched} of ${counts.links} links, ${verify.mismatched} mismatched`)
    try {
      await verifyLinks(linkLog, client, options.verifyConcurrency, verify)
    } finally {
      verifyProgress.stop()
    }
  } finally {
    await linkLog?.dispose()
  }
}

async function checkInputFile (file: string): Promise<void> {
  let stats
  try {
    stats = await stat(file)
  } catch (error) {
    throw new UsageError(`cannot read input file ${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (stats.isDirectory()) throw new UsageError(`input file ${file} is a directory`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2))
}
