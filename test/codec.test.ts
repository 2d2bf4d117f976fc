import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'

import { BASE62_ALPHABET, decodeBase62, encodeBase62 } from '../src/codec/base62.ts'
import { CodeCodec, MAX_CODE_LENGTH, MAX_SLOTS, MIN_CODE_LENGTH } from '../src/codec/code.ts'
import { CodePermutation } from '../src/codec/permutation.ts'
import { CodeSpaceExhaustedError } from '../src/errors.ts'

const KEY = Uint8Array.from({ length: 32 }, (_, index) => index)
const SLOTS = 4096
const SEVEN_LIMIT = 62 ** 7
const EIGHT_LIMIT = 62 ** 8

function randomBelow (limit: number): number {
  return Math.floor(Math.random() * limit)
}

/** Base62 text of a BigInt, written independently of the codec under test. */
function bigIntToBase62 (value: bigint): string {
  let text = ''
  let rest = value
  do {
    text = BASE62_ALPHABET[Number(rest % 62n)]! + text
    rest /= 62n
  } while (rest > 0n)
  return text
}

describe('base62', () => {
  test('encodes known values', () => {
    assert.equal(encodeBase62(0, 7), '0000000')
    assert.equal(encodeBase62(61, 1), 'z')
    assert.equal(encodeBase62(62, 2), '10')
    assert.equal(encodeBase62(62 ** 7 - 1, 7), 'zzzzzzz')
    assert.equal(encodeBase62(10 * 62 + 36, 3), '0Aa')
  })

  test('round trip of random values', () => {
    for (let index = 0; index < 20_000; index++) {
      const n = randomBelow(EIGHT_LIMIT)
      const text = encodeBase62(n, 8)
      assert.equal(text.length, 8)
      assert.equal(decodeBase62(text), n, `n = ${n}, text = ${text}`)
      assert.equal(text, bigIntToBase62(BigInt(n)).padStart(8, '0'), `n = ${n}`)
    }
  })

  test('round trip of MAX_SAFE_INTEGER', () => {
    const text = encodeBase62(Number.MAX_SAFE_INTEGER, 9)
    assert.equal(text, bigIntToBase62(BigInt(Number.MAX_SAFE_INTEGER)))
    assert.equal(decodeBase62(text), Number.MAX_SAFE_INTEGER)
  })

  test('pads to the requested length', () => {
    assert.equal(encodeBase62(1, 8), '00000001')
    assert.equal(encodeBase62(62, 12), '000000000010')
    assert.equal(decodeBase62('00000001'), 1)
  })

  test('encode rejects values that do not fit', () => {
    assert.throws(() => encodeBase62(62 ** 7, 7), { name: 'RangeError', message: /below 62\^7 = 3521614606208.*received 3521614606208/ })
    assert.throws(() => encodeBase62(62, 1), { name: 'RangeError', message: /received 62$/ })
  })

  test('encode rejects invalid numbers', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => encodeBase62(n, 9), { name: 'RangeError', message: /safe non-negative integer/ }, `n = ${n}`)
    }
    assert.throws(() => encodeBase62(1, 0), { name: 'RangeError', message: /length must be a positive integer, received 0/ })
  })

  test('decode returns -1 for invalid characters', () => {
    for (const text of ['', 'abc-def', 'abc_def', 'abc def', 'abc.def', 'abcdé', 'ab\u{1F600}', '+1', 'ab\u0000']) {
      assert.equal(decodeBase62(text), -1, JSON.stringify(text))
    }
  })

  test('decode returns -1 above MAX_SAFE_INTEGER', () => {
    const justAbove = bigIntToBase62(BigInt(Number.MAX_SAFE_INTEGER) + 1n)
    assert.equal(decodeBase62(justAbove), -1)
    assert.equal(decodeBase62('zzzzzzzzzz'), -1)
    assert.equal(decodeBase62('z'.repeat(40)), -1)
    assert.equal(decodeBase62(`000${bigIntToBase62(BigInt(Number.MAX_SAFE_INTEGER))}`), Number.MAX_SAFE_INTEGER)
  })
})

describe('CodePermutation', () => {
  const permutation = new CodePermutation(KEY)

  test('rejects a key that is not 32 bytes', () => {
    assert.throws(() => new CodePermutation(new Uint8Array(31)), { name: 'RangeError', message: /32 bytes.*received 31 bytes/ })
    assert.throws(() => new CodePermutation(new Uint8Array(0)), { name: 'RangeError', message: /received 0 bytes/ })
    assert.throws(() => new CodePermutation(new Uint8Array(64)), { name: 'RangeError', message: /received 64 bytes/ })
  })

  for (const length of [7, 8] as const) {
    const domainSize = 62 ** length

    test(`invert undoes permute, length ${length}`, () => {
      for (let index = 0; index < 50_000; index++) {
        const n = randomBelow(domainSize)
        const x = permutation.permute(n, length)
        assert.ok(x < domainSize, `permute(${n}) = ${x} is outside the domain`)
        assert.equal(permutation.invert(x, length), n, `n = ${n}`)
      }
    })

    test(`permute undoes invert, length ${length}`, () => {
      for (let index = 0; index < 10_000; index++) {
        const x = randomBelow(domainSize)
        assert.equal(permutation.permute(permutation.invert(x, length), length), x, `x = ${x}`)
      }
    })

    test(`domain edges round trip, length ${length}`, () => {
      for (const n of [0, 1, domainSize - 2, domainSize - 1]) {
        const x = permutation.permute(n, length)
        assert.ok(x >= 0, `permute(${n}) = ${x}`)
        assert.ok(x < domainSize, `permute(${n}) = ${x}`)
        assert.equal(permutation.invert(x, length), n)
      }
    })

    test(`no collisions over 1,000,000 consecutive n, length ${length}`, () => {
      const count = 1_000_000
      // Length 8 starts near the top, where cycle walking runs most often.
      const start = length === 7 ? 0 : domainSize - count
      const outputs = new Float64Array(count)
      for (let index = 0; index < count; index++) {
        outputs[index] = permutation.permute(start + index, length)
      }

      outputs.sort()
      assert.ok(outputs[0]! >= 0, `smallest output ${outputs[0]}`)
      assert.ok(outputs[count - 1]! < domainSize, `largest output ${outputs[count - 1]}`)
      let duplicates = 0
      for (let index = 1; index < count; index++) {
        if (outputs[index] === outputs[index - 1]) duplicates++
      }
      assert.equal(duplicates, 0)
    })

    test(`rejects values outside the domain, length ${length}`, () => {
      for (const value of [-1, domainSize, 0.5, Number.NaN]) {
        assert.throws(() => permutation.permute(value, length), { name: 'RangeError', message: /n must be an integer/ }, `n = ${value}`)
        assert.throws(() => permutation.invert(value, length), { name: 'RangeError', message: /x must be an integer/ }, `x = ${value}`)
      }
    })
  }

  test('scatters consecutive n', () => {
    // Adjacent inputs should land far apart, not in neighbouring outputs.
    let close = 0
    for (let n = 0; n < 10_000; n++) {
      const distance = Math.abs(permutation.permute(n + 1, 7) - permutation.permute(n, 7))
      if (distance < SEVEN_LIMIT / 1000) close++
    }
    assert.ok(close < 100, `${close} of 10000 neighbouring pairs landed close together`)
  })

  test('rejects lengths other than 7 and 8', () => {
    assert.throws(() => permutation.permute(0, 6 as 7), { name: 'RangeError', message: /length must be 7 or 8, received 6/ })
    assert.throws(() => permutation.invert(0, 9 as 8), { name: 'RangeError', message: /length must be 7 or 8, received 9/ })
  })

  test('same key gives the same permutation', () => {
    const again = new CodePermutation(Uint8Array.from(KEY))
    for (let index = 0; index < 1000; index++) {
      const n = randomBelow(SEVEN_LIMIT)
      assert.equal(again.permute(n, 7), permutation.permute(n, 7))
    }
  })

  test('different keys give different permutations', () => {
    const other = new CodePermutation(randomBytes(32))
    const oneBitOff = Uint8Array.from(KEY)
    oneBitOff[31]! ^= 1
    const nearby = new CodePermutation(oneBitOff)

    for (const [name, candidate] of [['random key', other], ['key one bit off', nearby]] as const) {
      for (const length of [7, 8] as const) {
        let equal = 0
        for (let n = 0; n < 1000; n++) {
          if (candidate.permute(n, length) === permutation.permute(n, length)) equal++
        }
        assert.ok(equal <= 1, `${name}, length ${length}: ${equal} of 1000 outputs equal`)
      }
    }
  })

  test('lengths use independent permutations', () => {
    let equal = 0
    for (let n = 0; n < 1000; n++) {
      if (permutation.permute(n, 7) === permutation.permute(n, 8)) equal++
    }
    assert.ok(equal <= 1, `${equal} of 1000 outputs equal`)
  })

  test('mapping stays fixed for a known key', () => {
    // Issued codes depend on this mapping: a change to rounds, round function
    // or key derivation would send every existing code to the wrong link.
    assert.equal(permutation.permute(0, 7), 1846347406744)
    assert.equal(permutation.permute(1, 7), 980893715045)
    assert.equal(permutation.permute(SEVEN_LIMIT - 1, 7), 2164559435223)
    assert.equal(permutation.permute(0, 8), 103959645461535)
    assert.equal(permutation.permute(EIGHT_LIMIT - 1, 8), 114077051264505)
  })
})

describe('CodeCodec', () => {
  const codec = new CodeCodec({ key: KEY, slots: SLOTS })

  test('exports the code length bounds', () => {
    assert.equal(MIN_CODE_LENGTH, 7)
    assert.equal(MAX_CODE_LENGTH, 8)
  })

  test('mint is unique over 1,000,000 IDs', () => {
    const codes = new Set<string>()
    let minted = 0
    const add = (seq: number, slot: number): void => {
      codes.add(codec.mint(seq, slot))
      minted++
    }

    // As shards mint: each seq with one slot.
    for (let seq = 0; seq < 400_000; seq++) add(seq, (seq * 7919) % SLOTS)
    // Every slot for a block of seqs, so neighbouring n differ only in the slot.
    for (let seq = 400_000; seq < 400_100; seq++) {
      for (let slot = 0; slot < SLOTS; slot++) add(seq, slot)
    }
    // Both sides of the 7 to 8 character boundary.
    const boundarySeq = Math.floor(SEVEN_LIMIT / SLOTS)
    for (let seq = boundarySeq - 100; seq < boundarySeq + 100; seq++) {
      for (let slot = 0; slot < 1000; slot++) add(seq, slot)
    }

    assert.ok(minted >= 1_000_000, `minted ${minted}`)
    assert.equal(codes.size, minted)
  })

  test('codes are 7 characters, then 8 past 62^7', () => {
    assert.equal(codec.mint(0, 0).length, 7)

    const seq = Math.floor(SEVEN_LIMIT / SLOTS)
    const firstEightSlot = SEVEN_LIMIT % SLOTS
    assert.ok(firstEightSlot > 0, 'the boundary must fall inside a seq for this test')
    assert.equal(codec.numberOfCode(codec.mint(seq, firstEightSlot - 1)), SEVEN_LIMIT - 1)
    assert.equal(codec.mint(seq, firstEightSlot - 1).length, 7)
    assert.equal(codec.mint(seq, firstEightSlot).length, 8)
    assert.equal(codec.mint(seq + 1, 0).length, 8)
  })

  test('codes consist of base62 characters', () => {
    for (let seq = 0; seq < 1000; seq++) {
      const code = codec.mint(seq, seq % SLOTS)
      for (const char of code) assert.ok(BASE62_ALPHABET.includes(char), `code ${code}`)
    }
  })

  for (const [name, firstSeq] of [['7 characters', 1000], ['8 characters', 2 * Math.ceil(SEVEN_LIMIT / SLOTS)]] as const) {
    test(`consecutive seqs show no pattern, ${name}`, () => {
      const pairs = 2000
      let sharedPrefixes = 0
      let differingPositions = 0
      let nearlyEqual = 0

      for (let seq = firstSeq; seq < firstSeq + pairs; seq++) {
        const a = codec.mint(seq, 17)
        const b = codec.mint(seq + 1, 17)
        if (a.slice(0, 3) === b.slice(0, 3)) sharedPrefixes++

        let differing = 0
        for (let position = 0; position < a.length; position++) {
          if (a[position] !== b[position]) differing++
        }
        differingPositions += differing
        if (differing < a.length - 3) nearlyEqual++
      }

      // Independent random codes share a 3-character prefix with p = 62^-3
      // and differ in 61/62 of positions; these bounds leave a wide margin.
      assert.ok(sharedPrefixes <= 2, `${sharedPrefixes} of ${pairs} pairs share a 3-character prefix`)
      const codeLength = codec.mint(firstSeq, 17).length
      assert.ok(differingPositions / pairs > codeLength - 1, `pairs differ in ${differingPositions / pairs} positions on average`)
      assert.ok(nearlyEqual <= pairs / 100, `${nearlyEqual} of ${pairs} pairs match in 4 or more positions`)
    })
  }

  test('numberOfCode recovers seq * slots + slot', () => {
    const samples: Array<[number, number]> = [[0, 0], [0, SLOTS - 1], [Math.floor((EIGHT_LIMIT - 1) / SLOTS), (EIGHT_LIMIT - 1) % SLOTS]]
    for (let index = 0; index < 20_000; index++) {
      samples.push([randomBelow(Math.floor(EIGHT_LIMIT / SLOTS)), randomBelow(SLOTS)])
    }
    for (const [seq, slot] of samples) {
      const code = codec.mint(seq, slot)
      assert.equal(codec.numberOfCode(code), seq * SLOTS + slot, `seq ${seq}, slot ${slot}, code ${code}`)
    }
  })

  test('numberOfCode returns -1 for non-codes', () => {
    for (const text of ['', 'abcdef', 'abcdefghi', 'abc-def', 'abc_def', 'abcdef_', 'abcdéfg', 'abc def']) {
      assert.equal(codec.numberOfCode(text), -1, JSON.stringify(text))
    }
  })

  test('numberOfCode accepts any base62 text of 7 or 8 characters', () => {
    assert.ok(codec.numberOfCode('0000000') >= 0)
    assert.ok(codec.numberOfCode('zzzzzzzz') >= 0)
    assert.ok(codec.numberOfCode('zzzzzzzz') < EIGHT_LIMIT)
  })

  test('mint throws when the code space is exhausted', () => {
    const lastSeq = Math.floor((EIGHT_LIMIT - 1) / SLOTS)
    const lastSlot = (EIGHT_LIMIT - 1) % SLOTS
    assert.equal(codec.mint(lastSeq, lastSlot).length, 8)

    const exhausted = { name: 'CodeSpaceExhaustedError', code: 'CODE_SPACE_EXHAUSTED', status: 503 }
    assert.throws(() => codec.mint(lastSeq, lastSlot + 1), exhausted)
    assert.throws(() => codec.mint(lastSeq + 1, 0), exhausted)
    assert.throws(() => codec.mint(Number.MAX_SAFE_INTEGER, SLOTS - 1), CodeSpaceExhaustedError)
  })

  test('mint rejects invalid seq and slot', () => {
    for (const seq of [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      assert.throws(() => codec.mint(seq, 0), { name: 'RangeError', message: /seq must be a safe non-negative integer/ }, `seq = ${seq}`)
    }
    for (const slot of [-1, SLOTS, 0.5, Number.NaN]) {
      assert.throws(() => codec.mint(0, slot), { name: 'RangeError', message: /slot must be an integer from 0 to 4095/ }, `slot = ${slot}`)
    }
  })

  test('rejects invalid slot counts and keys', () => {
    for (const slots of [0, -1, 1.5, MAX_SLOTS + 1, Number.NaN]) {
      assert.throws(() => new CodeCodec({ key: KEY, slots }), { name: 'RangeError', message: /slots must be an integer from 1 to 65536/ }, `slots = ${slots}`)
    }
    assert.throws(() => new CodeCodec({ key: new Uint8Array(16), slots: SLOTS }), { name: 'RangeError', message: /received 16 bytes/ })
  })

  test('works with one slot', () => {
    const single = new CodeCodec({ key: KEY, slots: 1 })
    for (let seq = 0; seq < 1000; seq++) assert.equal(single.numberOfCode(single.mint(seq, 0)), seq)
  })
})
