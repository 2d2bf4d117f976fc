/**
 * Bounded retries with exponential backoff and full jitter: attempt k waits a
 * uniformly random time in [0, min(maxDelayMs, baseDelayMs * 2^k)), so shards
 * that failed together do not retry in lockstep.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface RetryPolicy {
  /** Total attempts, including the first; 1 disables retrying. */
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export async function retryWithBackoff<T> (
  action: () => Promise<T>,
  policy: RetryPolicy,
  isRetryable: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action()
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error
      const delayMs = Math.floor(Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)))
      onRetry?.(error, attempt, delayMs)
      await sleep(delayMs)
    }
  }
}
