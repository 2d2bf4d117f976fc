/**
 * A one-line progress display, redrawn in place a few times a second, shown
 * only when the output stream is a terminal. Logs and pipes get nothing, so
 * the summary stays the only output there.
 */

export interface Output {
  write: (text: string) => unknown
  isTTY?: boolean
}

const REDRAW_INTERVAL_MS = 250
const CLEAR_LINE = '\r\u001b[2K'

export class Progress {
  #output: Output
  #render: () => string
  #timer: NodeJS.Timeout | undefined

  constructor (output: Output, render: () => string) {
    this.#output = output
    this.#render = render
    if (output.isTTY === true) {
      this.#timer = setInterval(() => { this.#draw() }, REDRAW_INTERVAL_MS)
      this.#timer.unref()
    }
  }

  /** Stops redrawing and erases the line, so the next output starts clean. */
  stop (): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#output.write(CLEAR_LINE)
  }

  #draw (): void {
    this.#output.write(`${CLEAR_LINE}${this.#render()}`)
  }
}
