/**
 * Groups input lines into batch requests for `POST /api/v1/links/batch`.
 *
 * A batch is cut when it contains `batchSize` links or when one more link would
 * push its JSON body past `maxBodyBytes`, so no request can break the
 * server's batch or body limit as long as both options are at most the
 * server's values. Each link is JSON-encoded once, here, and the body is the
 * encoded links joined, so the size counted is the size sent.
 */
import { BODY_FRAME_BYTES } from './options.ts'
import type { Line } from './lines.ts'

/** Client-side reason for a line that is never sent (see `MAX_LINE_CHARS`). */
export const LINE_TOO_LONG = 'LINE_TOO_LONG'

export interface LocalReject {
  lineNumber: number
  code: string
  text: string
}

export interface Batch {
  /** Lines consumed from the input for this batch, sent or not. */
  lineCount: number
  emptyLines: number
  /** Line number of each link sent; parallel to `texts` and `encodedItems`. */
  lineNumbers: number[]
  texts: string[]
  /** Each link as sent: `{"url":"..."}`. */
  encodedItems: string[]
  /** Lines rejected without a request, in input order. */
  localRejects: LocalReject[]
}

export interface BatchLimits {
  batchSize: number
  maxBodyBytes: number
}

export async function * batchLines (lines: AsyncIterable<Line>, limits: BatchLimits): AsyncGenerator<Batch> {
  let batch = emptyBatch()
  let bodyBytes = BODY_FRAME_BYTES

  for await (const line of lines) {
    if (line.tooLong) {
      batch.lineCount++
      batch.localRejects.push({ lineNumber: line.number, code: LINE_TOO_LONG, text: line.text })
    } else if (line.text === '') {
      batch.lineCount++
      batch.emptyLines++
    } else {
      const item = `{"url":${JSON.stringify(line.text)}}`
      const itemBytes = Buffer.byteLength(item) + 1
      if (batch.encodedItems.length > 0 && bodyBytes + itemBytes > limits.maxBodyBytes) {
        yield batch
        batch = emptyBatch()
        bodyBytes = BODY_FRAME_BYTES
      }
      batch.lineCount++
      batch.lineNumbers.push(line.number)
      batch.texts.push(line.text)
      batch.encodedItems.push(item)
      bodyBytes += itemBytes
    }

    // Local rejects count toward the size too, so a file of only long lines still moves in bounded steps.
    if (batch.encodedItems.length + batch.localRejects.length >= limits.batchSize) {
      yield batch
      batch = emptyBatch()
      bodyBytes = BODY_FRAME_BYTES
    }
  }

  if (batch.lineCount > 0) yield batch
}

/** Builds the request body that carries the given encoded links. */
export function encodeBody (encodedItems: readonly string[]): string {
  return `{"links":[${encodedItems.join(',')}]}`
}

function emptyBatch (): Batch {
  return { lineCount: 0, emptyLines: 0, lineNumbers: [], texts: [], encodedItems: [], localRejects: [] }
}
