/**
 * A child-process probe for the durability tests, meant to run under
 * strace: it prints a marker line, does one durable operation, and prints
 * a second marker once that operation resolved. The test then checks that
 * the file was synced between the two markers.
 *
 * Usage: sync-probe.ts lease DIR | sync-probe.ts flush DIR
 */
import { randomBytes } from 'node:crypto'
import { writeSync } from 'node:fs'
import { CodeCodec } from '../../src/codec/code.ts'
import { LmdbLinkStore } from '../../src/store/lmdb.ts'
import { MetaStore } from '../../src/store/meta.ts'
import { KIND_GENERATED } from '../../src/store/types.ts'

const [mode, dir] = process.argv.slice(2)
if (dir === undefined || (mode !== 'lease' && mode !== 'flush')) {
  process.stderr.write('usage: sync-probe.ts lease|flush DIR\n')
  process.exit(2)
}

// writeSync on fd 1, so that each marker is one write() call in the trace.
const mark = (text: string): void => { writeSync(1, `${text}\n`) }

if (mode === 'lease') {
  const meta = new MetaStore(dir)
  mark('PROBE-BEFORE')
  const start = await meta.leaseRange(64)
  mark(`PROBE-RESOLVED ${start}`)
  await meta.close()
} else {
  const codec = new CodeCodec({ key: randomBytes(32), slots: 16 })
  const store = new LmdbLinkStore({ dataDir: dir, shard: 0, codec, mapSizeBytes: 0 })
  mark('PROBE-BEFORE')
  await store.putLink(codec.mint(1, 0), { url: 'https://example.com/probe', createdAt: Date.now(), kind: KIND_GENERATED })
  mark('PROBE-COMMITTED')
  await store.flushed()
  mark('PROBE-RESOLVED')
  await store.close()
}
