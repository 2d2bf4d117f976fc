/**
 * The service's one logger factory. Lines are pino JSON on stdout; nothing
 * is logged per request by default. Worker threads write to the same file
 * descriptor directly, tagged with their shard.
 */
import pino, { type Logger } from 'pino'

export type { Logger }

export function createLogger (level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...bindings },
    redact: { paths: ['config.permutationKey', '*.password'], censor: '[redacted]' }
  }, pino.destination({ fd: 1, sync: false }))
}

/**
 * Logs an error or warning at most once per interval per key and counts the
 * rest, so a failing disk or a scanning client cannot flood the log with one
 * line per request.
 */
export class RateLimitedLog {
  #logger: Logger
  #intervalMs: number
  #lastAt = new Map<string, number>()
  #suppressed = new Map<string, number>()

  constructor (logger: Logger, intervalMs = 10_000) {
    this.#logger = logger
    this.#intervalMs = intervalMs
  }

  error (key: string, fields: Record<string, unknown>, message: string): void {
    this.#log('error', key, fields, message)
  }

  warn (key: string, fields: Record<string, unknown>, message: string): void {
    this.#log('warn', key, fields, message)
  }

  #log (level: 'error' | 'warn', key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now()
    const last = this.#lastAt.get(key)
    if (last !== undefined && now - last < this.#intervalMs) {
      this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1)
      return
    }
    const suppressed = this.#suppressed.get(key) ?? 0
    this.#suppressed.delete(key)
    this.#lastAt.set(key, now)
    this.#logger[level]({ ...fields, suppressedSinceLast: suppressed }, message)
  }
}
