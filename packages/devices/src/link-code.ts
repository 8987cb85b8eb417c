import { InvalidLinkCodeError, LIMITS, LinkCodeExpiredError, decodeCode, encodeCode } from '@kith/core'
import { LinkCode } from './proto/link.js'

/** Every link code starts with this, so it is never mistaken for an invite code (`kith1…`). */
export const LINK_CODE_PREFIX = 'kithlink1'
/** How long a link code works: long enough to walk to the other device, short enough to go stale. */
export const LINK_CODE_TTL_MS = 10 * 60 * 1000
export const LINK_SECRET_BYTES = 32
const LINK_CODE_VERSION = 1
const MAX_LINK_CODE_CHARS = 4 * 1024

/** What a link code carries. */
export interface LinkCodeData {
  /** The identity device's peer id, multihash bytes. */
  peerId: Uint8Array
  /** Where it listens, multiaddr bytes. */
  addrs: Uint8Array[]
  /** The one-time secret the new device proves it holds. */
  secret: Uint8Array
  /** ms since the epoch. */
  expires: number
}

/** `kithlink1` + base64url(LinkCode + the first 4 bytes of its SHA-256). */
export function encodeLinkCode (data: LinkCodeData): string {
  const bytes = LinkCode.encode({
    version: LINK_CODE_VERSION,
    peerId: new Uint8Array(data.peerId),
    addrs: data.addrs.slice(0, LIMITS.maxAddrs).map(a => new Uint8Array(a)),
    secret: new Uint8Array(data.secret),
    expires: BigInt(data.expires)
  })
  return encodeCode(LINK_CODE_PREFIX, bytes)
}

/**
 * Decode a link code, checking its size before parsing and every field after.
 *
 * @throws {InvalidLinkCodeError} when it is malformed or damaged
 * @throws {LinkCodeExpiredError} when it has expired
 */
export function decodeLinkCode (code: string, now = Date.now()): LinkCodeData {
  const payload = decodeCode(code, LINK_CODE_PREFIX, MAX_LINK_CODE_CHARS, 'link code', `a link code starts with "${LINK_CODE_PREFIX}" (make one with "kith device link" on the device holding your identity)`,
    (message, cause) => new InvalidLinkCodeError(message, { cause }))
  let link: LinkCode
  try {
    link = LinkCode.decode(payload, { limits: { addrs: LIMITS.maxAddrs } })
  } catch {
    throw new InvalidLinkCodeError('link code is damaged (could not decode it)')
  }
  if (link.version !== LINK_CODE_VERSION) throw new InvalidLinkCodeError(`unsupported link code version ${link.version}`)
  if (link.peerId.length === 0 || link.peerId.length > 64) throw new InvalidLinkCodeError('link code has no valid device id')
  if (link.secret.length !== LINK_SECRET_BYTES) throw new InvalidLinkCodeError('link code has no valid secret')
  if (link.addrs.some(a => a.length > LIMITS.maxAddrBytes)) throw new InvalidLinkCodeError('link code address is too long')
  const expires = Number(link.expires)
  if (expires <= now) throw new LinkCodeExpiredError('link code has expired: make a new one with "kith device link"')
  return { peerId: link.peerId, addrs: link.addrs, secret: link.secret, expires }
}
