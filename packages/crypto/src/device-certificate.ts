import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { KithError, decodeCanonical as strictDecode } from '@kith/core'
import { ed25519Sign, ed25519Verify } from './ed25519.js'
import { identityFingerprint } from './identity-key.js'
import { DeviceCertificate, SignedDeviceCertificate } from './proto/certificate.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/**
 * Device certificates: "identity key I vouches that device key D belongs to the same user,
 * from time T (certificate number S)". The Noise handshake proves which device is at the other
 * end; a certificate proves whose device it is. Receivers check one for every message, so
 * verification is synchronous and remembers the certificates it has already verified.
 */

/** A device certificate was malformed, forged, or not the one expected. */
export class InvalidCertificateError extends KithError { static override name = 'InvalidCertificateError' }

/** Version of the DeviceCertificate format this build writes and accepts. */
export const DEVICE_CERTIFICATE_VERSION = 1

/**
 * Largest signed device certificate accepted, checked before decoding. One with Ed25519 keys
 * takes about 150 bytes; the rest is headroom, not room for larger key types (those would
 * come with a new version).
 */
export const MAX_DEVICE_CERTIFICATE_BYTES = 1024

// Signatures cover a label first, so an identity signature can never be replayed as a
// signature on anything else Kith signs (each format has its own label).
const DOMAIN = new TextEncoder().encode('kith/device-cert/v1')
const SIGNATURE_BYTES = 64

/** Options for {@link issueDeviceCertificate}. */
export interface IssueDeviceCertificateOptions {
  /** From when the device belongs to the user, in ms since the epoch. Default: now. */
  issuedAt?: number
  /**
   * The issuer's number for this certificate. The issuer keeps count across all of the user's
   * devices, so a later certificate (a re-issue, a revocation list) can be told from an
   * earlier one whatever the clocks say. Default: 0.
   */
  serial?: number
}

/** Options for {@link verifyDeviceCertificate}: what the caller already knows to expect. */
export interface VerifyDeviceCertificateOptions {
  /** The device the certificate must be for: the peer the message came from. */
  device?: PeerId
  /** The identity the certificate must come from: the contact's known identity key. */
  identity?: PublicKey
}

/** What a valid device certificate states. */
export interface VerifiedDeviceCertificate {
  /** The user's identity key, which signed the certificate. */
  identity: PublicKey
  /** {@link identityFingerprint} of `identity`. */
  identityFingerprint: string
  /** The certified device. */
  device: PeerId
  /** From when the device belongs to the user, in ms since the epoch. */
  issuedAt: number
  /** The issuer's number for the certificate. */
  serial: number
}

/**
 * Certify `devicePublicKey` (a device's libp2p public key) as a device of the user whose
 * identity key is `identityKey`. Returns the encoded SignedDeviceCertificate.
 *
 * @throws {TypeError} when a key is not Ed25519, or the identity key is given as its own device
 * @throws {RangeError} when `issuedAt` or `serial` is not a non-negative safe integer, or lies
 * in [2^31, 2^32), which protons-runtime 7 encodes wrongly
 */
export function issueDeviceCertificate (identityKey: PrivateKey, devicePublicKey: PublicKey, options: IssueDeviceCertificateOptions = {}): Uint8Array {
  if (identityKey.type !== 'Ed25519') throw new TypeError('identity keys are Ed25519')
  if (devicePublicKey.type !== 'Ed25519') throw new TypeError('device keys are Ed25519')
  if (identityKey.publicKey.equals(devicePublicKey)) throw new TypeError('an identity key cannot be a device key')
  const issuedAt = options.issuedAt ?? Date.now()
  const serial = options.serial ?? 0
  for (const [name, value] of [['issuedAt', issuedAt], ['serial', serial]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer`)
    // protons-runtime 7 writes uint64 values from 2^31 to 2^32 - 1 wrongly (they read back as 0
    // or fail): refuse them rather than sign a certificate that does not say what was meant.
    if (value >= 2 ** 31 && value < 2 ** 32) throw new RangeError(`${name} must not lie between 2^31 and 2^32 (a protobuf encoder bug)`)
  }
  const certificate = DeviceCertificate.encode({
    version: DEVICE_CERTIFICATE_VERSION,
    identityKey: new Uint8Array(publicKeyToProtobuf(identityKey.publicKey)),
    deviceKey: new Uint8Array(publicKeyToProtobuf(devicePublicKey)),
    issuedAt: BigInt(issuedAt),
    serial: BigInt(serial)
  })
  const signature = new Uint8Array(ed25519Sign(identityKey, signedBytes(certificate)))
  return SignedDeviceCertificate.encode({ certificate, signature })
}

/**
 * Decode and verify a signed device certificate and, when given, check that it is for
 * `options.device` and from `options.identity`.
 *
 * @throws {InvalidCertificateError} when it is larger than {@link MAX_DEVICE_CERTIFICATE_BYTES},
 * malformed, of an unknown version, not signed by its identity key, has a key that is not
 * Ed25519, or is for another device or from another identity than expected
 */
export function verifyDeviceCertificate (bytes: Uint8Array, options: VerifyDeviceCertificateOptions = {}): VerifiedDeviceCertificate {
  if (bytes.byteLength > MAX_DEVICE_CERTIFICATE_BYTES) throw new InvalidCertificateError(`device certificate is larger than ${MAX_DEVICE_CERTIFICATE_BYTES} bytes`)
  const cacheKey = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let verified = verifiedCache.get(cacheKey)
  if (verified == null) {
    verified = verify(bytes)
    if (verifiedCache.size >= VERIFIED_CACHE_SIZE) verifiedCache.delete(verifiedCache.keys().next().value as string)
    verifiedCache.set(cacheKey, verified)
  }
  if (options.identity != null && !verified.identity.equals(options.identity)) throw new InvalidCertificateError('device certificate is from another identity')
  if (options.device != null && !verified.device.equals(options.device)) throw new InvalidCertificateError('device certificate is for another device')
  return { ...verified }
}

// A user's devices each present the same certificate with every message: verifying it again
// (two key parses, a signature check, a hash) would cost more than the message itself. Only
// certificates that verified are kept, under their exact bytes, and the result depends on
// nothing else, so a hit is as good as a check; what the caller expects is checked every time.
const VERIFIED_CACHE_SIZE = 1024
const verifiedCache = new Map<string, VerifiedDeviceCertificate>()

function verify (bytes: Uint8Array): VerifiedDeviceCertificate {
  const signed = decodeCanonical(SignedDeviceCertificate, bytes)
  if (signed.signature.length !== SIGNATURE_BYTES) throw new InvalidCertificateError('malformed device certificate: an Ed25519 signature is 64 bytes')
  const certificate = decodeCanonical(DeviceCertificate, signed.certificate)
  if (certificate.version !== DEVICE_CERTIFICATE_VERSION) throw new InvalidCertificateError(`unknown device certificate version ${certificate.version}`)
  const identity = parseKey(certificate.identityKey, 'identity')
  if (!ed25519Verify(identity, signedBytes(signed.certificate), signed.signature)) throw new InvalidCertificateError('device certificate signature does not verify')
  const device = parseKey(certificate.deviceKey, 'device')
  if (device.equals(identity)) throw new InvalidCertificateError('an identity key cannot be a device key')
  return {
    identity,
    identityFingerprint: identityFingerprint(identity),
    device: peerIdFromPublicKey(device),
    issuedAt: safeInteger(certificate.issuedAt, 'issued_at'),
    serial: safeInteger(certificate.serial, 'serial')
  }
}

function signedBytes (certificate: Uint8Array): Uint8Array {
  return Buffer.concat([DOMAIN, certificate])
}

/** Only this build's own encoding: one encoding per certificate, so the cache above sees one key per certificate. */
function decodeCanonical<T> (codec: { decode: (bytes: Uint8Array) => T, encode: (value: T) => Uint8Array }, bytes: Uint8Array): T {
  return strictDecode(codec, bytes, 'device certificate', (message, cause) => new InvalidCertificateError(message, { cause }))
}

function parseKey (bytes: Uint8Array, role: 'identity' | 'device'): PublicKey {
  let key: PublicKey
  try {
    key = publicKeyFromProtobuf(bytes)
  } catch (err) {
    throw new InvalidCertificateError(`malformed device certificate: bad ${role} key`, { cause: err })
  }
  if (key.type !== 'Ed25519') throw new InvalidCertificateError(`device certificate ${role} key is ${key.type}, not Ed25519`)
  return key
}

function safeInteger (value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidCertificateError(`malformed device certificate: ${field} out of range`)
  return Number(value)
}
