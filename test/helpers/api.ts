/**
 * Assertions and requests shared by the API tests: problem documents, raw
 * requests with any content type or body, and the number of stored links.
 */
import assert from 'node:assert/strict'
import type { Server } from '../../src/server.ts'

export interface ApiResponse {
  status: number
  headers: Headers
  body: any
}

/** Sends a request without following redirects and parses a JSON body if there is one. */
export async function request (url: string, init: RequestInit = {}): Promise<ApiResponse> {
  const response = await fetch(url, { ...init, redirect: 'manual' })
  const text = await response.text()
  const type = response.headers.get('content-type') ?? ''
  const body = text !== '' && type.includes('json') ? JSON.parse(text) : (text === '' ? undefined : text)
  return { status: response.status, headers: response.headers, body }
}

/** Posts a raw body with the given content type. */
export async function postRaw (url: string, contentType: string | undefined, body: NonNullable<RequestInit['body']>): Promise<ApiResponse> {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType }
  return await request(url, { method: 'POST', headers, body })
}

/** Checks that a response is an `application/problem+json` error with this status and code. */
export function assertProblem (response: ApiResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected ${status} ${code}, received ${response.status} ${JSON.stringify(response.body)}`)
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/)
  assert.equal(response.body?.code, code)
  assert.equal(response.body?.status, status)
  assert.equal(typeof response.body?.detail, 'string')
}

/** Returns the number of links in every shard's store together, as the shards count them. */
export async function countStoredLinks (server: Server): Promise<number> {
  const stats = await Promise.all(server.shards.map((shard) => shard.stats(10_000)))
  return stats.reduce((sum, entry) => sum + entry.links, 0)
}
