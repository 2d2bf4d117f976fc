/**
 * Streams the lines of a UTF-8 text file without holding more than one read
 * chunk and one line in memory.
 *
 * Only LF ends a line, and one CR right before it is removed, so CRLF files
 * read like LF files. A CR anywhere else stays in the line (node:readline
 * would treat a lone CR as a line break and shift every later line number).
 * A line longer than `MAX_LINE_CHARS` is kept only up to that length and
 * flagged, so a file without line breaks cannot exhaust memory.
 */
import { createReadStream } from 'node:fs'
import { KEYS } from '../config/schema.ts'

export interface Line {
  /** 1-based position in the file. */
  number: number
  /** The line without its LF and trailing CR; cut to `MAX_LINE_CHARS` when `tooLong`. */
  text: string
  /** The line had more than `MAX_LINE_CHARS` characters. */
  tooLong: boolean
}

/**
 * The largest `maxUrlLength` a server can be configured with. A longer line
 * cannot be accepted by any server, so the importer rejects it without
 * sending it.
 */
export const MAX_LINE_CHARS = maxUrlLengthLimit()

function maxUrlLengthLimit (): number {
  const spec = KEYS.find((key) => key.key === 'maxUrlLength')
  if (spec?.kind.type !== 'integer') throw new Error('config schema has no integer key maxUrlLength')
  return spec.kind.max
}

/** Yields every line of the file at `path`; a final line without LF counts, an empty tail after the last LF does not. */
export async function * readLines (path: string, maxLineChars = MAX_LINE_CHARS): AsyncGenerator<Line> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 })
  // One character more than the limit, so that a CR before the LF still fits.
  const maxKeptChars = maxLineChars + 1
  let number = 0
  let pending = ''
  let overflowed = false

  const append = (piece: string): void => {
    if (overflowed || piece === '') return
    const joined = pending + piece
    if (joined.length <= maxKeptChars) {
      pending = joined
      return
    }
    pending = joined.slice(0, maxKeptChars)
    overflowed = true
  }

  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0
    let end = chunk.indexOf('\n')
    while (end !== -1) {
      append(chunk.slice(start, end))
      number++
      yield toLine(number, pending, overflowed, maxLineChars)
      pending = ''
      overflowed = false
      start = end + 1
      end = chunk.indexOf('\n', start)
    }
    append(chunk.slice(start))
  }

  if (pending !== '') {
    number++
    yield toLine(number, pending, overflowed, maxLineChars)
  }
}

function toLine (number: number, buffered: string, overflowed: boolean, maxLineChars: number): Line {
  const text = !overflowed && buffered.endsWith('\r') ? buffered.slice(0, -1) : buffered
  if (overflowed || text.length > maxLineChars) {
    return { number, text: text.slice(0, maxLineChars), tooLong: true }
  }
  return { number, text, tooLong: false }
}
