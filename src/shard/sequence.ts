/**
 * Sequence numbers for generated codes, taken from leased ranges. The next
 * lease is requested when a quarter of the current one is left, so in steady
 * state a create never waits for the meta store. It waits only at first use
 * and when creates outrun the prefetch.
 */

export interface RangeLeaser {
  /** Resolves with the first of `size` numbers once the grant is durable. */
  leaseRange (size: number): Promise<number>
}

export class LeasedSequence {
  leasesGranted = 0
  #leaser: RangeLeaser
  #size: number
  #next = 0
  #end = 0
  #pending: Promise<void> | undefined
  #queued: { start: number, end: number } | undefined
  #failure: unknown
  #onLease: ((start: number, size: number) => void) | undefined

  constructor (leaser: RangeLeaser, size: number, onLease?: (start: number, size: number) => void) {
    this.#leaser = leaser
    this.#size = size
    this.#onLease = onLease
  }

  get remaining (): number {
    return this.#end - this.#next + (this.#queued === undefined ? 0 : this.#queued.end - this.#queued.start)
  }

  /** Takes the next number if one is leased already. */
  take (): number | undefined {
    if (this.#next >= this.#end) this.#switchToQueued()
    if (this.#next >= this.#end) {
      this.#maybePrefetch()
      return undefined
    }
    const seq = this.#next++
    this.#maybePrefetch()
    return seq
  }

  /** Resolves once a number can be taken; rejects when leasing failed. */
  async ready (): Promise<void> {
    for (;;) {
      if (this.#next < this.#end || this.#queued !== undefined) return
      this.#maybePrefetch()
      await this.#pending
      if (this.#queued === undefined && this.#failure !== undefined) {
        const failure = this.#failure
        this.#failure = undefined
        throw failure
      }
    }
  }

  #switchToQueued (): void {
    if (this.#queued === undefined) return
    this.#next = this.#queued.start
    this.#end = this.#queued.end
    this.#queued = undefined
  }

  // The prefetch promise never rejects: a failure is kept for the next
  // caller of next(), so a failed background lease is never unhandled.
  #maybePrefetch (): void {
    if (this.#pending !== undefined || this.#queued !== undefined) return
    if (this.#end - this.#next > this.#size / 4) return
    this.#pending = this.#leaser.leaseRange(this.#size).then(
      (start) => {
        this.leasesGranted++
        this.#queued = { start, end: start + this.#size }
        this.#failure = undefined
        this.#pending = undefined
        this.#onLease?.(start, this.#size)
      },
      (error: unknown) => {
        this.#failure = error
        this.#pending = undefined
      }
    )
  }
}
