import { lstatSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Returns the bytes allocated on disk under `path`, as `du -s --block-size=1`
 * counts them (512-byte blocks, so sparse files such as a preallocated LMDB map
 * count only the pages written).
 */
export function diskUsageBytes (path: string): number {
  const stat = lstatSync(path)
  if (!stat.isDirectory()) return stat.blocks * 512
  let total = stat.blocks * 512
  for (const entry of readdirSync(path)) total += diskUsageBytes(join(path, entry))
  return total
}
