import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { issueDeviceCertificate } from '../src/device-certificate.js'
import {
  DEVICE_LIST_VERSION, InvalidDeviceListError, MAX_DEVICE_LIST_BYTES, MAX_DEVICES, StaleDeviceListError, issueDeviceList, listHasDevice, verifyDeviceList
} from '../src/device-list.js'
import { ed25519Sign } from '../src/ed25519.js'
import { DeviceList, SignedDeviceList } from '../src/proto/device-list.js'
import type { PrivateKey } from '@libp2p/interface'

// Written out here rather than imported: it is part of the wire format.
const DOMAIN = new TextEncoder().encode('kith/device-list/v1')

let alice: PrivateKey // Alice's identity key
let laptop: PrivateKey // her devices
let phone: PrivateKey
let mallory: PrivateKey // another user's identity key
let malloryDevice: PrivateKey
let laptopCert: Uint8Array
let phoneCert: Uint8Array
beforeAll(async () => {
  ;[alice, laptop, phone, mallory, malloryDevice] = await Promise.all(Array.from({ length: 5 }, async () => await generateKeyPair('Ed25519')))
  laptopCert = issueDeviceCertificate(alice, laptop.publicKey, { serial: 0 })
  phoneCert = issueDeviceCertificate(alice, phone.publicKey, { serial: 1 })
})

/** A list signed by hand, so tests can sign what issueDeviceList never would. */
function handmade (signer: PrivateKey, fields: Partial<DeviceList> = {}): Uint8Array {
  const list = DeviceList.encode({
    version: DEVICE_LIST_VERSION,
    identityKey: new Uint8Array(publicKeyToProtobuf(signer.publicKey)),
    seq: 1n,
    issuedAt: 1_700_000_000_000n,
    devices: [new Uint8Array(laptopCert)],
    revoked: [],
    ...fields
  })
  return SignedDeviceList.encode({ list, signature: new Uint8Array(ed25519Sign(signer, Buffer.concat([DOMAIN, list]))) })
}

function expectRefused (bytes: Uint8Array, message: RegExp, options = {}): void {
  let error: unknown
  try { verifyDeviceList(bytes, options) } catch (err) { error = err }
  expect(error).toBeInstanceOf(InvalidDeviceListError)
  expect((error as Error).message).toMatch(message)
}

describe('device lists', () => {
  it('round-trip: the identity, its devices in order, the revoked ones and the seq', () => {
    const revoked = peerIdFromPrivateKey(mallory)
    const list = verifyDeviceList(issueDeviceList(alice, { seq: 7, devices: [laptopCert, phoneCert], revoked: [revoked], issuedAt: 1_700_000_000_000 }), { identity: alice.publicKey, after: 6 })
    expect(list.identity.equals(alice.publicKey)).toBe(true)
    expect(list.seq).toBe(7)
    expect(list.issuedAt).toBe(1_700_000_000_000)
    expect(list.devices.map(d => d.device.toString())).toEqual([peerIdFromPrivateKey(laptop).toString(), peerIdFromPrivateKey(phone).toString()])
    expect(list.revoked.map(String)).toEqual([revoked.toString()])
    expect(listHasDevice(list, peerIdFromPrivateKey(phone))).toBe(true)
    expect(listHasDevice(list, revoked)).toBe(false)
  })

  it('refuses a forged signature, and a list from another identity than expected', () => {
    const bytes = issueDeviceList(alice, { seq: 1, devices: [laptopCert] })
    const tampered = new Uint8Array(bytes)
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    expectRefused(tampered, /signature does not verify/)
    // Mallory signs a list naming Alice's laptop certificate under his own key.
    expectRefused(handmade(mallory), /bad certificate: device certificate is from another identity/)
    const own = issueDeviceList(mallory, { seq: 1, devices: [issueDeviceCertificate(mallory, malloryDevice.publicKey)] })
    expect(verifyDeviceList(own).identity.equals(mallory.publicKey)).toBe(true)
    expectRefused(own, /from another identity/, { identity: alice.publicKey })
  })

  it('will not sign a certificate from another identity', () => {
    expect(() => issueDeviceList(mallory, { seq: 1, devices: [laptopCert] })).toThrow(InvalidDeviceListError)
  })

  it('refuses a stale list: a seq not above the one already seen', () => {
    const bytes = issueDeviceList(alice, { seq: 5, devices: [laptopCert] })
    expect(() => verifyDeviceList(bytes, { after: 5 })).toThrow(StaleDeviceListError)
    expect(() => verifyDeviceList(bytes, { after: 9 })).toThrow(StaleDeviceListError)
    expect(verifyDeviceList(bytes, { after: 4 }).seq).toBe(5)
  })

  it('refuses oversized input before decoding, and any encoding but its own', () => {
    expectRefused(new Uint8Array(MAX_DEVICE_LIST_BYTES + 1), /larger than/)
    const valid = issueDeviceList(alice, { seq: 1, devices: [laptopCert] })
    expectRefused(Buffer.concat([valid, Buffer.from([0x1a, 0x01, 0x00])]), /malformed device list/)
    expectRefused(valid.subarray(0, valid.length - 3), /malformed device list/)
    expectRefused(handmade(alice, { version: 2 }), /unknown device list version 2/)
  })

  it('refuses lists with no device, too many, one twice, or one both current and revoked', () => {
    expectRefused(handmade(alice, { devices: [] }), /at least one device/)
    expectRefused(handmade(alice, { devices: Array.from({ length: MAX_DEVICES + 1 }, () => new Uint8Array(laptopCert)) }), /at most 16 devices/)
    expectRefused(handmade(alice, { devices: [new Uint8Array(laptopCert), new Uint8Array(laptopCert)] }), /twice/)
    expectRefused(handmade(alice, { revoked: [new Uint8Array(peerIdFromPrivateKey(laptop).toMultihash().bytes)] }), /twice/)
    expectRefused(handmade(alice, { revoked: [new Uint8Array([1, 2, 3])] }), /bad revoked device id/)
  })
})
