/**
 * Which address a request comes from, for per-client rate limits. The
 * operator configures the rule; nothing is guessed from the request:
 *
 * - `peer`: the TCP peer. `X-Forwarded-For` is ignored.
 * - `x-forwarded-for`: when the peer is one of `trustedProxies`, the
 *   right-most address in `X-Forwarded-For` that is not itself a trusted
 *   proxy. Every proxy appends the address it received from, so that entry
 *   was written by a trusted proxy, while everything left of it may be
 *   forged by the client. When the peer is not trusted, the header is
 *   ignored and the peer is the client. Several `X-Forwarded-For` header
 *   lines count as one list in their order (RFC 9110, section 5.3); some
 *   proxies append a line of their own instead of extending the last one.
 *
 * The key is an IPv4 address as it is, and for IPv6 the /64 prefix
 * (`2001:0db8:0000:0001::/64`): one subscriber or host usually gets a whole
 * /64 and can pick any address in it, so a per-address key would give a
 * single client 2^64 buckets. IPv4-mapped IPv6 peers (`::ffff:a.b.c.d`, as a
 * dual-stack socket reports IPv4 clients) count as the IPv4 address.
 *
 * Call `of()` inside the uWebSockets.js handler: the request object is only
 * valid there, and the response's address is gone once it is closed.
 */
import { BlockList, isIP } from 'node:net'
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'

export type ClientAddressMode = 'peer' | 'x-forwarded-for'

export interface ClientAddressOptions {
  mode: ClientAddressMode
  /** Addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`) whose `X-Forwarded-For` is believed. */
  trustedProxies: readonly string[]
}

const MAPPED_IPV4_PREFIX = '0000:0000:0000:0000:0000:ffff:'
// uWebSockets.js writes IPv6 peers as eight zero-padded groups.
const EXPANDED_IPV6_LENGTH = 39

export class ClientAddress {
  readonly mode: ClientAddressMode
  #trusted: BlockList

  constructor (options: ClientAddressOptions) {
    this.mode = options.mode
    this.#trusted = trustedList(options.trustedProxies)
  }

  /** The rate-limit key of the request's client. */
  of (res: HttpResponse, req: HttpRequest): string {
    const peer = peerAddress(res)
    if (this.mode === 'peer' || !this.#isTrusted(peer)) return keyOfAddress(peer)
    return this.#behindProxy(peer, forwardedFor(req))
  }

  /**
   * The rate-limit key for a peer address and the `X-Forwarded-For` list
   * (header lines joined with commas), under the configured rule.
   */
  resolve (peer: string, forwarded: string): string {
    const address = normalizeAddress(peer) ?? peer
    if (this.mode === 'peer' || !this.#isTrusted(address)) return keyOfAddress(address)
    return this.#behindProxy(address, forwarded)
  }

  #behindProxy (peerAddress: string, forwarded: string): string {
    if (forwarded === '') return keyOfAddress(peerAddress)
    const hops = forwarded.split(',')
    let leftmost = peerAddress
    for (let i = hops.length - 1; i >= 0; i--) {
      const address = normalizeAddress(stripPort((hops[i] as string).trim()))
      // A trusted proxy wrote this entry, yet it is no address. No entry
      // further left can be trusted, so the proxy's peer is the client.
      if (address === undefined) return keyOfAddress(peerAddress)
      if (!this.#isTrusted(address)) return keyOfAddress(address)
      leftmost = address
    }
    // Every hop is a trusted proxy: the request started at the first one.
    return keyOfAddress(leftmost)
  }

  #isTrusted (address: string): boolean {
    const family = isIP(address)
    if (family === 0) return false
    return this.#trusted.check(address, family === 4 ? 'ipv4' : 'ipv6')
  }
}

/**
 * Parses `trustedProxies` entries; throws a RangeError naming the first
 * entry that is neither an IP address nor a CIDR range.
 */
export function trustedList (entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.trim().split('/')
    const family = isIP(address)
    const maxPrefix = family === 4 ? 32 : 128
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (family === 0 || extra !== undefined) throw new RangeError(`${JSON.stringify(entry)} is not an IP address or CIDR range`)
    if (prefix === undefined) {
      list.addAddress(address, type)
      continue
    }
    const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN
    if (!(bits >= 0 && bits <= maxPrefix)) {
      throw new RangeError(`${JSON.stringify(entry)} has an invalid prefix length; use 0 to ${maxPrefix}`)
    }
    list.addSubnet(address, bits, type)
  }
  return list
}

/** Returns the key an address is counted under: an IPv4 address itself, an IPv6 address's /64. */
export function keyOfAddress (address: string): string {
  if (isIP(address) !== 6) return address
  const expanded = address.length === EXPANDED_IPV6_LENGTH ? address : expandIpv6(address)
  if (expanded === undefined) return address
  return `${expanded.slice(0, 19)}::/64`
}

function peerAddress (res: HttpResponse): string {
  const text = Buffer.from(res.getRemoteAddressAsText()).toString('latin1')
  return normalizeAddress(text) ?? text
}

function forwardedFor (req: HttpRequest): string {
  let joined = ''
  req.forEach((name, value) => {
    if (name !== 'x-forwarded-for') return
    joined = joined === '' ? value : `${joined},${value}`
  })
  return joined
}

/** Returns the address in canonical form (IPv4-mapped IPv6 as IPv4, zone removed), or undefined for text that is no IP address. */
function normalizeAddress (text: string): string | undefined {
  const zone = text.indexOf('%')
  const address = zone === -1 ? text : text.slice(0, zone)
  const family = isIP(address)
  if (family === 4) return address
  if (family === 0) return undefined
  const expanded = address.length === EXPANDED_IPV6_LENGTH ? address.toLowerCase() : expandIpv6(address)
  if (expanded === undefined) return undefined
  return expanded.startsWith(MAPPED_IPV4_PREFIX) ? ipv4OfGroups(expanded.slice(30, 34), expanded.slice(35, 39)) : expanded
}

/** Removes a port (`1.2.3.4:80`, `[2001:db8::1]:80`) that some proxies append. */
function stripPort (entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']')
    return end === -1 ? entry : entry.slice(1, end)
  }
  const colon = entry.indexOf(':')
  if (colon !== -1 && colon === entry.lastIndexOf(':') && entry.includes('.')) return entry.slice(0, colon)
  return entry
}

/** Eight zero-padded lower-case groups of a valid IPv6 address; a trailing dotted IPv4 part becomes two groups. */
function expandIpv6 (address: string): string | undefined {
  let text = address.toLowerCase()
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.', lastColon)) {
    const octets = text.slice(lastColon + 1).split('.').map(Number)
    const [a = 0, b = 0, c = 0, d = 0] = octets
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }

  const gap = text.indexOf('::')
  const left = gap === -1 ? text.split(':') : splitGroups(text.slice(0, gap))
  const right = gap === -1 ? [] : splitGroups(text.slice(gap + 2))
  const missing = 8 - left.length - right.length
  if (missing < 0 || (gap === -1 && missing !== 0)) return undefined
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right]
  return groups.map((group) => group.padStart(4, '0')).join(':')
}

function splitGroups (text: string): string[] {
  return text === '' ? [] : text.split(':')
}

function ipv4OfGroups (high: string, low: string): string {
  const h = Number.parseInt(high, 16)
  const l = Number.parseInt(low, 16)
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`
}
