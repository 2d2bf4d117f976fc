import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, test } from 'node:test'

import { CodeCodec } from '../src/codec/code.ts'
import { Router, URL_KEY_BYTES, defaultSlotMap, urlKey } from '../src/routing/router.ts'

const KEY = Uint8Array.from({ length: 32 }, (_, index) => 255 - index)
const SLOTS = 4096
const SHARDS = 7

const codec = new CodeCodec({ key: KEY, slots: SLOTS })

function randomBelow (limit: number): number {
  return Math.floor(Math.random() * limit)
}

/** Slot of an alias per the routing rule, computed here without the router. */
function hashedSlot (alias: string, slots: number): number {
  return createHash('sha256').update(alias).digest().readUInt32BE(0) % slots
}

describe('urlKey', () => {
  test('is the first 16 bytes of SHA-256', () => {
    const url = 'https://www.debian.org/doc/'
    const key = urlKey(url)
    assert.equal(key.length, URL_KEY_BYTES)
    assert.deepEqual(key, createHash('sha256').update(url).digest().subarray(0, 16))
  })

  test('hashes the UTF-8 bytes', () => {
    const url = 'https://example.test/straße/日本'
    const expected = createHash('sha256').update(Buffer.from(url, 'utf8')).digest().subarray(0, 16)
    assert.deepEqual(urlKey(url), expected)
  })

  test('differs for different URLs', () => {
    assert.notDeepEqual(urlKey('https://example.test/a'), urlKey('https://example.test/b'))
  })
})

describe('defaultSlotMap', () => {
  test('assigns slot s to shard s % shards', () => {
    const slotMap = defaultSlotMap(SLOTS, SHARDS)
    assert.ok(slotMap instanceof Uint16Array)
    assert.equal(slotMap.length, SLOTS)
    for (let slot = 0; slot < SLOTS; slot++) assert.equal(slotMap[slot], slot % SHARDS)
  })

  test('rejects invalid counts', () => {
    assert.throws(() => defaultSlotMap(0, 1), { name: 'RangeError', message: /slots must be an integer from 1 to 65536, received 0/ })
    assert.throws(() => defaultSlotMap(16, 0), { name: 'RangeError', message: /shards must be an integer from 1 to 16.*received 0/ })
    assert.throws(() => defaultSlotMap(16, 17), { name: 'RangeError', message: /shards must be an integer from 1 to 16.*received 17/ })
    assert.throws(() => defaultSlotMap(16, 2.5), { name: 'RangeError', message: /received 2.5/ })
  })
})

describe('Router', () => {
  const router = new Router({ codec, slots: SLOTS, shards: SHARDS })

  test('exposes slots and shards', () => {
    assert.equal(router.slots, SLOTS)
    assert.equal(router.shards, SHARDS)
    assert.deepEqual(router.slotMap, defaultSlotMap(SLOTS, SHARDS))
  })

  test('generated codes route to the minting slot', () => {
    const samples: Array<[number, number]> = []
    for (let index = 0; index < 20_000; index++) samples.push([randomBelow(1e9), randomBelow(SLOTS)])
    for (let index = 0; index < 5_000; index++) samples.push([randomBelow(Math.floor(62 ** 8 / SLOTS)), randomBelow(SLOTS)])

    for (const [seq, slot] of samples) {
      const code = codec.mint(seq, slot)
      assert.equal(router.slotOfCode(code), slot, `seq ${seq}, slot ${slot}, code ${code}`)
      assert.equal(router.shardOfCode(code), router.shardOfSlot(slot), `seq ${seq}, slot ${slot}, code ${code}`)
    }
  })

  test('generated codes route with an explicit slot map', () => {
    const slotMap = new Uint16Array(SLOTS)
    for (let slot = 0; slot < SLOTS; slot++) slotMap[slot] = (slot * 31 + 5) % 3
    const custom = new Router({ codec, slots: SLOTS, shards: 3, slotMap })

    for (let seq = 0; seq < 5000; seq++) {
      const slot = randomBelow(SLOTS)
      assert.equal(custom.shardOfCode(codec.mint(seq, slot)), slotMap[slot], `seq ${seq}, slot ${slot}`)
    }
  })

  test('URLs route by the URL key', () => {
    for (let index = 0; index < 2000; index++) {
      const url = `https://example.test/page/${index}`
      const slot = urlKey(url).readUInt32BE(0) % SLOTS
      assert.equal(router.slotOfUrlKey(urlKey(url)), slot)
      assert.equal(router.slotOfUrl(url), slot)
      assert.equal(router.shardOfUrl(url), slot % SHARDS)
    }
  })

  test('a code minted in a URL slot shares its shard', () => {
    for (let seq = 0; seq < 2000; seq++) {
      const url = `https://example.test/doc/${seq}`
      const code = codec.mint(seq, router.slotOfUrl(url))
      assert.equal(router.shardOfCode(code), router.shardOfUrl(url), `url ${url}`)
    }
  })

  test('aliases with other characters route by hash', () => {
    const again = new Router({ codec: new CodeCodec({ key: KEY, slots: SLOTS }), slots: SLOTS, shards: SHARDS })
    for (const alias of ['my-link', 'release_notes', 'a-b', 'x_y_z-2024', 'abc-def', 'abcd-ef', 'debian-handbook-2']) {
      const slot = router.slotOfCode(alias)
      assert.equal(slot, hashedSlot(alias, SLOTS), alias)
      assert.equal(again.slotOfCode(alias), slot, `${alias} routes the same in a second router`)
      assert.equal(router.shardOfCode(alias), slot % SHARDS, alias)
    }
  })

  test('base62 aliases of other lengths route by hash', () => {
    for (const alias of ['a', 'docs', 'abcdef', 'abcdefghi', 'DebianHandbook']) {
      assert.equal(router.slotOfCode(alias), hashedSlot(alias, SLOTS), alias)
    }
  })

  test('base62 aliases of 7 or 8 characters route like codes', () => {
    for (const alias of ['Release', 'Debian12', 'zzzzzzz', '00000000']) {
      assert.equal(router.slotOfCode(alias), codec.numberOfCode(alias) % SLOTS, alias)
    }
  })

  test('hashed aliases spread over every slot', () => {
    const small = new Router({ codec: new CodeCodec({ key: KEY, slots: 64 }), slots: 64, shards: 4 })
    const counts = new Array<number>(64).fill(0)
    for (let index = 0; index < 20_000; index++) {
      const slot = small.slotOfCode(`alias-${index}`)
      assert.ok(slot < 64, `slot ${slot}`)
      counts[slot]!++
    }
    assert.equal(counts.reduce((sum, count) => sum + count, 0), 20_000, 'every alias got a slot from 0 to 63')

    // A uniform hash puts 312.5 aliases in each slot, with a standard deviation near 17.5.
    assert.ok(Math.min(...counts) > 200, `fewest aliases in one slot: ${Math.min(...counts)}`)
    assert.ok(Math.max(...counts) < 450, `most aliases in one slot: ${Math.max(...counts)}`)
  })

  test('shardOfSlot rejects slots out of range', () => {
    for (const slot of [-1, SLOTS, 1.5, Number.NaN]) {
      assert.throws(() => router.shardOfSlot(slot), { name: 'RangeError', message: /slot must be an integer from 0 to 4095/ }, `slot ${slot}`)
    }
  })

  test('copies the slot map it receives', () => {
    const slotMap = defaultSlotMap(SLOTS, 2)
    const copied = new Router({ codec, slots: SLOTS, shards: 2, slotMap })
    slotMap.fill(1)
    assert.equal(copied.shardOfSlot(0), 0)

    const exposed = copied.slotMap
    exposed.fill(1)
    assert.equal(copied.shardOfSlot(0), 0)
  })

  test('rejects a slot map of the wrong length', () => {
    assert.throws(() => new Router({ codec, slots: SLOTS, shards: 2, slotMap: new Uint16Array(SLOTS - 1) }),
      { name: 'RangeError', message: /slotMap must have one entry per slot \(4096\), received 4095 entries/ })
  })

  test('rejects a slot map naming a missing shard', () => {
    const slotMap = defaultSlotMap(SLOTS, 2)
    slotMap[100] = 2
    assert.throws(() => new Router({ codec, slots: SLOTS, shards: 2, slotMap }),
      { name: 'RangeError', message: /slot 100 to shard 2.*below 2/ })
  })

  test('rejects a slot map that is not a Uint16Array', () => {
    const slotMap = new Uint32Array(SLOTS) as unknown as Uint16Array
    assert.throws(() => new Router({ codec, slots: SLOTS, shards: 2, slotMap }), { name: 'TypeError', message: /Uint16Array/ })
  })

  test('rejects a codec with another slot count', () => {
    assert.throws(() => new Router({ codec, slots: 1024, shards: 2 }), { name: 'RangeError', message: /slots is 1024 but the codec was built for 4096/ })
  })

  test('rejects invalid shard counts', () => {
    for (const shards of [0, -1, 1.5, SLOTS + 1]) {
      assert.throws(() => new Router({ codec, slots: SLOTS, shards }), { name: 'RangeError', message: /shards must be an integer/ }, `shards ${shards}`)
    }
  })
})
