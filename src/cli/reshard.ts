/**
 * `npm run reshard -- --data-dir DIR --shards N`: moves whole slots between
 * the shard stores of a stopped deployment so that it can start with N
 * shards. Safe to interrupt and run again.
 */
import { parseArgs } from 'node:util'
import { DataDirLockedError } from '../store/data-dir-lock.ts'
import { reshard } from '../store/reshard.ts'

const USAGE = `Usage: npm run reshard -- --data-dir DIR --shards N

Moves the links of a stopped deployment to a new shard count (1 to 256).
Stop the service first; the command refuses a data directory in use.

  --data-dir DIR   data directory of the deployment (default ./data)
  --shards N       new number of shards
  --help           print this text
`

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: './data' },
      shards: { type: 'string' },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const shards = Number(values.shards)
  if (!Number.isInteger(shards) || shards < 1 || shards > 256) {
    process.stderr.write(`--shards must be an integer from 1 to 256, received ${JSON.stringify(values.shards ?? null)}\n\n${USAGE}`)
    return 2
  }

  const result = await reshard({
    dataDir: values['data-dir'],
    shards,
    onProgress: (message) => { process.stdout.write(`${message}\n`) }
  })
  process.stdout.write(`Resharded ${values['data-dir']} from ${result.fromShards} to ${result.toShards} shards: ` +
    `moved ${result.movedLinks} links and ${result.movedIndexEntries} URL index entries\n`)
  return 0
}

try {
  process.exitCode = await main()
} catch (error) {
  process.stderr.write(`Reshard failed: ${error instanceof Error ? error.message : String(error)}\n`)
  // A data directory in use is the caller's to fix, like a bad argument.
  process.exitCode = error instanceof DataDirLockedError ? 2 : 1
}
