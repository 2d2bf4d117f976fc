/**
 * `--verify`: after the import, requests `GET /{code}` for every created or
 * existing link and checks that `Location` equals the link's url as the
 * server returned it at creation.
 *
 * The code and url of each link are spilled to a temporary file while the
 * import runs and read back afterwards, so memory stays bounded for any
 * input size. A link that appears on several lines is checked once per
 * line. Redirects are never followed: the targets are real hosts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LineWriter } from './line-writer.ts'
import { readLines } from './lines.ts'
import type { ServerClient } from './server-client.ts'
import type { VerifyCounts } from './summary.ts'

/** How many mismatches are kept to print as examples. */
const MAX_EXAMPLES = 10

export interface Mismatch {
  code: string
  expected: string
  status: number
  location: string | null
}

export interface VerifyResult extends VerifyCounts {
  examples: Mismatch[]
}

/** A temporary file of `CODE<TAB>URL` lines, removed by `dispose`. */
export class LinkLog {
  readonly writer: LineWriter
  #dir: string

  private constructor (writer: LineWriter, dir: string) {
    this.writer = writer
    this.#dir = dir
  }

  static async create (): Promise<LinkLog> {
    const dir = await mkdtemp(join(tmpdir(), 'shortener-import-'))
    return new LinkLog(await LineWriter.open(join(dir, 'links.tsv')), dir)
  }

  async dispose (): Promise<void> {
    await this.writer.close()
    await rm(this.#dir, { recursive: true, force: true })
  }
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** Resolves every logged link with `concurrency` lookups in flight; `counts` is updated as lookups finish. */
export async function verifyLinks (log: LinkLog, client: ServerClient, concurrency: number, counts: VerifyResult): Promise<void> {
  await log.writer.close()
  const started = performance.now()
  const lines = readLines(log.writer.path)
  const abort = new AbortController()

  // Several workers pull from one async generator; it queues concurrent next() calls, so each line goes to exactly one worker.
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await lines.next()
      if (next.done === true) return
      const tab = next.value.text.indexOf('\t')
      const code = next.value.text.slice(0, tab)
      const expected = next.value.text.slice(tab + 1)
      const { status, location } = await client.resolve(code, abort.signal)
      if (REDIRECT_STATUSES.has(status) && location === expected) {
        counts.matched++
        continue
      }
      counts.mismatched++
      if (counts.examples.length < MAX_EXAMPLES) counts.examples.push({ code, expected, status, location })
    }
  }

  // The first failure stops the other workers, so an unreachable server ends the run at once.
  let firstError: unknown
  const run = async (): Promise<void> => {
    try {
      await worker()
    } catch (error) {
      firstError ??= error
      abort.abort()
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, run))
  } finally {
    counts.wallMs = performance.now() - started
    await lines.return(undefined)
  }
  if (firstError !== undefined) throw firstError
}
