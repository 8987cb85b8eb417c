import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { CODE_P2P, CODE_P2P_CIRCUIT, multiaddr } from '@multiformats/multiaddr'
import { ed25519Sign, ed25519Verify, identityFingerprint, listHasDevice, verifyDeviceCertificate, verifyDeviceList } from '@kith/crypto'
import { MAX_PRESENCE_AGE_MS, MAX_PRESENCE_BYTES, MAX_PRESENCE_CLOCK_SKEW_MS, PRESENCE_LIMITS, PRESENCE_VERSION } from './constants.js'
import { InvalidPresenceError } from './errors.js'
import { PresenceRecord } from './proto/presence.js'
import type { PresenceRefusal } from './errors.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Presence records: "identity I's device D is reachable at these addresses, through these
 * relays, and keeps mail at these friends", signed by the identity key and numbered by `seq`.
 * Anyone may store or forward one; only the identity key can make one, and the certificate
 * inside proves the device belongs to the identity, so a poisoned DHT can hide a user but
 * never point a contact at an impostor.
 *
 * One device per record for now. Several devices would share one record (its DHT key is
 * derived from the identity alone): version 2 would carry one entry per device (certificate,
 * device, addresses, relays, prekeys) as a repeated bytes field of separately encoded entries
 * (protons-runtime 7 mishandles nested messages), still signed once by the identity key. A
 * device that publishes would then include the other devices' latest entries (learnt from
 * the DHT or from device sync), and `seq` stays per identity: max(now, last + 1) over all of
 * the user's devices.
 */

/** What a publisher puts in its presence record. */
export interface PresenceFields {
  /**
   * The publisher's clock in ms, strictly increasing per identity: use
   * {@link nextPresenceSeq}, and remember the last one across restarts.
   */
  seq: number
  /** The device's certificate from the identity key (`issueDeviceCertificate`). */
  certificate: Uint8Array
  /** The device the certificate is for: the publishing libp2p node. */
  device: PeerId
  /** Multiaddrs the device listens on or was observed at (at most 16). */
  addrs?: Multiaddr[]
  /**
   * Circuit relay addresses that reach the device, `…/p2p/<relay>/p2p-circuit` (at most 8). A
   * trailing `/p2p/<device>`, as libp2p lists its own relayed addresses, is dropped: the record
   * names the device already.
   */
  relays?: Multiaddr[]
  /** The friends holding this user's mail, each address ending in `/p2p/<peer>` (at most 8). */
  mailboxes?: Multiaddr[]
  /** An opaque prekey bundle (at most 2048 bytes). Default: none. */
  prekeys?: Uint8Array
  /** Whether the device offers circuit relay and a mailbox to its contacts. Default: false. */
  relay?: boolean
  /** The user's signed device list (`issueDeviceList`), which must name `device`. Default: none. */
  deviceList?: Uint8Array
}

/** A presence record that verified, as {@link openPresence} returns it. */
export interface VerifiedPresence {
  /** The user's identity key, which signed the record. */
  identity: PublicKey
  /** `identityFingerprint(identity)` from @kith/crypto. */
  identityFingerprint: string
  /** The publisher's clock when it made the record, in ms: the highest is the newest. */
  seq: number
  /** The device, certified by `identity`. */
  device: PeerId
  /** The device certificate, as carried. */
  certificate: Uint8Array
  addrs: Multiaddr[]
  relays: Multiaddr[]
  mailboxes: Multiaddr[]
  /** The prekey bundle, empty when none. */
  prekeys: Uint8Array
  relay: boolean
  /** The user's signed device list, verified and naming `device`; empty when the record carries none. */
  deviceList: Uint8Array
  /** The signed record itself, as received. */
  record: Uint8Array
}

/** Options for {@link openPresence}. */
export interface OpenPresenceOptions {
  /** The identity the record must be from: its public key, or its fingerprint (hex). */
  identity?: PublicKey | string
  /** The reader's clock, in ms since the epoch. Default: `Date.now()`. */
  now?: number
}

// Signatures cover a label first, so an identity signature on a presence record can never pass
// for one on anything else Kith signs (each format has its own label).
const DOMAIN = new TextEncoder().encode('kith/presence/v1')
const SIGNATURE_BYTES = 64

type AddrField = 'addrs' | 'relays' | 'mailboxes'
const MAX_ENTRIES: Record<AddrField, number> = {
  addrs: PRESENCE_LIMITS.maxAddrs,
  relays: PRESENCE_LIMITS.maxRelays,
  mailboxes: PRESENCE_LIMITS.maxMailboxes
}

/** The `seq` to publish next: the clock, unless the last one was later (never repeat or go back). */
export function nextPresenceSeq (last: number | undefined, now: number = Date.now()): number {
  return Math.max(now, (last ?? -1) + 1)
}

/**
 * Make the presence record of `fields.device`, signed by the identity key. Returns the encoded
 * PresenceRecord, ready for {@link publishPresence}.
 *
 * @throws {TypeError} when the identity key is not Ed25519, or an address has the wrong shape
 * for its field
 * @throws {RangeError} when `seq` is not a non-negative safe integer or lies in [2^31, 2^32)
 * (which protons-runtime 7 encodes wrongly), a field is over its limit, or the record would be
 * larger than {@link MAX_PRESENCE_BYTES}
 * @throws {InvalidCertificateError} (from @kith/crypto) when the certificate is not the
 * identity's certificate for `fields.device`
 */
export function signPresence (identityKey: PrivateKey, fields: PresenceFields): Uint8Array {
  if (identityKey.type !== 'Ed25519') throw new TypeError('identity keys are Ed25519')
  const { seq, device } = fields
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative safe integer')
  if (seq >= 2 ** 31 && seq < 2 ** 32) throw new RangeError('seq must not lie between 2^31 and 2^32 (a protobuf encoder bug)')
  verifyDeviceCertificate(fields.certificate, { identity: identityKey.publicKey, device })
  const prekeys = fields.prekeys ?? new Uint8Array(0)
  const deviceList = fields.deviceList ?? new Uint8Array(0)
  if (deviceList.byteLength > 0 && !listHasDevice(verifyDeviceList(deviceList, { identity: identityKey.publicKey }), device)) throw new TypeError('the device list does not name the device')
  if (prekeys.byteLength > PRESENCE_LIMITS.maxPrekeyBytes) throw new RangeError(`a prekey bundle is at most ${PRESENCE_LIMITS.maxPrekeyBytes} bytes`)
  const unsigned: PresenceRecord = {
    version: PRESENCE_VERSION,
    identity: new Uint8Array(publicKeyToProtobuf(identityKey.publicKey)),
    seq: BigInt(seq),
    certificate: new Uint8Array(fields.certificate),
    device: new Uint8Array(device.toMultihash().bytes),
    addrs: encodeAddrs('addrs', fields.addrs ?? [], device),
    relays: encodeAddrs('relays', fields.relays ?? [], device),
    mailboxes: encodeAddrs('mailboxes', fields.mailboxes ?? [], device),
    // Absent when empty: one encoding per record (see presence.proto).
    ...(prekeys.byteLength > 0 ? { prekeys: new Uint8Array(prekeys) } : {}),
    relay: fields.relay ?? false,
    ...(deviceList.byteLength > 0 ? { deviceList: new Uint8Array(deviceList) } : {})
  }
  const signature = new Uint8Array(ed25519Sign(identityKey, signedBytes(unsigned)))
  const bytes = PresenceRecord.encode({ ...unsigned, signature })
  if (bytes.byteLength > MAX_PRESENCE_BYTES) throw new RangeError(`the presence record would take ${bytes.byteLength} bytes, more than ${MAX_PRESENCE_BYTES}`)
  return bytes
}

/**
 * Decode and verify a presence record: well formed and within limits, signed by its identity
 * key, carrying that identity's certificate for its device, dated neither more than
 * {@link MAX_PRESENCE_CLOCK_SKEW_MS} ahead of `now` nor more than {@link MAX_PRESENCE_AGE_MS}
 * behind it and, when given, from `options.identity`.
 *
 * Checks run cheapest first and in this order, so each refusal has one reason: size (before
 * decoding; repeated fields are counted while decoding), shape (canonical encoding, version,
 * field limits, keys and addresses that parse), identity expected, signature and certificate,
 * then time.
 *
 * @throws {InvalidPresenceError} with a `reason` saying why the record was refused
 * @throws {TypeError} when `options.identity` is a string but not a fingerprint
 */
export function openPresence (bytes: Uint8Array, options: OpenPresenceOptions = {}): VerifiedPresence {
  const expected = expectedFingerprint(options.identity)
  if (bytes.byteLength > MAX_PRESENCE_BYTES) throw refuse('oversized', `larger than ${MAX_PRESENCE_BYTES} bytes`)
  let record: PresenceRecord
  try {
    record = PresenceRecord.decode(bytes, { limits: MAX_ENTRIES })
  } catch (err: any) {
    // protons-runtime throws MaxLengthError for a repeated field over its limit.
    if (err?.name === 'MaxLengthError') throw refuse('oversized', 'too many addresses', err)
    throw refuse('malformed', 'does not decode', err)
  }
  // This build's own encoding only: that refuses unknown fields (new ones come with a new
  // version), repeated singular fields and varints cut short or padded, which
  // protons-runtime 7 reads past without an error. So a record has exactly one encoding.
  if (!Buffer.from(PresenceRecord.encode(record)).equals(bytes)) throw refuse('malformed', 'not in canonical form')
  if (record.version !== PRESENCE_VERSION) throw refuse('malformed', `unknown version ${record.version}`)
  const { identity: identityBytes, certificate, device: deviceBytes, signature, prekeys, deviceList } = record
  if (identityBytes == null || certificate == null || deviceBytes == null || signature == null) throw refuse('malformed', 'a required field is missing')
  if (identityBytes.byteLength === 0 || certificate.byteLength === 0 || deviceBytes.byteLength === 0) throw refuse('malformed', 'a required field is empty')
  if (prekeys?.byteLength === 0 || deviceList?.byteLength === 0) throw refuse('malformed', 'empty prekeys and device lists are left out, not written')
  if ((deviceList?.byteLength ?? 0) > PRESENCE_LIMITS.maxDeviceListBytes) throw refuse('oversized', `device list larger than ${PRESENCE_LIMITS.maxDeviceListBytes} bytes`)
  if (certificate.byteLength > PRESENCE_LIMITS.maxCertificateBytes) throw refuse('oversized', `certificate larger than ${PRESENCE_LIMITS.maxCertificateBytes} bytes`)
  if ((prekeys?.byteLength ?? 0) > PRESENCE_LIMITS.maxPrekeyBytes) throw refuse('oversized', `prekeys larger than ${PRESENCE_LIMITS.maxPrekeyBytes} bytes`)
  for (const field of ['addrs', 'relays', 'mailboxes'] as const) {
    if (record[field].some(addr => addr.byteLength > PRESENCE_LIMITS.maxAddrBytes)) throw refuse('oversized', `${field}: an address is larger than ${PRESENCE_LIMITS.maxAddrBytes} bytes`)
  }
  if (signature.byteLength !== SIGNATURE_BYTES) throw refuse('malformed', 'an Ed25519 signature is 64 bytes')
  if (record.seq > BigInt(Number.MAX_SAFE_INTEGER)) throw refuse('malformed', 'seq out of range')
  const seq = Number(record.seq)
  const identity = parseIdentity(identityBytes)
  const addrs = parseAddrs('addrs', record.addrs)
  const relays = parseAddrs('relays', record.relays)
  const mailboxes = parseAddrs('mailboxes', record.mailboxes)

  const fingerprint = identityFingerprint(identity)
  if (expected != null && fingerprint !== expected) throw refuse('wrong-key', 'from another identity than expected')

  const { signature: _, ...unsigned } = record
  if (!ed25519Verify(identity, signedBytes(unsigned), signature)) throw refuse('forged', 'signature does not verify')
  let device: PeerId
  try {
    device = verifyDeviceCertificate(certificate, { identity }).device
  } catch (err) {
    throw refuse('forged', 'the certificate is not valid, or not from the identity', err)
  }
  if (!Buffer.from(device.toMultihash().bytes).equals(deviceBytes)) throw refuse('forged', 'the certificate is for another device')
  if (deviceList != null) {
    let names = false
    try {
      names = listHasDevice(verifyDeviceList(deviceList, { identity }), device)
    } catch (err) {
      throw refuse('forged', 'the device list is not valid, or not from the identity', err)
    }
    if (!names) throw refuse('forged', 'the device list does not name the device')
  }

  const now = options.now ?? Date.now()
  if (seq > now + MAX_PRESENCE_CLOCK_SKEW_MS) throw refuse('future', `dated ${seq - now} ms ahead`)
  if (seq < now - MAX_PRESENCE_AGE_MS) throw refuse('stale', `dated ${now - seq} ms ago`)

  return {
    identity,
    identityFingerprint: fingerprint,
    seq,
    device,
    certificate: new Uint8Array(certificate),
    addrs,
    relays,
    mailboxes,
    prekeys: prekeys != null ? new Uint8Array(prekeys) : new Uint8Array(0),
    relay: record.relay,
    deviceList: deviceList != null ? new Uint8Array(deviceList) : new Uint8Array(0),
    record: bytes
  }
}

/**
 * The `seq` of a presence record, decoded without verifying anything else: for a store that
 * only holds records kad-dht's validator (or our own publish) already verified. Undefined when
 * it does not decode or is larger than {@link MAX_PRESENCE_BYTES}.
 */
export function presenceSeq (bytes: Uint8Array): number | undefined {
  if (bytes.byteLength > MAX_PRESENCE_BYTES) return undefined
  try {
    const { seq } = PresenceRecord.decode(bytes, { limits: MAX_ENTRIES })
    return seq <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seq) : undefined
  } catch {
    return undefined
  }
}

function signedBytes (unsigned: PresenceRecord): Uint8Array {
  return Buffer.concat([DOMAIN, PresenceRecord.encode(unsigned)])
}

function refuse (reason: PresenceRefusal, message: string, cause?: unknown): InvalidPresenceError {
  return new InvalidPresenceError(reason, `presence record refused (${reason}): ${message}`, cause === undefined ? undefined : { cause })
}

function expectedFingerprint (identity: PublicKey | string | undefined): string | undefined {
  if (identity == null) return undefined
  if (typeof identity !== 'string') return identityFingerprint(identity)
  if (!/^[0-9a-f]{64}$/.test(identity)) throw new TypeError('not an identity fingerprint')
  return identity
}

function parseIdentity (bytes: Uint8Array): PublicKey {
  let key: PublicKey
  try {
    key = publicKeyFromProtobuf(bytes)
  } catch (err) {
    throw refuse('malformed', 'bad identity key', err)
  }
  if (key.type !== 'Ed25519') throw refuse('malformed', `identity key is ${key.type}, not Ed25519`)
  // The DHT key and the fingerprint hash the key's encoding: accept only the one encoding.
  if (!Buffer.from(publicKeyToProtobuf(key)).equals(bytes)) throw refuse('malformed', 'identity key not in canonical form')
  return key
}

/** Why `addr` cannot stand in `field`, or undefined when it can. */
function shapeProblem (field: AddrField, addr: Multiaddr): string | undefined {
  const components = addr.getComponents()
  const last = components.at(-1)
  if (last == null) return 'an address is empty'
  if (field === 'relays' && (last.code !== CODE_P2P_CIRCUIT || components.at(-2)?.code !== CODE_P2P)) return 'a relay address ends in /p2p/<relay>/p2p-circuit'
  if (field === 'mailboxes' && last.code !== CODE_P2P) return 'a mailbox address ends in /p2p/<peer>'
  return undefined
}

function encodeAddrs (field: AddrField, list: Multiaddr[], device: PeerId): Array<Uint8Array<ArrayBuffer>> {
  if (list.length > MAX_ENTRIES[field]) throw new RangeError(`${field}: at most ${MAX_ENTRIES[field]} addresses`)
  return list.map(addr => {
    // Written as readers will check it: the bytes that the text form parses to.
    addr = multiaddr(addr.toString())
    if (field === 'relays') addr = withoutDevice(addr, device)
    const problem = shapeProblem(field, addr)
    if (problem != null) throw new TypeError(`${field}: ${problem}: ${addr.toString()}`)
    const bytes = new Uint8Array(addr.bytes)
    if (bytes.byteLength > PRESENCE_LIMITS.maxAddrBytes) throw new RangeError(`${field}: an address is at most ${PRESENCE_LIMITS.maxAddrBytes} bytes`)
    return bytes
  })
}

/** `…/p2p-circuit/p2p/<device>` → `…/p2p-circuit`; anything else unchanged. */
function withoutDevice (addr: Multiaddr, device: PeerId): Multiaddr {
  const components = addr.getComponents()
  const last = components.at(-1)
  if (last?.code === CODE_P2P && last.value === device.toString() && components.at(-2)?.code === CODE_P2P_CIRCUIT) return addr.decapsulateCode(CODE_P2P)
  return addr
}

function parseAddrs (field: AddrField, list: Uint8Array[]): Multiaddr[] {
  return list.map(bytes => {
    let addr: Multiaddr
    let canonical: boolean
    try {
      // Read back through the text form: a fresh copy, and the bytes must be the very ones
      // multiaddr writes (a varint padded or a value spelt two ways would pass otherwise).
      // multiaddr encodes lazily, so `.bytes` may throw too.
      addr = multiaddr(multiaddr(bytes).toString())
      canonical = Buffer.from(addr.bytes).equals(bytes)
    } catch (err) {
      throw refuse('malformed', `${field}: an address does not parse`, err)
    }
    if (!canonical) throw refuse('malformed', `${field}: an address is not in canonical form`)
    const problem = shapeProblem(field, addr)
    if (problem != null) throw refuse('malformed', `${field}: ${problem}`)
    return addr
  })
}
