import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, type Server as NetServer } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { removeDir, startTestServer, tempDataDir } from './helpers/server.ts'

let blocker: NetServer
let port: number
const dataDir = tempDataDir()

before(async () => {
  // A node:net listener does not set SO_REUSEPORT, so uWebSockets.js cannot bind the same port.
  blocker = createServer()
  await new Promise<void>((resolve) => { blocker.listen(0, '127.0.0.1', resolve) })
  port = (blocker.address() as { port: number }).port
})

after(() => {
  blocker.close()
  removeDir(dataDir)
})

test('failed listen releases the data directory', async () => {
  await assert.rejects(startTestServer({ port, dataDir }), /Failed to listen/)
  assert.equal(existsSync(join(dataDir, 'LOCK')), false, 'the lock file is removed')

  const server = await startTestServer({ dataDir })
  try {
    assert.ok(server.port > 0, 'a second start on the same data directory succeeds')
  } finally {
    await server.close()
  }
})

test('port taken by another service is rejected', async () => {
  // uWebSockets.js binds with SO_REUSEPORT unless told otherwise, which
  // would let a second service share the first one's port.
  const first = await startTestServer()
  const secondDir = tempDataDir()
  try {
    await assert.rejects(startTestServer({ port: first.port, dataDir: secondDir }), /Failed to listen/)
  } finally {
    await first.close()
    removeDir(first.config.dataDir)
    removeDir(secondDir)
  }
})
