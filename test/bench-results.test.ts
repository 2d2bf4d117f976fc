import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeSaturation } from '../bench/lib/load.ts'
import { renderMarkdown, targetTable } from '../bench/lib/report.ts'
import { buildScenario, computeTargets, evaluate, ratio, spread, usableRps, withSharedCeiling, type Scenario, type Target } from '../bench/lib/results.ts'

function targetNamed (targets: Target[], name: string): Target {
  const found = targets.find((t) => t.name === name)
  assert.ok(found, `no target named ${name}`)
  return found
}

test('ratio of two throughputs', () => {
  assert.equal(ratio(90, 100), 0.9)
  assert.equal(ratio(undefined, 100), undefined)
  assert.equal(ratio(90, undefined), undefined)
  assert.equal(ratio(90, 0), undefined)
  assert.equal(ratio(Number.NaN, 100), undefined)
})

test('scenario takes the product figures and ratios', () => {
  const scenario = buildScenario({
    product: { server: 'product', tool: 'h2load', rps: 45_000, p99Ms: 2 },
    ceiling: { server: 'ceiling', tool: 'h2load', rps: 50_000 },
    reference: { server: 'reference', tool: 'h2load', rps: 15_000 }
  })
  assert.equal(scenario.rps, 45_000)
  assert.equal(scenario.p99Ms, 2)
  assert.equal(scenario.vsCeiling, 0.9)
  assert.equal(scenario.vsReference, 3)
  assert.equal(scenario.ceiling?.rps, 50_000)
})

test('shard counts and commit creates borrow the ceiling of their kind of request', () => {
  const hot = { server: 'ceiling', tool: 'h2load', rps: 100_000 }
  const create = { server: 'ceiling', tool: 'wrk', rps: 80_000 }
  const own = { server: 'ceiling', tool: 'wrk', rps: 70_000 }
  const product = { server: 'product', tool: 'wrk', rps: 20_000 }
  const all = { 'redirect-hot': { ceiling: hot }, 'create-single': { ceiling: create } }
  assert.equal(withSharedCeiling('shards-4', { product }, all).ceiling, hot)
  assert.equal(withSharedCeiling('create-single-commit', { product }, all).ceiling, create)
  assert.equal(withSharedCeiling('create-single-commit', { product, ceiling: own }, all).ceiling, own)
  assert.equal(withSharedCeiling('mixed', { product }, all).ceiling, undefined)
  assert.equal(withSharedCeiling('create-single-commit', { product }, {}).ceiling, undefined)
  assert.equal(buildScenario(withSharedCeiling('create-single-commit', { product }, all)).vsCeiling, 0.25)
})

test('scenario without product has no ratios', () => {
  const scenario = buildScenario({ ceiling: { server: 'ceiling', tool: 'h2load', rps: 50_000 } })
  assert.equal(scenario.rps, undefined)
  assert.equal(scenario.vsCeiling, undefined)
  assert.equal(scenario.vsReference, undefined)
})

test('failing runs not compared', () => {
  const scenario = buildScenario({
    product: { server: 'product', tool: 'wrk', rps: 15_000, requests: 30_000, errors: 30_000 },
    reference: { server: 'reference', tool: 'wrk', rps: 4000, requests: 8000, errors: 80 }
  })
  assert.equal(scenario.vsReference, undefined)
  assert.match(scenario.note ?? '', /product: more than 1 % of operations failed/)
  assert.doesNotMatch(scenario.note ?? '', /reference/)
})

test('usable rps by error share', () => {
  assert.equal(usableRps({ server: 's', tool: 't', rps: 10, requests: 1000, errors: 10 }), 10)
  assert.equal(usableRps({ server: 's', tool: 't', rps: 10, requests: 1000, errors: 11 }), undefined)
  assert.equal(usableRps({ server: 's', tool: 't', rps: 10, errors: 0 }), 10)
  assert.equal(usableRps({ server: 's', tool: 't', rps: 10, error: 'h2load exited with 1' }), undefined)
  assert.equal(usableRps(undefined), undefined)
})

test('batch import with failed links missing', () => {
  const targets = computeTargets({ 'create-batch': { server: 'p', tool: 'fetch', rps: 200_000, requests: 5000, errors: 5000 } }, undefined)
  assert.equal(targetNamed(targets, 'batch import').status, 'missing')
})

test('evaluate at and around the threshold', () => {
  assert.equal(evaluate(0.9, '>=', 0.9), 'met')
  assert.equal(evaluate(0.89, '>=', 0.9), 'missed')
  assert.equal(evaluate(2, '<=', 2), 'met')
  assert.equal(evaluate(2.01, '<=', 2), 'missed')
  assert.equal(evaluate(undefined, '<=', 2), 'missing')
  assert.equal(evaluate(Number.POSITIVE_INFINITY, '>=', 2), 'missing')
})

test('spread of shard throughputs', () => {
  assert.equal(spread([100, 90, 95, 85]), 0.15)
  assert.equal(spread([100, 100]), 0)
  assert.equal(spread([100, undefined]), undefined)
  assert.equal(spread([]), undefined)
})

function fullScenarios (): Record<string, Scenario> {
  return {
    'redirect-hot': { server: 'p', tool: 'h2load', rps: 95, vsCeiling: 0.95, vsReference: 4, p99AtHalfRateMs: 1.5 },
    'redirect-uniform': { server: 'p', tool: 'wrk', rps: 70, vsCeiling: 0.7, vsReference: 3.5 },
    'create-single': { server: 'p', tool: 'wrk', rps: 10, vsReference: 6 },
    'create-single-commit': { server: 'p', tool: 'wrk', rps: 10, vsReference: 4 },
    'create-batch': { server: 'p', tool: 'fetch', rps: 120_000 },
    'shards-1': { server: 'p', tool: 'h2load', rps: 100 },
    'shards-2': { server: 'p', tool: 'h2load', rps: 95 },
    'shards-4': { server: 'p', tool: 'h2load', rps: 90 },
    'shards-8': { server: 'p', tool: 'h2load', rps: 80 }
  }
}

test('targets met and missed', () => {
  const targets = computeTargets(fullScenarios(), { ms: 800, links: 1_000_000 })
  assert.equal(targetNamed(targets, 'hot redirects vs ceiling').status, 'met')
  assert.equal(targetNamed(targets, 'uniform redirects vs ceiling').status, 'missed')
  assert.equal(targetNamed(targets, 'uniform redirects vs ceiling').measured, 0.7)
  assert.equal(targetNamed(targets, 'single creates vs reference (flush vs FULL)').status, 'met')
  assert.equal(targetNamed(targets, 'single creates vs reference (commit vs NORMAL)').status, 'missed')
  assert.equal(targetNamed(targets, 'batch import').status, 'met')
  assert.equal(targetNamed(targets, 'p99 at half max rps (hot redirects)').status, 'met')
  assert.equal(targetNamed(targets, 'start to ready with 1M links').status, 'met')
  assert.equal(targetNamed(targets, 'start to ready with 1M links').note, undefined)
  const shards = targetNamed(targets, 'shards 1→8 rps spread (best−worst)/best')
  assert.equal(shards.status, 'missed')
  assert.equal(shards.measured, 0.2)
})

test('targets missing without measurements', () => {
  const targets = computeTargets({}, undefined)
  assert.equal(targets.length, 10)
  for (const t of targets) {
    assert.equal(t.status, 'missing', t.name)
    assert.equal(t.measured, undefined, t.name)
  }
})

test('start-up below 1M links carries a note', () => {
  const targets = computeTargets({}, { ms: 500, links: 20_000 })
  const startup = targetNamed(targets, 'start to ready with 1M links')
  assert.equal(startup.status, 'met')
  assert.match(startup.note ?? '', /20000 links/)
})

test('one missing shard count makes the spread missing', () => {
  const scenarios = fullScenarios()
  delete scenarios['shards-4']
  const targets = computeTargets(scenarios, undefined)
  assert.equal(targetNamed(targets, 'shards 1→8 rps spread (best−worst)/best').status, 'missing')
})

test('target table shows status and measured value', () => {
  const table = targetTable(computeTargets(fullScenarios(), { ms: 800, links: 1_000_000 }))
  assert.match(table, /\| hot redirects vs ceiling \| ≥ 0\.9× \| 0\.95× \| met \|/)
  assert.match(table, /\| batch import \| ≥ 100,000 links\/s \| 120,000 links\/s \| met \|/)
  assert.match(table, /\| shards 1→8 rps spread \(best−worst\)\/best \| ≤ 15 % \| 20\.0 % \| missed \|/)
})

test('markdown report lists scenarios and notes', () => {
  const markdown = renderMarkdown({
    machine: { cpus: 2, cpuModel: 'test CPU', memoryBytes: 2 ** 30, kernel: '6.1', node: 'v20', loadAverage: [0.5, 0.4, 0.3], tools: {} },
    startedAt: '2026-01-01T00:00:00.000Z',
    quick: true,
    tool: { redirects: 'h2load' },
    settings: {},
    scenarios: { 'redirect-hot': buildScenario({ product: { server: 'product', tool: 'h2load', rps: 1234, errors: 5 } }) },
    targets: [],
    notes: ['reference failed']
  })
  assert.match(markdown, /quick run/)
  assert.match(markdown, /load average at start 0\.5, 0\.4, 0\.3/)
  assert.match(markdown, /\| redirect-hot \| h2load \| 1,234 \| 5 \|/)
  assert.match(markdown, /- reference failed/)
})

test('saturation names the busy side', () => {
  const usage = (cores: number, busiest: number): { cpuSeconds: number, wallSeconds: number, cores: number, busiestThreadCores: number, busiestThreadName: string } =>
    ({ cpuSeconds: cores, wallSeconds: 1, cores, busiestThreadCores: busiest, busiestThreadName: 'front' })
  assert.match(describeSaturation(usage(0.8, 0.5), usage(0.95, 0.95), 2), /^client thread at 1 core/)
  assert.match(describeSaturation(usage(1.2, 0.97), usage(0.3, 0.3), 2), /server thread front at 1 core/)
  assert.match(describeSaturation(usage(1.2, 0.6), usage(0.7, 0.7), 2), /all 2 cores busy/)
  assert.match(describeSaturation(usage(0.5, 0.5), usage(0.3, 0.3), 2), /^no core saturated/)
  assert.match(describeSaturation(usage(0.5, 0.5), usage(0.3, 0.3), 2, 1.2), /^all 2 cores busy.*other processes 1\.20/)
})
