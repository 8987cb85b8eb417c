import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, privateKeyFromRaw, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { fromHex } from '@kith/core'
import {
  DEVICE_CERTIFICATE_VERSION, InvalidCertificateError, MAX_DEVICE_CERTIFICATE_BYTES, issueDeviceCertificate, verifyDeviceCertificate
} from '../src/device-certificate.js'
import { ed25519Sign } from '../src/ed25519.js'
import { identityFingerprint } from '../src/identity-key.js'
import { DeviceCertificate, SignedDeviceCertificate } from '../src/proto/certificate.js'
import type { VerifyDeviceCertificateOptions } from '../src/device-certificate.js'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

// Written out here rather than imported: it is part of the wire format.
const DOMAIN = new TextEncoder().encode('kith/device-cert/v1')

let alice: PrivateKey // Alice's identity key
let laptop: PrivateKey // Alice's devices
let phone: PrivateKey
let desktop: PrivateKey
let mallory: PrivateKey // another user's identity key
let malloryDevice: PrivateKey
beforeAll(async () => {
  const ed25519 = async (): Promise<PrivateKey> => generateKeyPair('Ed25519')
  ;[alice, laptop, phone, desktop, mallory, malloryDevice] = await Promise.all([ed25519(), ed25519(), ed25519(), ed25519(), ed25519(), ed25519()])
})

const encoded = (key: PublicKey): Uint8Array<ArrayBuffer> => new Uint8Array(publicKeyToProtobuf(key))

/** A certificate built by hand, so tests can sign what issueDeviceCertificate never would. */
function handmade (signer: PrivateKey, fields: Partial<DeviceCertificate> = {}, sign: (certificate: Uint8Array) => Uint8Array = c => Buffer.concat([DOMAIN, c])): Uint8Array {
  const certificate = DeviceCertificate.encode({
    version: DEVICE_CERTIFICATE_VERSION,
    identityKey: encoded(signer.publicKey),
    deviceKey: encoded(laptop.publicKey),
    issuedAt: 1_700_000_000_000n,
    serial: 1n,
    ...fields
  })
  return SignedDeviceCertificate.encode({ certificate, signature: new Uint8Array(ed25519Sign(signer, sign(certificate))) })
}

function rejection (bytes: Uint8Array, options?: VerifyDeviceCertificateOptions): Error {
  try {
    verifyDeviceCertificate(bytes, options)
  } catch (err) {
    return err as Error
  }
  throw new Error('the certificate was accepted')
}

function expectInvalid (bytes: Uint8Array, reason: RegExp, options?: VerifyDeviceCertificateOptions): void {
  const err = rejection(bytes, options)
  expect(err.name).toBe('InvalidCertificateError')
  expect(err).toBeInstanceOf(InvalidCertificateError)
  expect(err.message).toMatch(reason)
}

/** The certificate with its signature changed. */
function tamperSignature (bytes: Uint8Array, change: (signature: Uint8Array) => Uint8Array): Uint8Array {
  const signed = SignedDeviceCertificate.decode(bytes)
  return SignedDeviceCertificate.encode({ ...signed, signature: new Uint8Array(change(new Uint8Array(signed.signature))) })
}

/** The certificate with its signed part changed, and the old signature kept. */
function tamperCertificate (bytes: Uint8Array, change: Partial<DeviceCertificate>): Uint8Array {
  const signed = SignedDeviceCertificate.decode(bytes)
  return SignedDeviceCertificate.encode({ ...signed, certificate: DeviceCertificate.encode({ ...DeviceCertificate.decode(signed.certificate), ...change }) })
}

describe('issueDeviceCertificate / verifyDeviceCertificate', () => {
  it('round-trips: names the identity, its fingerprint, the device, the time and the serial', () => {
    const bytes = issueDeviceCertificate(alice, laptop.publicKey, { issuedAt: 1_700_000_000_123, serial: 7 })
    const verified = verifyDeviceCertificate(bytes)
    expect(verified.identity.equals(alice.publicKey)).toBe(true)
    expect(verified.identityFingerprint).toBe(identityFingerprint(alice.publicKey))
    expect(verified.device.equals(peerIdFromPrivateKey(laptop))).toBe(true)
    expect(verified.issuedAt).toBe(1_700_000_000_123)
    expect(verified.serial).toBe(7)
  })

  it('dates a certificate now and numbers it 0 unless told otherwise', () => {
    const before = Date.now()
    const verified = verifyDeviceCertificate(issueDeviceCertificate(alice, phone.publicKey))
    expect(verified.issuedAt).toBeGreaterThanOrEqual(before)
    expect(verified.issuedAt).toBeLessThanOrEqual(Date.now())
    expect(verified.serial).toBe(0)
  })

  it('accepts the largest values it can issue', () => {
    const verified = verifyDeviceCertificate(issueDeviceCertificate(alice, phone.publicKey, { issuedAt: 0, serial: Number.MAX_SAFE_INTEGER }))
    expect(verified.issuedAt).toBe(0)
    expect(verified.serial).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('passes when the expected device and identity are the ones certified', () => {
    const bytes = issueDeviceCertificate(alice, laptop.publicKey)
    const verified = verifyDeviceCertificate(bytes, { device: peerIdFromPrivateKey(laptop), identity: alice.publicKey })
    expect(verified.device.equals(peerIdFromPrivateKey(laptop))).toBe(true)
  })

  it('certifies several devices of one user, each for itself only', () => {
    const devices = [laptop, phone, desktop]
    const certificates = devices.map((device, serial) => issueDeviceCertificate(alice, device.publicKey, { serial }))
    devices.forEach((device, i) => {
      const verified = verifyDeviceCertificate(certificates[i]!, { device: peerIdFromPrivateKey(device), identity: alice.publicKey })
      expect(verified.identityFingerprint).toBe(identityFingerprint(alice.publicKey))
      expect(verified.serial).toBe(i)
      for (const other of devices.filter(d => d !== device)) {
        expectInvalid(certificates[i]!, /another device/, { device: peerIdFromPrivateKey(other) })
      }
    })
  })

  it('writes the documented wire format: version 1, protobuf keys, a signature over the label and the certificate', async () => {
    // RFC 8032 section 7.1 test 1 as the identity: deterministic signatures, fixed bytes.
    const identity = privateKeyFromRaw(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))
    const bytes = issueDeviceCertificate(identity, laptop.publicKey, { issuedAt: 1_700_000_000_000, serial: 3 })
    expect(bytes.length).toBeLessThan(200)
    const signed = SignedDeviceCertificate.decode(bytes)
    expect(DeviceCertificate.decode(signed.certificate)).toEqual({
      version: 1, identityKey: encoded(identity.publicKey), deviceKey: encoded(laptop.publicKey), issuedAt: 1_700_000_000_000n, serial: 3n
    })
    // Checked with libp2p's own Ed25519, not the node:crypto path that made it.
    expect(await identity.publicKey.verify(Buffer.concat([DOMAIN, signed.certificate]), signed.signature)).toBe(true)
    expect(issueDeviceCertificate(identity, laptop.publicKey, { issuedAt: 1_700_000_000_000, serial: 3 })).toEqual(bytes)
  })

  it('gives a result the caller may change without changing the next one', () => {
    const bytes = issueDeviceCertificate(alice, desktop.publicKey, { serial: 5 })
    const first = verifyDeviceCertificate(bytes)
    first.serial = 99
    first.device = peerIdFromPrivateKey(malloryDevice)
    const second = verifyDeviceCertificate(bytes)
    expect(second.serial).toBe(5)
    expect(second.device.equals(peerIdFromPrivateKey(desktop))).toBe(true)
  })
})

describe('verifyDeviceCertificate rejects, with InvalidCertificateError', () => {
  it('input over MAX_DEVICE_CERTIFICATE_BYTES, before decoding it', () => {
    expect(MAX_DEVICE_CERTIFICATE_BYTES).toBe(1024)
    // A valid certificate with padding in an unknown field: only the size check names the size.
    const valid = issueDeviceCertificate(alice, laptop.publicKey)
    const padded = (total: number): Uint8Array => {
      const padding = total - valid.length - 3 // tag (1) + 2-byte length
      return Buffer.concat([valid, Buffer.from([0x1a, 0x80 | (padding & 0x7f), padding >> 7]), Buffer.alloc(padding)])
    }
    expect(padded(MAX_DEVICE_CERTIFICATE_BYTES + 1)).toHaveLength(MAX_DEVICE_CERTIFICATE_BYTES + 1)
    expectInvalid(padded(MAX_DEVICE_CERTIFICATE_BYTES + 1), /larger than 1024 bytes/)
    expectInvalid(padded(MAX_DEVICE_CERTIFICATE_BYTES), /malformed/)
    expectInvalid(new Uint8Array(16 * 1024 * 1024), /larger than 1024 bytes/)
  })

  it('bytes that are not a certificate', () => {
    const valid = issueDeviceCertificate(alice, laptop.publicKey)
    expectInvalid(new Uint8Array(0), /malformed/)
    expectInvalid(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), /malformed/)
    expectInvalid(new TextEncoder().encode('certainly a certificate'), /malformed/)
    expectInvalid(valid.subarray(0, valid.length - 1), /malformed/)
    expectInvalid(valid.subarray(0, 40), /malformed/)
    expectInvalid(valid.subarray(1), /malformed/)
  })

  it('a certificate in any encoding but its own: extra or unknown fields, fields out of order', () => {
    const valid = issueDeviceCertificate(alice, laptop.publicKey)
    const signed = SignedDeviceCertificate.decode(valid)
    expectInvalid(Buffer.concat([valid, Buffer.from([0x18, 0x01])]), /malformed/) // unknown field 3
    expectInvalid(Buffer.concat([valid, Buffer.from([0x12, 0x00])]), /malformed/) // a second, empty signature
    const reordered = Buffer.concat([SignedDeviceCertificate.encode({ signature: signed.signature }), SignedDeviceCertificate.encode({ certificate: signed.certificate })])
    expectInvalid(reordered, /malformed/)
    // Inside the signed part as well, even with a valid signature over it.
    const certificate = Buffer.concat([signed.certificate, Buffer.from([0x30, 0x01])]) // unknown field 6
    expectInvalid(SignedDeviceCertificate.encode({ certificate, signature: new Uint8Array(ed25519Sign(alice, Buffer.concat([DOMAIN, certificate]))) }), /malformed/)
  })

  it('a signature that is not 64 bytes long', () => {
    const valid = issueDeviceCertificate(alice, laptop.publicKey)
    for (const length of [0, 63, 65]) {
      expectInvalid(tamperSignature(valid, () => new Uint8Array(length)), /malformed/)
    }
  })

  it('an unknown version, even correctly signed', () => {
    expect(verifyDeviceCertificate(handmade(alice)).serial).toBe(1)
    expectInvalid(handmade(alice, { version: 2 }), /unknown device certificate version 2/)
    expectInvalid(handmade(alice, { version: 0 }), /unknown device certificate version 0/)
    expectInvalid(handmade(alice, { version: 0xffffffff }), /unknown device certificate version/)
  })

  it('a flipped signature bit, wherever it is', () => {
    const valid = issueDeviceCertificate(alice, laptop.publicKey)
    for (const index of [0, 31, 32, 63]) {
      expectInvalid(tamperSignature(valid, signature => {
        signature[index] = signature[index]! ^ 0x80
        return signature
      }), /signature does not verify/)
    }
  })

  it('a certificate changed after signing: another device, identity, time or serial', () => {
    const valid = issueDeviceCertificate(alice, laptop.publicKey, { issuedAt: 1_700_000_000_000, serial: 2 })
    expect(verifyDeviceCertificate(tamperCertificate(valid, {})).serial).toBe(2)
    expectInvalid(tamperCertificate(valid, { deviceKey: encoded(malloryDevice.publicKey) }), /signature does not verify/)
    expectInvalid(tamperCertificate(valid, { identityKey: encoded(mallory.publicKey) }), /signature does not verify/)
    expectInvalid(tamperCertificate(valid, { issuedAt: 1_600_000_000_000n }), /signature does not verify/)
    expectInvalid(tamperCertificate(valid, { serial: 3n }), /signature does not verify/)
  })

  it('a certificate naming one identity, signed by another', () => {
    expectInvalid(handmade(mallory, { identityKey: encoded(alice.publicKey) }), /signature does not verify/)
  })

  it('a signature over the certificate without the domain label, or under another label', () => {
    expectInvalid(handmade(alice, {}, c => c), /signature does not verify/)
    expectInvalid(handmade(alice, {}, c => Buffer.concat([new TextEncoder().encode('kith/dm/v1'), c])), /signature does not verify/)
    expectInvalid(handmade(alice, {}, c => Buffer.concat([new TextEncoder().encode('kith/device-cert/v2'), c])), /signature does not verify/)
  })

  it('a certificate for another device than expected', () => {
    const bytes = issueDeviceCertificate(alice, laptop.publicKey)
    expectInvalid(bytes, /another device/, { device: peerIdFromPrivateKey(malloryDevice) })
    // The identity key is not a device: its own peer id does not match either.
    expectInvalid(bytes, /another device/, { device: peerIdFromPrivateKey(alice), identity: alice.publicKey })
  })

  it('a certificate from another identity than expected', () => {
    const bytes = issueDeviceCertificate(mallory, laptop.publicKey)
    expect(verifyDeviceCertificate(bytes, { device: peerIdFromPrivateKey(laptop) }).identity.equals(mallory.publicKey)).toBe(true)
    expectInvalid(bytes, /another identity/, { identity: alice.publicKey })
    expectInvalid(bytes, /another identity/, { device: peerIdFromPrivateKey(laptop), identity: alice.publicKey })
  })

  it('what it has verified before, when it is not what the caller expects now', () => {
    const bytes = issueDeviceCertificate(alice, phone.publicKey)
    verifyDeviceCertificate(bytes, { device: peerIdFromPrivateKey(phone), identity: alice.publicKey })
    expectInvalid(bytes, /another device/, { device: peerIdFromPrivateKey(laptop) })
    expectInvalid(bytes, /another identity/, { identity: mallory.publicKey })
  })

  it('keys that are not Ed25519', async () => {
    const secpIdentity = await generateKeyPair('secp256k1')
    const secpDevice = await generateKeyPair('secp256k1')
    // An Ed25519 identity certifying a secp256k1 device, correctly signed.
    expectInvalid(handmade(alice, { deviceKey: encoded(secpDevice.publicKey) }), /device key is secp256k1, not Ed25519/)
    // A secp256k1 identity: refused before its signature means anything.
    const certificate = DeviceCertificate.encode({ version: 1, identityKey: encoded(secpIdentity.publicKey), deviceKey: encoded(laptop.publicKey), issuedAt: 1n, serial: 1n })
    const signature = new Uint8Array(await secpIdentity.sign(Buffer.concat([DOMAIN, certificate])))
    expectInvalid(SignedDeviceCertificate.encode({ certificate, signature: signature.subarray(0, 64) }), /identity key is secp256k1, not Ed25519/)
  })

  it('keys that are not keys', () => {
    expectInvalid(handmade(alice, { deviceKey: new Uint8Array(0) }), /bad device key/)
    expectInvalid(handmade(alice, { deviceKey: new Uint8Array([0x08, 0x01, 0x12, 0x03, 1, 2, 3]) }), /bad device key/)
    expectInvalid(handmade(alice, { identityKey: new Uint8Array(36) }), /bad identity key/)
  })

  it('an identity key certifying itself as a device', () => {
    expectInvalid(handmade(alice, { deviceKey: encoded(alice.publicKey) }), /cannot be a device key/)
  })

  it('a time or serial beyond what a JavaScript number holds exactly', () => {
    expectInvalid(handmade(alice, { issuedAt: 2n ** 53n }), /issued_at out of range/)
    expectInvalid(handmade(alice, { serial: 2n ** 64n - 1n }), /serial out of range/)
  })
})

describe('issueDeviceCertificate refuses', () => {
  it('keys that are not Ed25519, and the identity key as its own device', async () => {
    const secp = await generateKeyPair('secp256k1')
    expect(() => issueDeviceCertificate(secp, laptop.publicKey)).toThrow(TypeError)
    expect(() => issueDeviceCertificate(alice, secp.publicKey)).toThrow(TypeError)
    expect(() => issueDeviceCertificate(alice, alice.publicKey)).toThrow(TypeError)
  })

  it('a time or serial that is not a non-negative safe integer, or that protons would encode wrongly', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 31, 3e9, 2 ** 32 - 1]) {
      expect(() => issueDeviceCertificate(alice, laptop.publicKey, { issuedAt: bad })).toThrow(RangeError)
      expect(() => issueDeviceCertificate(alice, laptop.publicKey, { serial: bad })).toThrow(RangeError)
    }
    // Either side of that range round-trips.
    for (const good of [2 ** 31 - 1, 2 ** 32]) {
      expect(verifyDeviceCertificate(issueDeviceCertificate(alice, laptop.publicKey, { serial: good })).serial).toBe(good)
    }
  })
})
