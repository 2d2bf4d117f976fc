/**
 * The import pipeline: lines → batches → up to `concurrency` batch requests
 * in flight → results recorded in input order.
 *
 * Batches are sent as soon as they are read but recorded oldest first, so
 * the rejects file is in line order and the counters never run ahead of a
 * gap. The file is read only while fewer than `concurrency` batches are
 * unrecorded, which is the backpressure on the read stream. So memory
 * contains at most `concurrency` batches whatever the file size.
 *
 * A link that fails with a 5xx error inside a successful batch response
 * (an overloaded or timed-out shard) is sent again with the next retry,
 * alone with the other failed links of its batch. 4xx results are final
 * and counted as rejected.
 *
 * NOTE: a link stored by an attempt whose response was a 5xx or a timeout
 * comes back as existing on the retry, so `created` can undercount by such
 * links and `existing` overcount by the same number.
 */
import { batchLines, encodeBody, type Batch } from './batches.ts'
import { DeliveryError } from './errors.ts'
import type { LineWriter } from './line-writer.ts'
import { readLines } from './lines.ts'
import type { BatchResult, ServerClient } from './server-client.ts'
import type { ImportCounts } from './summary.ts'

export interface ImportSinks {
  /** Receives `LINE<TAB>CODE<TAB>TEXT` for every rejected line. */
  rejects?: LineWriter
  /** Receives `CODE<TAB>URL` for every created or existing link, for `--verify`. */
  links?: LineWriter
}

export interface ImportSettings {
  file: string
  batchSize: number
  maxBodyBytes: number
  concurrency: number
}

type LinkResult = Extract<BatchResult, { created: boolean }>
type ErrorResult = Extract<BatchResult, { error: unknown }>

/** Imports every line of `settings.file`, updating `counts` as batches finish; throws `DeliveryError` when a batch cannot be delivered. */
export async function importFile (settings: ImportSettings, client: ServerClient, counts: ImportCounts, sinks: ImportSinks): Promise<void> {
  const abort = new AbortController()
  const window: Array<Promise<{ batch: Batch, results: BatchResult[] }>> = []

  try {
    for await (const batch of batchLines(readLines(settings.file), settings)) {
      const delivery = deliver(batch, client, abort.signal).then((results) => ({ batch, results }))
      // Marked handled now, since it may fail while an older batch is awaited; `await` below still receives the failure.
      delivery.catch(() => {})
      window.push(delivery)
      if (window.length >= settings.concurrency) await record(await (window.shift() as typeof delivery), counts, sinks)
    }
    while (window.length > 0) await record(await (window.shift() as (typeof window)[number]), counts, sinks)
  } catch (error) {
    abort.abort()
    await Promise.allSettled(window)
    throw error
  } finally {
    counts.finishedAt = performance.now()
  }
}

/** Sends a batch and resends its links that failed with 5xx until none is left or retries run out. */
async function deliver (batch: Batch, client: ServerClient, signal: AbortSignal): Promise<BatchResult[]> {
  const results = new Array<BatchResult>(batch.encodedItems.length)
  let pending = batch.encodedItems.map((_, index) => index)

  for (let retry = 0; pending.length > 0; retry++) {
    if (retry > 0) await client.backoff(retry - 1, signal)
    const responses = await client.postBatch(encodeBody(pending.map((index) => batch.encodedItems[index] as string)), pending.length, signal)

    const failed: number[] = []
    let lastFailure: ErrorResult | undefined
    responses.forEach((response, position) => {
      const index = pending[position] as number
      if (isServerFailure(response)) {
        failed.push(index)
        lastFailure = response
      } else {
        results[index] = response
      }
    })

    if (failed.length > 0 && retry >= client.retries && lastFailure !== undefined) {
      const first = batch.lineNumbers[failed[0] as number]
      throw new DeliveryError(
        `${failed.length} links (first on line ${first}) still failed after ${client.retries} retries with ` +
        `${lastFailure.error.status} ${lastFailure.error.code}: ${lastFailure.error.detail}`)
    }
    pending = failed
  }
  return results
}

function isServerFailure (result: BatchResult): result is ErrorResult {
  return 'error' in result && result.error.status >= 500
}

/** Counts a finished batch and writes its rejects and links, merging local and server rejects by line number. */
async function record ({ batch, results }: { batch: Batch, results: BatchResult[] }, counts: ImportCounts, sinks: ImportSinks): Promise<void> {
  counts.linesRead += batch.lineCount
  counts.emptyLines += batch.emptyLines

  let local = 0
  for (let index = 0; index < results.length; index++) {
    const lineNumber = batch.lineNumbers[index] as number
    while (local < batch.localRejects.length && (batch.localRejects[local]?.lineNumber as number) < lineNumber) {
      const reject = batch.localRejects[local++]
      if (reject !== undefined) await reportReject(reject.lineNumber, reject.code, reject.text, counts, sinks)
    }

    const result = results[index] as BatchResult
    if ('error' in result) {
      await reportReject(lineNumber, result.error.code, batch.texts[index] as string, counts, sinks)
      continue
    }
    recordLink(result, counts)
    await sinks.links?.write(`${result.code}\t${result.url}`)
  }
  for (; local < batch.localRejects.length; local++) {
    const reject = batch.localRejects[local]
    if (reject !== undefined) await reportReject(reject.lineNumber, reject.code, reject.text, counts, sinks)
  }
}

function recordLink (link: LinkResult, counts: ImportCounts): void {
  if (link.created) counts.created++
  else counts.existing++
}

async function reportReject (lineNumber: number, code: string, text: string, counts: ImportCounts, sinks: ImportSinks): Promise<void> {
  counts.addRejected(code)
  await sinks.rejects?.write(`${lineNumber}\t${code}\t${text}`)
}
