import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { beforeAll, describe, expect, it } from 'vitest'
import { identityFingerprint, issueDeviceCertificate, issueDeviceList } from '@kith/crypto'
import {
  InvalidPresenceError, MAX_PRESENCE_AGE_MS, MAX_PRESENCE_BYTES, MAX_PRESENCE_CLOCK_SKEW_MS, PRESENCE_LIMITS,
  nextPresenceSeq, openPresence, signPresence
} from '../src/index.js'
import { PresenceRecord } from '../src/proto/presence.js'
import { FRIEND_PEER, NOW, RELAY_PEER, fieldsOf, makeUser, rawFieldsOf, reasonOf, signEncoded, signRaw } from './helpers.js'
import type { User } from './helpers.js'

let alice: User
let bob: User
let record: Uint8Array
/** Alice's largest device list: 16 devices and 64 revoked ones. */
let largestList: Uint8Array<ArrayBuffer>

beforeAll(async () => {
  [alice, bob] = await Promise.all([makeUser(), makeUser()])
  record = signPresence(alice.identityKey, fieldsOf(alice))
  const devices = [alice.certificate, ...await Promise.all(Array.from({ length: 15 }, async () => issueDeviceCertificate(alice.identityKey, (await generateKeyPair('Ed25519')).publicKey)))]
  const revoked = await Promise.all(Array.from({ length: 64 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
  largestList = new Uint8Array(issueDeviceList(alice.identityKey, { seq: 1, devices, revoked }))
})

/** A multiaddr of exactly `bytes` bytes (at least 8): a DNS name sized to fit. */
function addrOfSize (bytes: number, suffix = ''): Uint8Array<ArrayBuffer> {
  const fixed = multiaddr(`/dns4/a/tcp/1${suffix}`).bytes.byteLength - 1
  for (let name = bytes - fixed - 2; name <= bytes - fixed; name++) {
    const addr = multiaddr(`/dns4/${'a'.repeat(name)}/tcp/1${suffix}`).bytes
    if (addr.byteLength === bytes) return new Uint8Array(addr)
  }
  throw new Error(`no address of ${bytes} bytes`)
}

const open = (bytes: Uint8Array, now = NOW): ReturnType<typeof openPresence> => openPresence(bytes, { identity: alice.identityKey.publicKey, now })
const reason = (bytes: Uint8Array, now = NOW): string => reasonOf(() => open(bytes, now))
const raw = (overrides: Partial<PresenceRecord>, signer = alice.identityKey): Uint8Array => signRaw(signer, { ...rawFieldsOf(alice), ...overrides })

describe('presence record round trip', () => {
  it('opens to exactly what was signed', () => {
    const opened = open(record)
    expect(opened.identity.equals(alice.identityKey.publicKey)).toBe(true)
    expect(opened.identityFingerprint).toBe(identityFingerprint(alice.identityKey.publicKey))
    expect(opened.seq).toBe(NOW)
    expect(opened.device.equals(alice.device)).toBe(true)
    expect(Buffer.from(opened.certificate).equals(alice.certificate)).toBe(true)
    expect(opened.addrs.map(String)).toEqual(['/ip4/192.168.1.20/tcp/4001', '/ip6/::1/udp/4001/quic-v1'])
    expect(opened.relays.map(String)).toEqual([`/ip4/1.2.3.4/tcp/4001/p2p/${RELAY_PEER}/p2p-circuit`])
    expect(opened.mailboxes.map(String)).toEqual([`/ip4/5.6.7.8/tcp/4001/p2p/${FRIEND_PEER}`])
    expect(opened.prekeys).toEqual(new Uint8Array(100).fill(7))
    expect(opened.relay).toBe(true)
    expect(opened.record).toBe(record)
  })

  it('opens by fingerprint, and with no expected identity at all', () => {
    expect(openPresence(record, { identity: identityFingerprint(alice.identityKey.publicKey), now: NOW }).seq).toBe(NOW)
    expect(openPresence(record, { now: NOW }).identity.equals(alice.identityKey.publicKey)).toBe(true)
    expect(() => openPresence(record, { identity: 'not a fingerprint', now: NOW })).toThrow(TypeError)
  })

  it('has defaults for what a device may not have, and one encoding for an empty bundle', () => {
    const minimal = signPresence(alice.identityKey, { seq: NOW, certificate: alice.certificate, device: alice.device })
    const opened = open(minimal)
    expect([opened.addrs, opened.relays, opened.mailboxes, opened.relay]).toEqual([[], [], [], false])
    expect(opened.prekeys.byteLength).toBe(0)
    expect(signPresence(alice.identityKey, { seq: NOW, certificate: alice.certificate, device: alice.device, prekeys: new Uint8Array(0) })).toEqual(minimal)
  })

  it('carries the signed device list, verified, and refuses one that is forged or leaves the device out', async () => {
    const list = issueDeviceList(alice.identityKey, { seq: 3, devices: [alice.certificate] })
    const opened = open(signPresence(alice.identityKey, fieldsOf(alice, { deviceList: list })))
    expect(Buffer.from(opened.deviceList).equals(list)).toBe(true)
    expect(open(record).deviceList.byteLength).toBe(0)
    // A list without the record's device, or from another identity, is refused when signing and when opening.
    const other = await generateKeyPair('Ed25519')
    const without = issueDeviceList(alice.identityKey, { seq: 4, devices: [issueDeviceCertificate(alice.identityKey, other.publicKey)] })
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { deviceList: without }))).toThrow(/does not name the device/)
    expect(reason(raw({ deviceList: new Uint8Array(without) }))).toBe('forged')
    expect(reason(raw({ deviceList: new Uint8Array(issueDeviceList(bob.identityKey, { seq: 1, devices: [bob.certificate] })) }))).toBe('forged')
    const forged = new Uint8Array(list)
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    expect(reason(raw({ deviceList: forged }))).toBe('forged')
  })

  it('drops the device from a relay address as libp2p lists it', () => {
    const listed = multiaddr(`/ip4/1.2.3.4/tcp/4001/p2p/${RELAY_PEER}/p2p-circuit/p2p/${alice.device.toString()}`)
    expect(open(signPresence(alice.identityKey, fieldsOf(alice, { relays: [listed] }))).relays.map(String))
      .toEqual([`/ip4/1.2.3.4/tcp/4001/p2p/${RELAY_PEER}/p2p-circuit`])
  })

  it('keeps a typical record well under 1 KiB', () => {
    expect(record.byteLength).toBeLessThan(1024)
  })

  it('numbers records after the clock, never going back or repeating', () => {
    expect(nextPresenceSeq(undefined, NOW)).toBe(NOW)
    expect(nextPresenceSeq(NOW - 5, NOW)).toBe(NOW)
    expect(nextPresenceSeq(NOW, NOW)).toBe(NOW + 1)
    expect(nextPresenceSeq(NOW + 60_000, NOW)).toBe(NOW + 60_001)
  })
})

describe('signPresence refuses what readers would', () => {
  it('refuses a key that is not Ed25519, and bad seqs', async () => {
    const secp = await generateKeyPair('secp256k1')
    expect(() => signPresence(secp, fieldsOf(alice))).toThrow(TypeError)
    for (const seq of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, 2 ** 31, 2 ** 32 - 1]) {
      expect(() => signPresence(alice.identityKey, fieldsOf(alice, { seq }))).toThrow(RangeError)
    }
  })

  it("refuses another device's or another identity's certificate", () => {
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { device: bob.device }))).toThrow(expect.objectContaining({ name: 'InvalidCertificateError' }))
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { certificate: bob.certificate, device: bob.device }))).toThrow(expect.objectContaining({ name: 'InvalidCertificateError' }))
  })

  it('refuses fields over their limits, and a record over the size limit', () => {
    const many = (n: number, make: (i: number) => string): ReturnType<typeof multiaddr>[] => Array.from({ length: n }, (_, i) => multiaddr(make(i)))
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { addrs: many(17, i => `/ip4/10.0.0.${i}/tcp/1`) }))).toThrow(RangeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { relays: many(9, i => `/ip4/10.0.0.${i}/tcp/1/p2p/${RELAY_PEER}/p2p-circuit`) }))).toThrow(RangeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { mailboxes: many(9, i => `/ip4/10.0.0.${i}/tcp/1/p2p/${FRIEND_PEER}`) }))).toThrow(RangeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { addrs: [multiaddr(addrOfSize(257))] }))).toThrow(RangeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { prekeys: new Uint8Array(2049) }))).toThrow(RangeError)
    const big = many(16, () => '/dns4/x/tcp/1').map(() => multiaddr(addrOfSize(256)))
    const bigRelays = many(8, () => '/dns4/x/tcp/1').map(() => multiaddr(addrOfSize(256, `/p2p/${RELAY_PEER}/p2p-circuit`)))
    const bigMailboxes = many(8, () => '/dns4/x/tcp/1').map(() => multiaddr(addrOfSize(256, `/p2p/${FRIEND_PEER}`)))
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { addrs: big, relays: bigRelays, mailboxes: bigMailboxes, prekeys: new Uint8Array(2048), deviceList: largestList }))).toThrow(RangeError)
  })

  it('refuses relay and mailbox addresses of the wrong shape', () => {
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { relays: [multiaddr('/ip4/1.2.3.4/tcp/1')] }))).toThrow(TypeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { relays: [multiaddr('/ip4/1.2.3.4/tcp/1/p2p-circuit')] }))).toThrow(TypeError)
    expect(() => signPresence(alice.identityKey, fieldsOf(alice, { mailboxes: [multiaddr('/ip4/1.2.3.4/tcp/1')] }))).toThrow(TypeError)
  })
})

describe('openPresence limits', () => {
  it('refuses more than MAX_PRESENCE_BYTES before decoding, and takes exactly that many', () => {
    // Random bytes would be malformed: oversized means the size was checked first.
    expect(reason(new Uint8Array(MAX_PRESENCE_BYTES + 1).fill(0xff))).toBe('oversized')
    expect(largestList.byteLength).toBeLessThanOrEqual(PRESENCE_LIMITS.maxDeviceListBytes)
    const fill = (prekeys: number): Uint8Array => raw({
      addrs: Array.from({ length: 16 }, () => addrOfSize(256)),
      relays: Array.from({ length: 8 }, () => addrOfSize(256, `/p2p/${RELAY_PEER}/p2p-circuit`)),
      mailboxes: Array.from({ length: 8 }, () => addrOfSize(256, `/p2p/${FRIEND_PEER}`)),
      prekeys: new Uint8Array(prekeys).fill(1),
      deviceList: largestList
    })
    const prekeys = 1000 + MAX_PRESENCE_BYTES - fill(1000).byteLength
    expect(prekeys).toBeLessThanOrEqual(PRESENCE_LIMITS.maxPrekeyBytes)
    expect(fill(prekeys).byteLength).toBe(MAX_PRESENCE_BYTES)
    expect(open(fill(prekeys)).prekeys.byteLength).toBe(prekeys)
    expect(reason(fill(prekeys + 1))).toBe('oversized')
  })

  it('counts addresses, relays and mailboxes', () => {
    const addrs = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(multiaddr(`/ip4/10.0.0.${i}/tcp/1`).bytes))
    const relays = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(multiaddr(`/ip4/10.0.0.${i}/tcp/1/p2p/${RELAY_PEER}/p2p-circuit`).bytes))
    const mailboxes = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(multiaddr(`/ip4/10.0.0.${i}/tcp/1/p2p/${FRIEND_PEER}`).bytes))
    const limits = PRESENCE_LIMITS
    expect(open(raw({ addrs: addrs(limits.maxAddrs) as any })).addrs).toHaveLength(16)
    expect(reason(raw({ addrs: addrs(limits.maxAddrs + 1) as any }))).toBe('oversized')
    expect(open(raw({ relays: relays(limits.maxRelays) as any })).relays).toHaveLength(8)
    expect(reason(raw({ relays: relays(limits.maxRelays + 1) as any }))).toBe('oversized')
    expect(open(raw({ mailboxes: mailboxes(limits.maxMailboxes) as any })).mailboxes).toHaveLength(8)
    expect(reason(raw({ mailboxes: mailboxes(limits.maxMailboxes + 1) as any }))).toBe('oversized')
  })

  it('limits each address, the prekeys and the certificate', () => {
    expect(open(raw({ addrs: [addrOfSize(256)] })).addrs[0]!.bytes.byteLength).toBe(256)
    expect(reason(raw({ addrs: [addrOfSize(257)] }))).toBe('oversized')
    expect(reason(raw({ relays: [addrOfSize(257, `/p2p/${RELAY_PEER}/p2p-circuit`)] }))).toBe('oversized')
    expect(reason(raw({ mailboxes: [addrOfSize(257, `/p2p/${FRIEND_PEER}`)] }))).toBe('oversized')
    expect(open(raw({ prekeys: new Uint8Array(2048).fill(1) })).prekeys.byteLength).toBe(2048)
    expect(reason(raw({ prekeys: new Uint8Array(2049).fill(1) }))).toBe('oversized')
    expect(reason(raw({ certificate: new Uint8Array(1025).fill(1) }))).toBe('oversized')
  })
})

describe('openPresence refuses forgeries', () => {
  it('refuses a record whose signature does not verify', () => {
    const tampered = new Uint8Array(record)
    tampered[tampered.byteLength - 1]! ^= 1
    expect(reason(tampered)).toBe('forged')
    // Alice's identity in it, signed by Bob.
    expect(reason(raw({}, bob.identityKey))).toBe('forged')
  })

  it("refuses another identity's valid record where this identity's is expected", () => {
    const bobs = signPresence(bob.identityKey, fieldsOf(bob))
    expect(openPresence(bobs, { now: NOW }).identityFingerprint).toBe(identityFingerprint(bob.identityKey.publicKey))
    expect(reason(bobs)).toBe('wrong-key')
    expect(reasonOf(() => openPresence(bobs, { identity: identityFingerprint(alice.identityKey.publicKey), now: NOW }))).toBe('wrong-key')
  })

  it('refuses a certificate for another device or from another identity', async () => {
    const otherDevice = await generateKeyPair('Ed25519')
    expect(reason(raw({ certificate: issueDeviceCertificate(alice.identityKey, otherDevice.publicKey) as Uint8Array<ArrayBuffer> }))).toBe('forged')
    expect(reason(raw({ device: new Uint8Array(peerIdFromPrivateKey(otherDevice).toMultihash().bytes) }))).toBe('forged')
    expect(reason(raw({ certificate: issueDeviceCertificate(bob.identityKey, alice.deviceKey.publicKey) as Uint8Array<ArrayBuffer> }))).toBe('forged')
    expect(reason(raw({ certificate: new Uint8Array(100).fill(3) }))).toBe('forged')
  })
})

describe('openPresence judges the date', () => {
  it('refuses a record dated more than 10 minutes ahead', () => {
    expect(open(raw({ seq: BigInt(NOW + MAX_PRESENCE_CLOCK_SKEW_MS) })).seq).toBe(NOW + 10 * 60_000)
    expect(reason(raw({ seq: BigInt(NOW + MAX_PRESENCE_CLOCK_SKEW_MS + 1) }))).toBe('future')
    expect(reason(record, NOW - MAX_PRESENCE_CLOCK_SKEW_MS - 1)).toBe('future')
  })

  it('refuses a record older than 30 days', () => {
    expect(open(record, NOW + MAX_PRESENCE_AGE_MS).seq).toBe(NOW)
    expect(reason(record, NOW + 30 * 24 * 3600_000 + 1)).toBe('stale')
  })

  it('judges by the real clock by default', () => {
    expect(reasonOf(() => openPresence(raw({ seq: BigInt(Date.now() + 11 * 60_000) })))).toBe('future')
    expect(openPresence(raw({ seq: BigInt(Date.now()) })).identity.equals(alice.identityKey.publicKey)).toBe(true)
  })
})

describe('openPresence refuses malformed records', () => {
  it('refuses every truncation', () => {
    const reasons = new Set<string>()
    for (let i = 0; i < record.byteLength; i++) reasons.add(reason(record.subarray(0, i)))
    expect([...reasons]).toEqual(['malformed'])
  })

  it('refuses encodings other than its own, even when signed', () => {
    const unsigned = Buffer.from(PresenceRecord.encode(rawFieldsOf(alice)))
    expect(open(signEncoded(alice.identityKey, unsigned)).seq).toBe(NOW)
    // An unknown field (99, varint 1).
    expect(reason(signEncoded(alice.identityKey, Buffer.concat([unsigned, Buffer.from([0x98, 0x06, 0x01])])))).toBe('malformed')
    // version written as a padded varint (0x81 0x00 instead of 0x01), then twice.
    expect(unsigned.subarray(0, 2)).toEqual(Buffer.from([0x08, 0x01]))
    expect(reason(signEncoded(alice.identityKey, Buffer.concat([Buffer.from([0x08, 0x81, 0x00]), unsigned.subarray(2)])))).toBe('malformed')
    expect(reason(signEncoded(alice.identityKey, Buffer.concat([Buffer.from([0x08, 0x01]), unsigned])))).toBe('malformed')
    // Fields out of order: the signature first.
    const signed = raw({})
    const signatureField = PresenceRecord.encode({ signature: PresenceRecord.decode(signed).signature } as PresenceRecord)
    expect(reason(Buffer.concat([signatureField, signed.subarray(0, signed.byteLength - signatureField.byteLength)]))).toBe('malformed')
  })

  it('refuses unknown versions, missing or empty fields, bad signatures and seqs', () => {
    expect(reason(raw({ version: 2 }))).toBe('malformed')
    for (const field of ['identity', 'certificate', 'device'] as const) {
      const { [field]: _, ...without } = rawFieldsOf(alice)
      expect(reason(signRaw(alice.identityKey, without as PresenceRecord))).toBe('malformed')
      expect(reason(raw({ [field]: new Uint8Array(0) }))).toBe('malformed')
    }
    expect(reason(PresenceRecord.encode(rawFieldsOf(alice)))).toBe('malformed')
    expect(reason(PresenceRecord.encode({ ...rawFieldsOf(alice), signature: new Uint8Array(63) }))).toBe('malformed')
    expect(reason(raw({ prekeys: new Uint8Array(0) }))).toBe('malformed')
    expect(reason(raw({ seq: 2n ** 60n }))).toBe('malformed')
  })

  it('refuses identity keys that are not Ed25519 or not in canonical form', async () => {
    const secp = await generateKeyPair('secp256k1')
    expect(reason(raw({ identity: new Uint8Array(publicKeyToProtobuf(secp.publicKey)) }))).toBe('malformed')
    const canonical = Buffer.from(publicKeyToProtobuf(alice.identityKey.publicKey)) // 08 01 12 20 <key>
    const swapped = new Uint8Array(Buffer.concat([canonical.subarray(2), canonical.subarray(0, 2)]))
    expect(reason(raw({ identity: swapped }))).toBe('malformed')
    expect(reason(raw({ identity: new Uint8Array([1, 2, 3]) }))).toBe('malformed')
  })

  it('refuses addresses that do not parse, are not canonical, or have the wrong shape', () => {
    expect(reason(raw({ addrs: [new Uint8Array([0xff, 0xff, 0xff])] }))).toBe('malformed')
    expect(reason(raw({ addrs: [new Uint8Array(0)] }))).toBe('malformed')
    // /ip4/1.2.3.4 with its protocol code as a padded varint.
    expect(reason(raw({ addrs: [new Uint8Array([0x84, 0x00, 1, 2, 3, 4])] }))).toBe('malformed')
    expect(reason(raw({ relays: [new Uint8Array(multiaddr('/ip4/1.2.3.4/tcp/1').bytes)] }))).toBe('malformed')
    expect(reason(raw({ relays: [new Uint8Array(multiaddr('/ip4/1.2.3.4/tcp/1/p2p-circuit').bytes)] }))).toBe('malformed')
    expect(reason(raw({ mailboxes: [new Uint8Array(multiaddr('/ip4/1.2.3.4/tcp/1').bytes)] }))).toBe('malformed')
  })
})

describe('openPresence on arbitrary mutations', () => {
  it('refuses every single-byte change', () => {
    for (let i = 0; i < record.byteLength; i++) {
      for (const value of [0x00, 0x01, 0x2f, 0x7f, 0x80, 0xff]) {
        if (record[i] === value) continue
        const changed = new Uint8Array(record)
        changed[i] = value
        expect(() => open(changed)).toThrow(InvalidPresenceError)
      }
    }
  })

  it('refuses a mutated record or opens it to exactly the original, never anything else', () => {
    const original = open(record)
    const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) })
    )
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      let bytes = Buffer.from(record)
      for (const { kind, at, value } of mutations) {
        const i = at % (bytes.byteLength + (kind === 'insert' ? 1 : 0))
        if (kind === 'set') bytes[i] = value
        else if (kind === 'flip') bytes[i]! ^= 1 << value
        else if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)])
        else bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)])
      }
      let opened
      try {
        opened = open(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidPresenceError)
        return
      }
      expect(digest(bytes)).toBe(digest(record))
      expect({ ...opened, record: undefined }).toEqual({ ...original, record: undefined })
    }), { numRuns: 3000 })
  })
})
