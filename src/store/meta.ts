/**
 * The meta store: deployment constants and range leases, in `meta.mdb` under
 * the data directory.
 *
 * Constants (slot count, shard count of the slot map, permutation key) are
 * written at first start and checked at every later start, because a
 * different value would route existing codes to the wrong shard.
 *
 * A range lease hands a shard `size` consecutive sequence numbers. The grant
 * is committed with a synchronous flush before the shard may use it, so no
 * crash can hand out the same sequence number twice. A crash only leaves the
 * unused rest of a lease as a gap. Threads of one process share this
 * environment, and LMDB's single writer lock orders grants from all shards.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { open, type RootDatabase } from 'lmdb'

const KEY_SLOTS = 'slots'
const KEY_SHARDS = 'shards'
const KEY_PERMUTATION = 'permutationKey'
const KEY_NEXT_SEQ = 'nextSeq'

export interface DeploymentConstants {
  slots: number
  shards: number
  permutationKey: Uint8Array
}

export class DeploymentMismatchError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DeploymentMismatchError'
  }
}

export function metaStorePath (dataDir: string): string {
  return join(dataDir, 'meta.mdb')
}

export class MetaStore {
  #root: RootDatabase<unknown, string>

  constructor (dataDir: string) {
    mkdirSync(dataDir, { recursive: true })
    // Without overlapping sync, a commit returns only after fsync: a lease
    // is durable by the time its promise resolves.
    this.#root = open<unknown, string>({ path: metaStorePath(dataDir), overlappingSync: false })
  }

  /**
   * Stores the constants at first start; afterwards returns the stored ones,
   * failing when the requested slot or shard count differs from them.
   */
  loadConstants (requested: { slots: number, shards: number }): DeploymentConstants {
    return this.#root.transactionSync(() => {
      const slots = this.#root.get(KEY_SLOTS) as number | undefined
      if (slots === undefined) {
        const permutationKey = randomBytes(32)
        this.#root.putSync(KEY_SLOTS, requested.slots)
        this.#root.putSync(KEY_SHARDS, requested.shards)
        this.#root.putSync(KEY_PERMUTATION, permutationKey.toString('hex'))
        return { ...requested, permutationKey }
      }

      const shards = this.#root.get(KEY_SHARDS) as number
      if (slots !== requested.slots) {
        throw new DeploymentMismatchError(
          `slots is ${requested.slots} but this data directory was created with ${slots}; ` +
          'the slot count is fixed for a deployment, so start with --slots ' + slots)
      }
      if (shards !== requested.shards) {
        throw new DeploymentMismatchError(
          `shards is ${requested.shards} but this data directory holds ${shards} shards; ` +
          `start with --shards ${shards}, or move the slots first with: npm run reshard -- --data-dir DIR --shards ${requested.shards}`)
      }
      const permutationKey = Buffer.from(this.#root.get(KEY_PERMUTATION) as string, 'hex')
      return { slots, shards, permutationKey }
    })
  }

  /** The stored constants, or undefined for a data directory never started. */
  readConstants (): DeploymentConstants | undefined {
    const slots = this.#root.get(KEY_SLOTS) as number | undefined
    if (slots === undefined) return undefined
    const shards = this.#root.get(KEY_SHARDS) as number
    const permutationKey = Buffer.from(this.#root.get(KEY_PERMUTATION) as string, 'hex')
    return { slots, shards, permutationKey }
  }

  /** Records a new shard count after the slots have been moved. */
  async setShardCount (shards: number): Promise<void> {
    await this.#root.put(KEY_SHARDS, shards)
  }

  /** Grants `size` sequence numbers; resolves with the first once the grant is on disk. */
  async leaseRange (size: number): Promise<number> {
    let start = 0
    await this.#root.transaction(() => {
      start = (this.#root.get(KEY_NEXT_SEQ) as number | undefined) ?? 0
      this.#root.putSync(KEY_NEXT_SEQ, start + size)
    })
    return start
  }

  async close (): Promise<void> {
    await this.#root.close()
  }
}
