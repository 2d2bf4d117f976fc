/**
 * The per-shard breaker's policy with the configured defaults, on fake
 * timers (setTimeout and Date), so the 10 s window, the 30 s open time and
 * the trial timeout pass in no real time.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, mock, test } from 'node:test'
import { loadConfig } from '../src/config/load.ts'
import { ShardBreaker, type BreakerOptions, type BreakerStateName } from '../src/front/breaker.ts'
import { ShardUnavailableError } from '../src/errors.ts'

const DEFAULTS: BreakerOptions = loadConfig({ argv: [], env: {} }).breaker

class ShardFailure extends Error {}

let breaker: ShardBreaker
let transitions: BreakerStateName[]
let calls: number

beforeEach(() => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
  transitions = []
  calls = 0
  breaker = new ShardBreaker(7, DEFAULTS, (state) => { transitions.push(state) })
})

afterEach(() => {
  breaker.dispose()
  mock.timers.reset()
})

/** Runs one call through the breaker; returns how it ended. */
async function run (outcome: 'ok' | 'fail'): Promise<'ok' | 'failed' | 'rejected'> {
  try {
    await breaker.run(async () => {
      calls++
      if (outcome === 'fail') throw new ShardFailure('shard failed')
      return 'ok'
    })
    return 'ok'
  } catch (error) {
    if (error instanceof ShardUnavailableError) return 'rejected'
    assert.ok(error instanceof ShardFailure, `unexpected error ${String(error)}`)
    return 'failed'
  }
}

async function runMany (outcomes: ReadonlyArray<'ok' | 'fail'>): Promise<void> {
  for (const outcome of outcomes) await run(outcome)
}

/** Lets the breaker's promise chains run after a fake-timer tick. */
async function settle (): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

async function openBreaker (): Promise<void> {
  await runMany(['fail', 'fail', 'fail', 'fail', 'fail'])
  assert.equal(breaker.state, 'open')
}

async function halfOpenBreaker (): Promise<void> {
  await openBreaker()
  mock.timers.tick(DEFAULTS.openMs)
  await settle()
  assert.equal(breaker.state, 'half-open')
}

test('breaker defaults match the documented policy', () => {
  assert.equal(DEFAULTS.windowMs, 10_000)
  assert.equal(DEFAULTS.minCalls, 5)
  assert.equal(DEFAULTS.failureRatePercent, 50)
  assert.equal(DEFAULTS.openMs, 30_000)
  assert.equal(DEFAULTS.halfOpenCalls, 3)
})

describe('closed breaker', () => {
  test('opens at the failure threshold', async () => {
    await runMany(['ok', 'ok', 'ok', 'fail', 'fail'])
    assert.equal(breaker.state, 'closed', '2 failures of 5 calls (40 %) must not open it')
    await run('fail')
    assert.equal(breaker.state, 'open', '3 failures of 6 calls (50 %) must open it')
    assert.deepEqual(transitions, ['open'])
  })

  test('stays closed below the threshold', async () => {
    await runMany(['ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'fail'])
    assert.equal(breaker.state, 'closed', '4 failures of 10 calls (40 %)')
    assert.deepEqual(transitions, [])
  })

  test('waits for the minimum calls', async () => {
    await runMany(['fail', 'fail', 'fail', 'fail'])
    assert.equal(breaker.state, 'closed', '4 failures are fewer than the 5 calls needed')
    await run('fail')
    assert.equal(breaker.state, 'open')
  })

  test('forgets calls outside the window', async () => {
    await runMany(['fail', 'fail', 'fail', 'fail'])
    mock.timers.tick(DEFAULTS.windowMs + 1)
    await run('fail')
    assert.equal(breaker.state, 'closed', 'only 1 call is left in the window')
    await runMany(['fail', 'fail', 'fail'])
    assert.equal(breaker.state, 'closed', '4 calls in the window')
    await run('fail')
    assert.equal(breaker.state, 'open', '5 failed calls in the window')
  })

  test('counts calls inside the window', async () => {
    await runMany(['fail', 'fail', 'fail', 'fail'])
    mock.timers.tick(DEFAULTS.windowMs - 1000)
    await run('fail')
    assert.equal(breaker.state, 'open', 'all 5 failures are within 10 s')
  })
})

describe('open breaker', () => {
  test('rejects without calling the shard', async () => {
    await openBreaker()
    const before = calls
    let rejection: unknown
    try {
      await breaker.run(async () => { calls++ })
    } catch (error) {
      rejection = error
    }
    assert.equal(calls, before, 'the call must not run')
    assert.ok(rejection instanceof ShardUnavailableError)
    assert.equal(rejection.code, 'SHARD_UNAVAILABLE')
    assert.equal(rejection.status, 503)
    assert.equal(rejection.fields.retryAfterSeconds, DEFAULTS.openMs / 1000)
  })

  test('stays open until the open time passed', async () => {
    await openBreaker()
    mock.timers.tick(DEFAULTS.openMs - 1)
    await settle()
    assert.equal(breaker.state, 'open')
    assert.equal(await run('ok'), 'rejected')
  })

  test('half-opens after the open time', async () => {
    await halfOpenBreaker()
    assert.deepEqual(transitions, ['open', 'half-open'])
  })
})

describe('half-open breaker', () => {
  test('closes after three good trials', async () => {
    await halfOpenBreaker()
    await run('ok')
    await run('ok')
    assert.equal(breaker.state, 'half-open', 'two good trials are not enough')
    await run('ok')
    assert.equal(breaker.state, 'closed')
    assert.deepEqual(transitions, ['open', 'half-open', 'closed'])
  })

  test('lets only three trials through at once', async () => {
    await halfOpenBreaker()
    const releases: Array<() => void> = []
    const trials = [1, 2, 3].map(async () => await breaker.run(async () => {
      calls++
      await new Promise<void>((resolve) => { releases.push(resolve) })
    }))
    await settle()
    const callsBefore = calls
    assert.equal(await run('ok'), 'rejected', 'a fourth call while three trials run')
    assert.equal(calls, callsBefore)
    for (const release of releases) release()
    await Promise.all(trials)
    assert.equal(breaker.state, 'closed')
  })

  test('reopens after a failed trial', async () => {
    await halfOpenBreaker()
    assert.equal(await run('fail'), 'failed')
    assert.equal(breaker.state, 'open', 'one failed trial reopens it')
    assert.equal(await run('ok'), 'rejected')
  })

  test('reopens after a failed last trial', async () => {
    await halfOpenBreaker()
    await run('ok')
    await run('ok')
    await run('fail')
    assert.equal(breaker.state, 'open')
  })

  test('reopens after a hung trial', async () => {
    await halfOpenBreaker()
    const hung = breaker.run(async () => await new Promise<never>(() => {}))
    hung.catch(() => {})
    await settle()
    assert.equal(breaker.state, 'half-open')
    mock.timers.tick(DEFAULTS.trialTimeoutMs)
    await settle()
    assert.equal(breaker.state, 'open', `a trial hung for ${DEFAULTS.trialTimeoutMs} ms reopens it`)
    assert.equal(await run('ok'), 'rejected')
  })

  test('closes with trials spread over time', async () => {
    await halfOpenBreaker()
    for (let i = 0; i < DEFAULTS.halfOpenCalls; i++) {
      mock.timers.tick(DEFAULTS.trialTimeoutMs - 1000)
      await settle()
      assert.equal(breaker.state, 'half-open', 'no trial failed or hung, so it waits for more')
      await run('ok')
    }
    assert.equal(breaker.state, 'closed')
  })
})
