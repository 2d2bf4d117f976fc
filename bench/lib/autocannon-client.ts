/**
 * Fallback load client for machines without h2load and wrk: autocannon in its
 * own process, so its CPU is sampled apart from the bench. It generates the
 * same request shapes as the wrk scripts. Being JavaScript, it saturates a
 * core long before h2load does, so figures near the top measure the client.
 *
 * Usage: node --import tsx bench/lib/autocannon-client.ts '<json options>'
 * Prints autocannon's result object as one JSON line.
 */
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'
import { mulberry32 } from './random.ts'

export interface AutocannonClientOptions {
  url: string
  connections: number
  durationSeconds: number
  mode: 'get' | 'create' | 'mixed'
  /** File of codes, one a line, for `get` and `mixed`. */
  codeFile?: string
  /** Share of creates in `mixed`, 0..100. */
  createPercent?: number
  runTag: string
  seed: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as AutocannonClientOptions
const paths = options.codeFile === undefined
  ? []
  : readFileSync(options.codeFile, 'utf8').split('\n').filter((line) => line.length > 0).map((code) => `/${code}`)
const random = mulberry32(options.seed)
let counter = 0

function createBody (): string {
  counter++
  return JSON.stringify({ url: `https://example.com/bench/a/${options.runTag}/${counter}` })
}

function nextRequest (request: Record<string, unknown>): Record<string, unknown> {
  const create = options.mode === 'create' ||
    (options.mode === 'mixed' && random() * 100 < (options.createPercent ?? 0))
  if (create) {
    return { ...request, method: 'POST', path: '/api/v1/links', headers: { 'content-type': 'application/json' }, body: createBody() }
  }
  return { ...request, method: 'GET', path: paths[Math.floor(random() * paths.length)] ?? '/' }
}

const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationSeconds,
  requests: [{ setupRequest: nextRequest }]
} as unknown as autocannon.Options)
process.stdout.write(JSON.stringify(result) + '\n')
