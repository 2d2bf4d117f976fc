/** Micro benchmarks of the redirect path's pure functions: code minting and decoding, routing, target normalization. */
import { randomBytes } from 'node:crypto'
import { Bench } from 'tinybench'
import { CodeCodec } from '../../src/codec/code.ts'
import { normalizeTarget } from '../../src/links/target.ts'
import { Router } from '../../src/routing/router.ts'
import { collect, type MicroResult } from './tasks.ts'

const SLOTS = 4096
const SHARDS = 4

export async function benchCodec (timeMs: number): Promise<MicroResult[]> {
  const codec = new CodeCodec({ key: randomBytes(32), slots: SLOTS })
  const router = new Router({ codec, slots: SLOTS, shards: SHARDS })
  const codes = Array.from({ length: 1024 }, (_, i) => codec.mint(1000 + i * 7919, i % SLOTS))
  const rules = { maxUrlLength: 2048, allowedSchemes: ['http', 'https'], baseUrl: new URL('http://localhost:8080/') }
  const targets = Array.from({ length: 1024 }, (_, i) => `https://Example.com/docs/${i}/../page.html?q=${i}#top`)

  let seq = 0
  let i = 0
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(timeMs, 100) })
  bench
    .add('mint code', () => { codec.mint(seq++, seq % SLOTS) })
    .add('decode code (numberOfCode)', () => { codec.numberOfCode(codes[i++ & 1023] as string) })
    .add('route code (shardOfCode)', () => { router.shardOfCode(codes[i++ & 1023] as string) })
    .add('normalize target', () => { normalizeTarget(targets[i++ & 1023], rules) })
  await bench.run()
  return collect('codec', bench)
}
