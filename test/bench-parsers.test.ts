import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parseAutocannonResult } from '../bench/lib/autocannon.ts'
import { h2loadArgs, parseH2loadLog, parseH2loadOutput } from '../bench/lib/h2load.ts'
import { listeningPort } from '../bench/lib/servers.ts'
import { medianItem, parseDurationMs, percentile } from '../bench/lib/stats.ts'
import { parseWrkOutput, wrkArgs } from '../bench/lib/wrk.ts'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/bench/${name}`, import.meta.url), 'utf8')

test('h2load summary parsed from a real run', () => {
  const summary = parseH2loadOutput(fixture('h2load-ceiling.txt'))
  assert.equal(summary.rps, 63760.5)
  assert.equal(summary.requests, 127521)
  assert.equal(summary.succeeded, 127521)
  assert.equal(summary.failed, 0)
  assert.equal(summary.status3xx, 127521)
  assert.equal(summary.status2xx, 0)
  assert.equal(summary.status5xx, 0)
})

test('h2load output without summary rejected', () => {
  assert.throws(() => parseH2loadOutput('starting benchmark...\nNo protocol negotiated. Aborted\n'), /no summary/)
})

test('h2load log percentiles from durations', () => {
  const latency = parseH2loadLog(fixture('h2load-log.tsv'))
  assert.equal(latency.count, 200)
  const durations = fixture('h2load-log.tsv').trim().split('\n').map((line) => Number(line.split('\t')[2]) / 1000).sort((a, b) => a - b)
  assert.equal(latency.p50Ms, durations[99])
  assert.equal(latency.p99Ms, durations[197])
  assert.equal(latency.maxMs, durations[199])
})

test('h2load log with a partial last line', () => {
  const latency = parseH2loadLog('1\t302\t1000\n2\t302\t3000\n3\t302\t2000\n4\t30')
  assert.equal(latency.count, 3)
  assert.equal(latency.p50Ms, 2)
  assert.equal(latency.maxMs, 3)
})

test('h2load arguments carry duration', () => {
  const args = h2loadArgs({ uriFile: 'u', logFile: 'l', connections: 64, threads: 1, durationSeconds: 1.5, warmupSeconds: 0.5 })
  assert.deepEqual(args.slice(0, 1), ['--h1'])
  assert.equal(args[args.indexOf('-D') + 1], '1500ms')
  assert.equal(args[args.indexOf('--warm-up-time') + 1], '500ms')
  assert.equal(args.includes('--rps'), false)
  assert.equal(args[args.indexOf('-i') + 1], 'u')
})

test('wrk report of a redirect run', () => {
  const summary = parseWrkOutput(fixture('wrk-ceiling.txt'))
  assert.equal(summary.rps, 79339.22)
  assert.equal(summary.requests, 159159)
  assert.equal(summary.durationSeconds, 2.01)
  assert.equal(summary.p50Ms, 0.355)
  assert.equal(summary.p90Ms, 1.07)
  assert.equal(summary.p99Ms, 3.05)
  assert.equal(summary.maxMs, 9.01)
  assert.equal(summary.non2xx3xx, 0)
})

test('wrk percentiles in seconds with trailing space', () => {
  const summary = parseWrkOutput(fixture('wrk-reference-create.txt'))
  assert.equal(summary.p99Ms, 1310)
  assert.equal(summary.p50Ms, 38.49)
  assert.equal(summary.maxMs, 1620)
  assert.equal(summary.requests, 2614)
})

test('wrk error counts', () => {
  const text = fixture('wrk-ceiling.txt').replace('Requests/sec', '  Socket errors: connect 1, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec')
  const summary = parseWrkOutput(text)
  assert.equal(summary.socketErrors, 6)
  assert.equal(summary.non2xx3xx, 7)
})

test('wrk output without summary rejected', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /no summary/)
})

test('wrk arguments pass script arguments last', () => {
  const args = wrkArgs({ url: 'http://127.0.0.1:1/', connections: 64, threads: 1, durationSeconds: 1.5, script: 'create.lua', scriptArgs: ['tag'] })
  assert.equal(args[args.indexOf('-d') + 1], '2s')
  assert.ok((args[args.indexOf('-s') + 1] as string).endsWith('bench/lua/create.lua'))
  assert.deepEqual(args.slice(-3), ['http://127.0.0.1:1/', '--', 'tag'])
})

test('autocannon result from a real run', () => {
  const summary = parseAutocannonResult(fixture('autocannon-ceiling.json'))
  assert.equal(summary.requests, 28935)
  assert.equal(summary.rps, 28935 / 2.02)
  assert.equal(summary.p99Ms, 3)
  assert.equal(summary.errors, 0)
})

test('autocannon output without result rejected', () => {
  assert.throws(() => parseAutocannonResult('Error: connect ECONNREFUSED\n'), /no result/)
})

test('duration units', () => {
  assert.equal(parseDurationMs('355.00us'), 0.355)
  assert.equal(parseDurationMs('1.07ms'), 1.07)
  assert.equal(parseDurationMs('1.31s'), 1310)
  assert.equal(parseDurationMs('2m'), 120_000)
  assert.equal(parseDurationMs('fast'), undefined)
})

test('percentile by nearest rank', () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
  assert.equal(percentile(values, 50), 5)
  assert.equal(percentile(values, 99), 10)
  assert.equal(percentile(values, 0), 1)
  assert.equal(percentile([], 50), undefined)
})

test('listening line gives the port', () => {
  assert.equal(listeningPort('{"level":30,"port":46553,"host":"127.0.0.1","msg":"listening"}'), 46553)
  assert.equal(listeningPort('{"level":30,"config":{"port":0},"msg":"starting"}'), undefined)
  assert.equal(listeningPort('{"msg":"listening","port":"80"}'), undefined)
  assert.equal(listeningPort('listening on 80'), undefined)
})

test('median item of odd and even counts', () => {
  const runs = [{ rps: 90, p99Ms: 3 }, { rps: 110, p99Ms: 1 }, { rps: 100, p99Ms: 2 }]
  assert.deepEqual(medianItem(runs, (run) => run.rps), { rps: 100, p99Ms: 2 })
  assert.deepEqual(medianItem(runs.slice(0, 2), (run) => run.rps), { rps: 90, p99Ms: 3 })
  assert.equal(medianItem([], (run: { rps: number }) => run.rps), undefined)
  assert.deepEqual(runs.map((run) => run.rps), [90, 110, 100], 'the input keeps its order')
})
