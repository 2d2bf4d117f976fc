/**
 * The shard's write retries: bounded attempts, exponential backoff with full
 * jitter, and no retry of an error the caller calls permanent. Math.random
 * is pinned so that each delay is known; the delays really elapse (under a
 * quarter of a second per test), but no test measures them.
 */
import assert from 'node:assert/strict'
import { afterEach, mock, test } from 'node:test'
import { retryWithBackoff, type RetryPolicy } from '../src/shard/retry.ts'

const POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 20, maxDelayMs: 100 }

class Transient extends Error {}
class Permanent extends Error {}

afterEach(() => { mock.restoreAll() })

/** Runs `retryWithBackoff`, recording the delay chosen before each retry. */
async function runToEnd<T> (action: () => Promise<T>, isRetryable: (error: unknown) => boolean, delays: number[]): Promise<T> {
  return await retryWithBackoff(action, POLICY, isRetryable, (_error, _attempt, delayMs) => { delays.push(delayMs) })
}

function failing (failures: number, make: () => Error): { action: () => Promise<string>, attempts: () => number } {
  let attempts = 0
  return {
    action: async () => {
      attempts++
      if (attempts <= failures) throw make()
      return 'written'
    },
    attempts: () => attempts
  }
}

test('backoff doubles up to the maximum delay', async () => {
  mock.method(Math, 'random', () => 0.999)
  const delays: number[] = []
  const { action } = failing(Infinity, () => new Transient('commit failed'))
  await assert.rejects(runToEnd(action, () => true, delays), Transient)
  assert.deepEqual(delays, [19, 39, 79, 99], 'just under 20, 40, 80 and the 100 ms cap')
})

test('jitter draws each delay from zero up', async () => {
  mock.method(Math, 'random', () => 0)
  const delays: number[] = []
  const { action } = failing(Infinity, () => new Transient('commit failed'))
  await assert.rejects(runToEnd(action, () => true, delays), Transient)
  assert.deepEqual(delays, [0, 0, 0, 0])
})

test('retry stops at the configured attempts', async () => {
  mock.method(Math, 'random', () => 0)
  const { action, attempts } = failing(Infinity, () => new Transient('commit failed'))
  await assert.rejects(runToEnd(action, () => true, []), Transient)
  assert.equal(attempts(), POLICY.attempts)
})

test('retry stops at the first success', async () => {
  mock.method(Math, 'random', () => 0)
  const delays: number[] = []
  const { action, attempts } = failing(2, () => new Transient('commit failed'))
  assert.equal(await runToEnd(action, () => true, delays), 'written')
  assert.equal(attempts(), 3)
  assert.equal(delays.length, 2)
})

test('permanent error is never retried', async () => {
  const delays: number[] = []
  const { action, attempts } = failing(Infinity, () => new Permanent('code taken'))
  await assert.rejects(runToEnd(action, (error) => !(error instanceof Permanent), delays), Permanent)
  assert.equal(attempts(), 1)
  assert.deepEqual(delays, [])
})
