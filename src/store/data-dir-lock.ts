/**
 * One process at a time per data directory. LMDB itself allows several
 * processes on one file, but two services on the same data directory would
 * each run a writer per shard and break the actor rule, so the service (and
 * the offline reshard command) takes this lock first.
 *
 * The lock is a file holding the owner's pid. A lock left by a process that
 * no longer exists (after SIGKILL or a crash) is taken over.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {
  constructor (dataDir: string, pid: number) {
    super(`Data directory ${dataDir} is in use by process ${pid}; stop it first or choose another --data-dir`)
    this.name = 'DataDirLockedError'
  }
}

export class DataDirLock {
  readonly path: string

  private constructor (path: string) {
    this.path = path
  }

  static acquire (dataDir: string): DataDirLock {
    const path = join(dataDir, 'LOCK')
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx')
        writeSync(fd, String(process.pid))
        closeSync(fd)
        return new DataDirLock(path)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const owner = readOwner(path)
        if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw new DataDirLockedError(dataDir, owner)
        rmSync(path, { force: true })
      }
    }
    throw new Error(`Failed to take the lock ${path}; another process keeps creating it`)
  }

  release (): void {
    rmSync(this.path, { force: true })
  }
}

function readOwner (path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
