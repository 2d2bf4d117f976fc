/**
 * A real full disk: the service runs on a 16 MiB tmpfs that a filler file
 * then fills up. Creates must fail with 507 (or 503 once the breaker
 * opens) and Retry-After, redirects must keep working, the process must
 * stay up, and creates must work again once space is freed.
 *
 * Mounting a tmpfs needs root (CAP_SYS_ADMIN); elsewhere the test is
 * skipped with the reason.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { postJson, resolveCode, spawnServer, type ChildServer } from './helpers/server.ts'

const TMPFS_SIZE = '16m'

const mountDir = mkdtempSync(join(tmpdir(), 'shortener-disk-full-'))
const skipReason = mountTmpfs()
let server: ChildServer | undefined

/** Mounts a small tmpfs on `mountDir`; returns why it could not, or undefined. */
function mountTmpfs (): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root'
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mountDir], { stdio: 'pipe' })
    return undefined
  } catch (error) {
    return `mount -t tmpfs failed: ${error instanceof Error ? error.message : String(error)}`
  }
}

after(async () => {
  if (server !== undefined && server.process.exitCode === null) {
    server.process.kill('SIGKILL')
    await server.exited
  }
  if (skipReason === undefined) execFileSync('umount', [mountDir])
  rmSync(mountDir, { recursive: true, force: true })
})

/** Writes zeros to `path` until the file system has no space left. */
function fillDisk (path: string): number {
  const fd = openSync(path, 'w')
  let written = 0
  try {
    for (const chunkBytes of [1 << 20, 4096, 512]) {
      const chunk = Buffer.alloc(chunkBytes)
      for (;;) {
        try {
          written += writeSync(fd, chunk)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
          break
        }
      }
    }
  } finally {
    closeSync(fd)
  }
  return written
}

test('full disk fails creates, not the service', { skip: skipReason, timeout: 60_000 }, async (t) => {
  server = await spawnServer(['--data-dir', join(mountDir, 'data'), '--shards', '2', '--breaker.open-ms', '500'])
  const running = server

  // Twenty links reach both shards, so both have leased their IDs already.
  const stored: Array<{ code: string, url: string }> = []
  for (let i = 0; i < 20; i++) {
    const url = `https://example.com/disk/before/${i}`
    const created = await postJson(`${running.url}/api/v1/links`, { url })
    assert.equal(created.status, 201)
    stored.push({ code: created.body.code, url })
  }

  const filler = join(mountDir, 'filler')
  const fillerBytes = fillDisk(filler)
  t.diagnostic(`filler file took the remaining ${fillerBytes} bytes`)

  // LMDB first reuses free pages inside its file, so some creates may still
  // succeed; they must be stored like any other.
  const statuses = new Map<string, number>()
  let failures = 0
  for (let i = 0; i < 300 && failures < 10; i++) {
    const url = `https://example.com/disk/full/${i}`
    const created = await postJson(`${running.url}/api/v1/links`, { url })
    const key = created.status === 201 ? '201' : `${created.status} ${created.body?.code}`
    if (created.status !== 201 && !statuses.has(key)) t.diagnostic(`first ${key}: ${created.body?.detail}`)
    statuses.set(key, (statuses.get(key) ?? 0) + 1)
    if (created.status === 201) {
      stored.push({ code: created.body.code, url })
      continue
    }
    failures++
    assert.ok(created.status === 507 || created.status === 503, `create on a full disk: ${created.status} ${JSON.stringify(created.body)}`)
    assert.ok(Number(created.headers.get('retry-after')) >= 1, 'Retry-After is set')
  }
  t.diagnostic(`creates on the full disk: ${JSON.stringify(Object.fromEntries(statuses))}`)
  assert.ok(statuses.has('507 STORAGE_FULL'), 'a full disk is reported as STORAGE_FULL')

  const batchUrls = ['https://example.com/disk/full/b1', 'https://example.com/disk/full/b2']
  const batch = await postJson(`${running.url}/api/v1/links/batch`, { links: batchUrls.map((url) => ({ url })) })
  assert.equal(batch.status, 200)
  batch.body.results.forEach((item: any, k: number) => {
    if (item.created === true) stored.push({ code: item.code, url: batchUrls[k] as string })
    else assert.ok(item.error?.status >= 500, `batch item on a full disk: ${JSON.stringify(item)}`)
  })

  for (const { code, url } of stored) {
    const resolved = await resolveCode(running.url, code)
    assert.equal(resolved.status, 302, 'redirects keep working on a full disk')
    assert.equal(resolved.location, url)
  }
  assert.equal(running.process.exitCode, null, 'the process is still running')
  const health = await fetch(`${running.url}/healthz`)
  await health.arrayBuffer()
  assert.equal(health.status, 200)

  rmSync(filler)
  let recovered = false
  for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
    const created = await postJson(`${running.url}/api/v1/links`, { url: `https://example.com/disk/after/${attempt}` })
    recovered = created.status === 201
    if (!recovered) await sleep(200)
  }
  assert.ok(recovered, 'creates work again once space is freed')
  const unhandled = running.lines.filter((line) => line.includes('unhandled rejection')).length
  t.diagnostic(`unhandled rejections logged by the shard workers: ${unhandled}`)
  assert.ok(!running.lines.some((line) => line.includes('"level":60')), 'nothing was logged as fatal')
})
