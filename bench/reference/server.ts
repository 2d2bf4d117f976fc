/**
 * The reference shortener: the classic design a developer writes first, kept
 * small and honest so the product is compared with something real. One Node
 * process, `node:http`, SQLite through better-sqlite3 (see store.ts), and an
 * in-process LRU cache of code → target for redirects. It serves the subset of
 * the product's API that the bench uses:
 *   POST /api/v1/links        {"url"}            → 201 new, 200 existing
 *   POST /api/v1/links/batch  {"links":[{url}]}  → 200, one transaction
 *   GET  /{code}                                 → 302 Location, 404 unknown
 *   GET  /readyz                                 → 200
 *
 * Usage: node --import tsx bench/reference/server.ts --data-dir DIR
 *        [--port 0] [--host 127.0.0.1] [--synchronous FULL|NORMAL] [--cache-entries N]
 */
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import QuickLRU from 'quick-lru'
import { ReferenceStore, type CreateResult, type Synchronous } from './store.ts'

const MAX_BODY_BYTES = 4 * 1024 * 1024
const MAX_BATCH_LINKS = 1000
const MAX_URL_LENGTH = 2048

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string' },
    synchronous: { type: 'string', default: 'FULL' },
    'cache-entries': { type: 'string', default: '100000' }
  }
})

if (values['data-dir'] === undefined) fail('--data-dir is required')
if (values.synchronous !== 'FULL' && values.synchronous !== 'NORMAL') {
  fail(`--synchronous must be FULL or NORMAL, received ${values.synchronous}`)
}
const cacheEntries = Number(values['cache-entries'])
if (!Number.isInteger(cacheEntries) || cacheEntries < 1) {
  fail(`--cache-entries must be a positive integer, received ${values['cache-entries']}`)
}

mkdirSync(values['data-dir'], { recursive: true })
const store = new ReferenceStore(join(values['data-dir'], 'links.sqlite'), values.synchronous as Synchronous)
const cache = new QuickLRU<string, string>({ maxSize: cacheEntries })
let baseUrl = ''

class RequestError extends Error {
  constructor (readonly status: number, readonly code: string, detail: string) {
    super(detail)
  }
}

const server = createServer((req, res) => {
  route(req, res).catch((error: unknown) => {
    if (error instanceof RequestError) {
      sendJson(res, error.status, { error: { code: error.code, detail: error.message } })
      return
    }
    process.stderr.write(`reference: ${String(error)}\n`)
    sendJson(res, 500, { error: { code: 'INTERNAL', detail: 'internal error' } })
  })
})

async function route (req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url ?? '/'

  if (req.method === 'GET' && path === '/readyz') {
    sendJson(res, 200, { ready: true })
    return
  }
  if (req.method === 'GET') {
    redirect(path.slice(1), res)
    return
  }
  if (req.method === 'POST' && path === '/api/v1/links') {
    const body = await readJson(req)
    const result = store.create(validUrl((body as { url?: unknown } | null)?.url))
    sendJson(res, result.created ? 201 : 200, describe(result))
    return
  }
  if (req.method === 'POST' && path === '/api/v1/links/batch') {
    sendJson(res, 200, { results: createBatch(await readJson(req)) })
    return
  }
  throw new RequestError(404, 'NOT_FOUND', `no route for ${req.method} ${path}`)
}

function redirect (code: string, res: ServerResponse): void {
  let url = cache.get(code)
  if (url === undefined) {
    url = store.targetOf(code)
    if (url === undefined) throw new RequestError(404, 'LINK_NOT_FOUND', `no link with code ${code}`)
    cache.set(code, url)
  }
  res.writeHead(302, { Location: url, 'Content-Length': 0 })
  res.end()
}

function createBatch (body: unknown): unknown[] {
  const links = (body as { links?: unknown } | null)?.links
  if (!Array.isArray(links)) throw new RequestError(400, 'INVALID_BODY', 'links must be an array')
  if (links.length > MAX_BATCH_LINKS) {
    throw new RequestError(400, 'BATCH_TOO_LARGE', `links has ${links.length} items, the limit is ${MAX_BATCH_LINKS}`)
  }

  const results: unknown[] = new Array(links.length)
  const valid: string[] = []
  const validIndexes: number[] = []
  links.forEach((item: unknown, index) => {
    try {
      valid.push(validUrl((item as { url?: unknown } | null)?.url))
      validIndexes.push(index)
    } catch (error) {
      if (!(error instanceof RequestError)) throw error
      results[index] = { error: { code: error.code, detail: error.message } }
    }
  })

  store.createMany(valid).forEach((result, i) => {
    results[validIndexes[i] as number] = { ...describe(result), created: result.created }
  })
  return results
}

function validUrl (value: unknown): string {
  if (typeof value !== 'string') throw new RequestError(400, 'INVALID_URL', 'url must be a string')
  if (value.length > MAX_URL_LENGTH) {
    throw new RequestError(400, 'URL_TOO_LONG', `url has ${value.length} characters, the limit is ${MAX_URL_LENGTH}`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new RequestError(400, 'INVALID_URL', `url is not a valid absolute URL: ${value}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RequestError(400, 'UNSUPPORTED_SCHEME', `url must use http or https, received ${url.protocol}`)
  }
  return url.href
}

function describe ({ link }: CreateResult): Record<string, unknown> {
  return { code: link.code, shortUrl: `${baseUrl}/${link.code}`, url: link.url, createdAt: new Date(link.createdAt).toISOString() }
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new RequestError(413, 'BODY_TOO_LARGE', `body exceeds ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw new RequestError(400, 'INVALID_JSON', `body is not valid JSON: ${(error as Error).message}`)
  }
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function fail (message: string): never {
  process.stderr.write(`reference: ${message}\n`)
  process.exit(2)
}

server.listen(Number(values.port), values.host, () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  baseUrl = `http://${values.host}:${port}`
  process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, msg: 'listening', host: values.host, port }) + '\n')
})

function shutdown (): void {
  server.close(() => {
    store.close()
    process.exit(0)
  })
  server.closeIdleConnections()
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)
