import { INVITE_TOKEN_BYTES, LIMITS } from './constants.js'
import { InvalidInviteError } from './errors.js'
import { Invite } from './proto/dm.js'
import { utf8Length } from './bytes.js'
import { decodeCode, encodeCode } from './code.js'

/** Every invite code starts with this, so a pasted code is recognisable. */
export const INVITE_PREFIX = 'kith1'
const INVITE_VERSION = 1

/** What a friend needs to reach you, as carried by an invite code. */
export interface InviteData {
  /** Inviter's device peer id, multihash bytes. */
  peerId: Uint8Array
  /** Inviter's display name. */
  name: string
  /** Inviter's listening addresses, multiaddr bytes. */
  addrs: Uint8Array[]
  /** One-time secret: the inviter lets in whoever presents it. */
  token: Uint8Array
  /** When the code stops working, ms since the epoch. */
  expires: number
  /** The inviter's device certificate: its identity key vouching for `peerId`. */
  certificate: Uint8Array
  /** The inviter's encoded PreKeyBundle, to open an end-to-end encrypted session at once. */
  bundle: Uint8Array
}

/**
 * Encode an invite as one copy-pasteable string: `kith1` + base64url(protobuf Invite + the first
 * 4 bytes of its SHA-256).
 */
export function encodeInvite (invite: InviteData): string {
  const bytes = Invite.encode({
    version: INVITE_VERSION,
    peerId: new Uint8Array(invite.peerId),
    name: invite.name,
    addrs: invite.addrs.slice(0, LIMITS.maxAddrs).map(a => new Uint8Array(a)),
    token: new Uint8Array(invite.token),
    expires: BigInt(invite.expires),
    certificate: new Uint8Array(invite.certificate),
    bundle: new Uint8Array(invite.bundle)
  })
  return encodeCode(INVITE_PREFIX, bytes)
}

/**
 * Decode an invite code, checking its size before parsing and every field after.
 *
 * @throws {InvalidInviteError} when the code is malformed or has expired
 */
export function decodeInvite (code: string, now = Date.now()): InviteData {
  const payload = decodeCode(code, INVITE_PREFIX, LIMITS.maxInviteChars, 'invite code', `invite code must start with "${INVITE_PREFIX}"`, (message, cause) => new InvalidInviteError(message, { cause }))
  let invite: Invite
  try {
    invite = Invite.decode(payload, { limits: { addrs: LIMITS.maxAddrs } })
  } catch {
    throw new InvalidInviteError('invite code is damaged (could not decode it)')
  }
  if (invite.version !== INVITE_VERSION) throw new InvalidInviteError(`unsupported invite version ${invite.version}`)
  if (invite.peerId.length === 0 || invite.peerId.length > 64) throw new InvalidInviteError('invite code has no valid peer id')
  if (invite.token.length !== INVITE_TOKEN_BYTES) throw new InvalidInviteError('invite code has no valid token')
  if (utf8Length(invite.name) > LIMITS.maxNameBytes) throw new InvalidInviteError('invite name is too long')
  if (invite.addrs.some(a => a.length > LIMITS.maxAddrBytes)) throw new InvalidInviteError('invite address is too long')
  if (invite.certificate.length === 0 || invite.certificate.length > LIMITS.maxCertificateBytes) throw new InvalidInviteError('invite code has no valid device certificate')
  if (invite.bundle.length > LIMITS.maxBundleBytes) throw new InvalidInviteError('invite code has an oversized prekey bundle')
  const expires = Number(invite.expires)
  if (expires <= now) throw new InvalidInviteError('invite code has expired: ask for a new one')
  return { peerId: invite.peerId, name: invite.name, addrs: invite.addrs, token: invite.token, expires, certificate: invite.certificate, bundle: invite.bundle }
}
