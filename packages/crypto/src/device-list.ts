import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { KithError, decodeCanonical } from '@kith/core'
import { verifyDeviceCertificate } from './device-certificate.js'
import type { VerifiedDeviceCertificate } from './device-certificate.js'
import { ed25519Sign, ed25519Verify } from './ed25519.js'
import { identityFingerprint } from './identity-key.js'
import { DeviceList, SignedDeviceList } from './proto/device-list.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/**
 * Device lists: "identity I's devices are now these (and these were removed)", signed by the
 * identity key and numbered by `seq`. Contacts learn of a user's devices only from a list that
 * verifies, and keep the one with the highest `seq` (docs/devices.md).
 */

/** A device list was malformed, forged, or holds a certificate from another identity. */
export class InvalidDeviceListError extends KithError { static override name = 'InvalidDeviceListError' }
/** A device list is not newer than one already seen: a replay, or a rollback. */
export class StaleDeviceListError extends KithError { static override name = 'StaleDeviceListError' }

export const DEVICE_LIST_VERSION = 1
/** Most devices one account has at once (Signal allows five linked devices; we allow more). */
export const MAX_DEVICES = 16
/** Most revoked devices a list keeps naming (older ones are dropped by the issuer). */
export const MAX_REVOKED = 64
/** Largest signed list accepted, checked before decoding: 16 certificates of ~150 bytes and 64 ids fit with room. */
export const MAX_DEVICE_LIST_BYTES = 16 * 1024

const DOMAIN = new TextEncoder().encode('kith/device-list/v1')
const SIGNATURE_BYTES = 64
const MAX_PEER_ID_BYTES = 64

/** What {@link issueDeviceList} signs. */
export interface DeviceListFields {
  /** Greater than the seq of every earlier list of this identity (start at 1). */
  seq: number
  /** The signed certificate of each current device, issued by the same identity key. */
  devices: Uint8Array[]
  /** Devices removed from the account. Default: none. */
  revoked?: PeerId[]
  /** ms since the epoch. Default: now. */
  issuedAt?: number
}

/** A device list that verified. */
export interface VerifiedDeviceList {
  identity: PublicKey
  identityFingerprint: string
  seq: number
  issuedAt: number
  /** The current devices, each certified by `identity`, in the list's order. */
  devices: VerifiedDeviceCertificate[]
  /** Their certificates, as carried. */
  certificates: Uint8Array[]
  revoked: PeerId[]
  /** The signed list itself, to store or pass on. */
  bytes: Uint8Array
}

/** What a verifier already knows. */
export interface VerifyDeviceListOptions {
  /** The identity the list must be from (a contact's known identity key). */
  identity?: PublicKey
  /** The highest seq already seen for this identity: the list must be newer. */
  after?: number
}

/**
 * Sign a device list with the identity key.
 *
 * @throws {InvalidDeviceListError} when a certificate is not from this identity, a device is
 * both current and revoked, or there are no devices or too many
 * @throws {RangeError} when `seq` or `issuedAt` is not a non-negative safe integer
 */
export function issueDeviceList (identityKey: PrivateKey, fields: DeviceListFields): Uint8Array {
  for (const [name, value] of [['seq', fields.seq], ['issuedAt', fields.issuedAt ?? 0]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer`)
    // protons-runtime 7 writes uint64 values from 2^31 to 2^32 - 1 wrongly.
    if (value >= 2 ** 31 && value < 2 ** 32) throw new RangeError(`${name} must not lie between 2^31 and 2^32 (a protobuf encoder bug)`)
  }
  const list = DeviceList.encode({
    version: DEVICE_LIST_VERSION,
    identityKey: new Uint8Array(publicKeyToProtobuf(identityKey.publicKey)),
    seq: BigInt(fields.seq),
    issuedAt: BigInt(fields.issuedAt ?? Date.now()),
    devices: fields.devices.map(c => new Uint8Array(c)),
    revoked: (fields.revoked ?? []).map(p => new Uint8Array(p.toMultihash().bytes))
  })
  // Check what we sign the way a receiver will, so we never publish a list nobody accepts.
  checkContents(decodeList(list), identityKey.publicKey)
  const signature = new Uint8Array(ed25519Sign(identityKey, signedBytes(list)))
  return SignedDeviceList.encode({ list, signature })
}

/**
 * Decode and verify a signed device list.
 *
 * @throws {InvalidDeviceListError} when it is oversized, malformed, not signed by its identity
 * key, from another identity than expected, or holds a certificate from another identity
 * @throws {StaleDeviceListError} when its seq is not above `options.after`
 */
export function verifyDeviceList (bytes: Uint8Array, options: VerifyDeviceListOptions = {}): VerifiedDeviceList {
  if (bytes.byteLength > MAX_DEVICE_LIST_BYTES) throw new InvalidDeviceListError(`device list is larger than ${MAX_DEVICE_LIST_BYTES} bytes`)
  const signed = canonical(SignedDeviceList, bytes)
  if (signed.signature.length !== SIGNATURE_BYTES) throw new InvalidDeviceListError('malformed device list: an Ed25519 signature is 64 bytes')
  const list = decodeList(signed.list)
  let identity: PublicKey
  try {
    identity = publicKeyFromProtobuf(list.identityKey)
  } catch (err) {
    throw new InvalidDeviceListError('malformed device list: bad identity key', { cause: err })
  }
  if (identity.type !== 'Ed25519') throw new InvalidDeviceListError('device list identity key is not Ed25519')
  if (options.identity != null && !identity.equals(options.identity)) throw new InvalidDeviceListError('device list is from another identity')
  if (!ed25519Verify(identity, signedBytes(signed.list), signed.signature)) throw new InvalidDeviceListError('device list signature does not verify')
  const seq = safeInteger(list.seq, 'seq')
  if (options.after != null && seq <= options.after) throw new StaleDeviceListError(`device list ${seq} is not newer than ${options.after}, already seen`)
  const { devices, revoked } = checkContents(list, identity)
  return {
    identity,
    identityFingerprint: identityFingerprint(identity),
    seq,
    issuedAt: safeInteger(list.issuedAt, 'issued_at'),
    devices,
    certificates: list.devices,
    revoked,
    bytes: new Uint8Array(bytes)
  }
}

/** Whether `device` is one of the list's current devices. */
export function listHasDevice (list: Pick<VerifiedDeviceList, 'devices'>, device: PeerId | string): boolean {
  const id = device.toString()
  return list.devices.some(d => d.device.toString() === id)
}

function decodeList (bytes: Uint8Array): DeviceList {
  const list = canonical(DeviceList, bytes)
  if (list.version !== DEVICE_LIST_VERSION) throw new InvalidDeviceListError(`unknown device list version ${list.version}`)
  return list
}

/** Every certificate verifies and is from `identity`; no device twice, none both current and revoked. */
function checkContents (list: DeviceList, identity: PublicKey): { devices: VerifiedDeviceCertificate[], revoked: PeerId[] } {
  if (list.devices.length === 0) throw new InvalidDeviceListError('a device list names at least one device')
  if (list.devices.length > MAX_DEVICES) throw new InvalidDeviceListError(`a device list names at most ${MAX_DEVICES} devices`)
  if (list.revoked.length > MAX_REVOKED) throw new InvalidDeviceListError(`a device list names at most ${MAX_REVOKED} revoked devices`)
  const devices = list.devices.map(c => {
    try {
      return verifyDeviceCertificate(c, { identity })
    } catch (err: any) {
      throw new InvalidDeviceListError(`device list holds a bad certificate: ${err.message}`, { cause: err })
    }
  })
  const revoked = list.revoked.map(bytes => {
    if (bytes.length === 0 || bytes.length > MAX_PEER_ID_BYTES) throw new InvalidDeviceListError('malformed device list: bad revoked device id')
    try {
      return peerIdFromMultihash(Digest.decode(bytes))
    } catch (err) {
      throw new InvalidDeviceListError('malformed device list: bad revoked device id', { cause: err })
    }
  })
  const seen = new Set<string>()
  for (const id of [...devices.map(d => d.device), ...revoked].map(String)) {
    if (seen.has(id)) throw new InvalidDeviceListError(`device list names ${id} twice`)
    seen.add(id)
  }
  return { devices, revoked }
}

function signedBytes (list: Uint8Array): Uint8Array {
  return Buffer.concat([DOMAIN, list])
}

function canonical<T> (codec: { decode: (bytes: Uint8Array) => T, encode: (value: T) => Uint8Array }, bytes: Uint8Array): T {
  return decodeCanonical(codec, bytes, 'device list', (message, cause) => new InvalidDeviceListError(message, { cause }))
}

function safeInteger (value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidDeviceListError(`malformed device list: ${field} out of range`)
  return Number(value)
}
