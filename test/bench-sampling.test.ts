import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { batchBody, targetUrl } from '../bench/lib/preload.ts'
import { mulberry32, shuffle, ZipfSampler } from '../bench/lib/random.ts'
import { formatUriLines, sampleUniformCodes, sampleZipfCodes, syntheticCodes, writeCodeFile, writeUriFile } from '../bench/lib/uri-file.ts'

function counts (values: readonly (string | number)[]): Map<string | number, number> {
  const map = new Map<string | number, number>()
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1)
  return map
}

test('seeded generator repeats and stays in range', () => {
  const a = mulberry32(7)
  const b = mulberry32(7)
  const c = mulberry32(8)
  const first = Array.from({ length: 100 }, a)
  assert.deepEqual(first, Array.from({ length: 100 }, b))
  assert.notDeepEqual(first, Array.from({ length: 100 }, c))
  for (const x of first) assert.ok(x >= 0 && x < 1, `${x} outside [0, 1)`)
})

test('shuffle keeps every item', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i)
  const shuffled = shuffle([...items], mulberry32(1))
  assert.notDeepEqual(shuffled, items)
  assert.deepEqual([...shuffled].sort((x, y) => x - y), items)
})

test('zipf ranks ordered by frequency', () => {
  const sampler = new ZipfSampler(1000, 1, mulberry32(42))
  const draws = Array.from({ length: 200_000 }, () => sampler.next())
  const frequency = counts(draws)
  const of = (rank: number): number => frequency.get(rank) ?? 0

  assert.ok(of(0) > of(1), `rank 0 (${of(0)}) not above rank 1 (${of(1)})`)
  assert.ok(of(1) > of(2), `rank 1 (${of(1)}) not above rank 2 (${of(2)})`)
  assert.ok(of(2) > of(9), `rank 2 (${of(2)}) not above rank 9 (${of(9)})`)
  assert.ok(of(9) > of(99), `rank 9 (${of(9)}) not above rank 99 (${of(99)})`)
  // With exponent 1 rank 0 draws twice as often as rank 1; a wide band avoids depending on the seed.
  const firstOverSecond = of(0) / of(1)
  assert.ok(firstOverSecond > 1.8, `rank 0 / rank 1 = ${firstOverSecond}`)
  assert.ok(firstOverSecond < 2.2, `rank 0 / rank 1 = ${firstOverSecond}`)
  for (const rank of frequency.keys()) assert.ok(Number(rank) >= 0 && Number(rank) < 1000)
})

test('zipf sampler deterministic with a seed', () => {
  const draw = (seed: number): number[] => {
    const sampler = new ZipfSampler(100, 1.1, mulberry32(seed))
    return Array.from({ length: 500 }, () => sampler.next())
  }
  assert.deepEqual(draw(3), draw(3))
  assert.notDeepEqual(draw(3), draw(4))
})

test('zipf sampler rejects bad parameters', () => {
  assert.throws(() => new ZipfSampler(0, 1, mulberry32(1)), /n must be a positive integer, received 0/)
  assert.throws(() => new ZipfSampler(10, 0, mulberry32(1)), /exponent must be positive, received 0/)
})

test('zipf code sample spreads hot codes over the set', () => {
  const codes = Array.from({ length: 1000 }, (_, i) => `c${i}`)
  const sample = sampleZipfCodes(codes, { count: 50_000, exponent: 1, seed: 9 })
  assert.equal(sample.length, 50_000)
  assert.deepEqual(sample, sampleZipfCodes(codes, { count: 50_000, exponent: 1, seed: 9 }))

  const ranked = [...counts(sample)].sort((a, b) => b[1] - a[1])
  const hottest = ranked[0]?.[0]
  assert.notEqual(hottest, 'c0', 'the most frequent code is the first one created: ranks were not shuffled')
  for (const code of sample) assert.ok(codes.includes(code), `${code} is not a known code`)
})

test('uniform code sample covers the set', () => {
  const codes = Array.from({ length: 100 }, (_, i) => `u${i}`)
  const sample = sampleUniformCodes(codes, 20_000, 5)
  const frequency = counts(sample)
  assert.equal(frequency.size, 100)
  for (const [code, n] of frequency) assert.ok(n > 100 && n < 300, `${code} drawn ${n} times of an expected 200`)
})

test('uri lines use one origin', () => {
  assert.equal(formatUriLines('http://127.0.0.1:8080/', ['abc', 'XYZ1234']), 'http://127.0.0.1:8080/abc\nhttp://127.0.0.1:8080/XYZ1234\n')
  assert.equal(formatUriLines('http://127.0.0.1:8080', ['a']), 'http://127.0.0.1:8080/a\n')
})

test('uri and code files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-test-'))
  try {
    writeUriFile(join(dir, 'uris.txt'), 'http://127.0.0.1:1', ['a', 'b'])
    writeCodeFile(join(dir, 'codes.txt'), ['a', 'b'])
    assert.equal(readFileSync(join(dir, 'uris.txt'), 'utf8'), 'http://127.0.0.1:1/a\nhttp://127.0.0.1:1/b\n')
    assert.equal(readFileSync(join(dir, 'codes.txt'), 'utf8'), 'a\nb\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('synthetic codes distinct base62 of fixed length', () => {
  const codes = syntheticCodes(5000, 7, 1)
  assert.equal(new Set(codes).size, 5000)
  for (const code of codes) assert.match(code, /^[0-9A-Za-z]{7}$/)
  assert.deepEqual(codes, syntheticCodes(5000, 7, 1))
})

test('batch body holds consecutive targets', () => {
  const body = JSON.parse(batchBody('p', 10, 13)) as { links: Array<{ url: string }> }
  assert.deepEqual(body.links.map((l) => l.url), [targetUrl('p', 10), targetUrl('p', 11), targetUrl('p', 12)])
  assert.equal(targetUrl('p', 10), 'https://example.com/bench/p/10')
})
