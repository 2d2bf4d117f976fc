/**
 * Appends text lines to a file with backpressure: `write` waits for the
 * stream to drain when its buffer is full, so a slow disk slows the import
 * instead of filling memory.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { UsageError } from './errors.ts'

export class LineWriter {
  #stream: WriteStream
  #path: string

  private constructor (stream: WriteStream, path: string) {
    this.#stream = stream
    this.#path = path
  }

  /** Creates or truncates the file; fails with `UsageError` when it cannot be opened. */
  static async open (path: string): Promise<LineWriter> {
    const stream = createWriteStream(path, { encoding: 'utf8' })
    try {
      await once(stream, 'open')
    } catch (error) {
      throw new UsageError(`cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`)
    }
    return new LineWriter(stream, path)
  }

  get path (): string {
    return this.#path
  }

  /** Writes `line` and a LF. */
  async write (line: string): Promise<void> {
    if (!this.#stream.write(`${line}\n`)) await once(this.#stream, 'drain')
  }

  /** Flushes and closes the file. */
  async close (): Promise<void> {
    if (this.#stream.closed) return
    this.#stream.end()
    await once(this.#stream, 'close')
  }
}
