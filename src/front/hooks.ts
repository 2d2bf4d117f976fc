/**
 * Combines several RequestHooks into one. Checks run in the order given and
 * the first rejection wins; every `onResponse` is called; the first
 * `clientOf` decides who the client is.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import type { ShortenerError } from '../errors.ts'
import type { RequestHooks } from './app.ts'

export function composeHooks (...parts: Array<RequestHooks | undefined>): RequestHooks {
  const hooks = parts.filter((part): part is RequestHooks => part !== undefined)
  const checkCreates = hooks.flatMap((h) => h.checkCreate === undefined ? [] : [h.checkCreate])
  const checkNotFounds = hooks.flatMap((h) => h.checkNotFound === undefined ? [] : [h.checkNotFound])
  const onResponses = hooks.flatMap((h) => h.onResponse === undefined ? [] : [h.onResponse])
  const clientOf = hooks.find((h) => h.clientOf !== undefined)?.clientOf

  const composed: RequestHooks = {}
  if (checkCreates.length > 0) {
    composed.checkCreate = (res: HttpResponse, req: HttpRequest): ShortenerError | undefined => {
      for (const check of checkCreates) {
        const rejection = check(res, req)
        if (rejection !== undefined) return rejection
      }
      return undefined
    }
  }
  if (checkNotFounds.length > 0) {
    composed.checkNotFound = (client: string): ShortenerError | undefined => {
      for (const check of checkNotFounds) {
        const rejection = check(client)
        if (rejection !== undefined) return rejection
      }
      return undefined
    }
  }
  if (onResponses.length === 1) composed.onResponse = onResponses[0]
  if (onResponses.length > 1) {
    composed.onResponse = (route: string, status: number, startedAt: number): void => {
      for (const onResponse of onResponses) onResponse(route, status, startedAt)
    }
  }
  if (clientOf !== undefined) composed.clientOf = clientOf
  return composed
}
