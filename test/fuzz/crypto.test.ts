import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { MessageKind } from '@kith/core'
import {
  createSignedPreKey, decodeHeader, encodeHeader, generateDataKey, generateDeviceKey, generateIdentityKey, initReceiver, initSender,
  issueDeviceCertificate, issueDeviceList, openRecord, openSignedMessage, ratchetDecrypt, ratchetEncrypt, sealRecord, signMessage,
  verifyDeviceCertificate, verifyDeviceList, x25519Generate, x3dhInitiate, x3dhRespond
} from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PreKeyBundle, RatchetState } from '@kith/crypto'
import type { PrivateKey } from '@libp2p/interface'
import { SIZE_WORDS, bytes, huge, inputs, mutated, params, rejectsOnly, sample, throwsOnly, timeoutFor } from './helpers.js'

// @kith/crypto's decoders and verifiers of what peers send: device certificates (in every
// sealed message, invite, presence record and group credential), device lists, signed
// messages, ratchet headers and ciphertexts, prekey bundles and X3DH keys. Records sealed at
// rest are read from our own disk, but a damaged disk is input too.

const KEYS = 4
let identities: PrivateKey[] = []
let devices: PrivateKey[] = []
let certificates: Uint8Array[] = []
let lists: Uint8Array[] = []

beforeAll(async () => {
  identities = await Promise.all(Array.from({ length: KEYS }, async () => await generateIdentityKey()))
  devices = await Promise.all(Array.from({ length: KEYS * 2 }, async () => await generateDeviceKey()))
  certificates = devices.map((d, i) => issueDeviceCertificate(identities[i % KEYS] as PrivateKey, d.publicKey, { issuedAt: 1_700_000_000_000 + i, serial: i }))
  lists = identities.map((identity, i) => issueDeviceList(identity, {
    seq: i + 1,
    devices: [certificates[i] as Uint8Array, certificates[i + KEYS] as Uint8Array],
    revoked: i % 2 === 0 ? [peerIdFromPrivateKey(devices[(i + 1) % devices.length] as PrivateKey)] : []
  }))
})

const pick = <T>(list: () => T[]): fc.Arbitrary<T> => fc.nat().map(i => { const all = list(); return all[i % all.length] as T })

describe('fuzz: @kith/crypto decoders and verifiers', () => {
  it('verifyDeviceCertificate throws only InvalidCertificateError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(pick(() => certificates)), pick(() => identities), fc.boolean(), (input, identity, expect) => {
      throwsOnly(c => verifyDeviceCertificate(c, expect ? { identity: identity.publicKey } : {}), input, ['InvalidCertificateError'])
    }), params())
    expect(throwsOnly(verifyDeviceCertificate, huge(certificates[0]), ['InvalidCertificateError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(3))

  it('verifyDeviceList throws only InvalidDeviceListError or StaleDeviceListError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(pick(() => lists), 4096), pick(() => identities), fc.option(fc.nat({ max: 10 })), (input, identity, after) => {
      const err = throwsOnly(l => verifyDeviceList(l, { identity: identity.publicKey, ...(after != null ? { after } : {}) }), input, ['InvalidDeviceListError', 'StaleDeviceListError'])
      if (err == null) expect(verifyDeviceList(input).devices.length).toBeGreaterThan(0)
    }), params())
    expect(throwsOnly(verifyDeviceList, huge(lists[0]), ['InvalidDeviceListError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(3))

  it('openSignedMessage throws only InvalidMessageError or InvalidSignatureError', async () => {
    const ctx = { id: new Uint8Array(16).fill(7), recipient: new Uint8Array(34).fill(3), timestamp: 1_700_000_000_000n }
    const message = fc.record({
      kind: fc.constantFrom(MessageKind.TEXT, MessageKind.INTRO, MessageKind.CONTROL, MessageKind.FILE),
      text: fc.string({ maxLength: 40 }),
      inviteToken: fc.uint8Array({ maxLength: 16 }),
      name: fc.string({ maxLength: 20 }),
      addrs: fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 3 }),
      certificate: fc.uint8Array({ maxLength: 40 }),
      topic: fc.string({ maxLength: 10 }),
      payload: fc.uint8Array({ maxLength: 40 }),
      file: fc.uint8Array({ maxLength: 40 }),
      sentTo: fc.string({ maxLength: 10 })
    })
    const signed = fc.tuple(pick(() => devices), message).map(async ([key, m]) => await signMessage(key, ctx, m))
    // Sign a few up front: the arbitraries are synchronous.
    const valid = await Promise.all(sample(signed, 16))
    await fc.assert(fc.asyncProperty(inputs(pick(() => valid)), pick(() => devices), fc.boolean(), async (input, peer, authenticated) => {
      await rejectsOnly(async b => await openSignedMessage(b, ctx, authenticated ? { authenticatedPeer: peerIdFromPrivateKey(peer) } : {}), input, ['InvalidMessageError', 'InvalidSignatureError'])
    }), params())
  }, timeoutFor(3))

  it('decodeHeader throws only InvalidMessageError, and reads back what encodeHeader wrote', () => {
    const header = fc.record({ dh: fc.uint8Array({ minLength: 32, maxLength: 32 }), pn: fc.nat({ max: 2 ** 32 - 1 }), n: fc.nat({ max: 2 ** 32 - 1 }) }).map(encodeHeader)
    fc.assert(fc.property(inputs(header), input => {
      if (throwsOnly(decodeHeader, input, ['InvalidMessageError']) == null) expect(Buffer.from(encodeHeader(decodeHeader(input))).equals(input)).toBe(true)
    }), params())
  }, timeoutFor(3))

  it('ratchetDecrypt throws only its named errors for any header and ciphertext, and leaves the state as it was', () => {
    const secret = new Uint8Array(32).fill(9)
    const bob = x25519Generate()
    let alice: RatchetState = initSender(secret, bob.publicKey)
    const sent = Array.from({ length: 4 }, (_, i) => {
      const out = ratchetEncrypt(alice, Buffer.from(`message ${i}`), Buffer.from('ad'))
      alice = out.state
      return out
    })
    const receiver = initReceiver(secret, bob)
    const frame = fc.tuple(pick(() => sent), fc.boolean(), fc.boolean()).chain(([s, mutateHeader, mutateBody]) => fc.tuple(
      mutateHeader ? fc.oneof(mutated(s.encodedHeader), bytes(40)) : fc.constant(s.encodedHeader),
      mutateBody ? mutated(s.ciphertext) : fc.constant(s.ciphertext),
      fc.oneof(fc.constant(Buffer.from('ad')), fc.uint8Array({ maxLength: 4 }))
    ))
    fc.assert(fc.property(frame, ([header, ciphertext, ad]) => {
      const before = JSON.stringify(receiver, (_k, v) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)
      throwsOnly(([h, c]) => ratchetDecrypt(receiver, decodeHeader(h), c, ad), [header, ciphertext] as const,
        ['InvalidMessageError', 'DecryptionFailedError', 'DuplicateMessageError', 'TooManySkippedMessagesError'])
      expect(JSON.stringify(receiver, (_k, v) => v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)).toBe(before)
    }), params())
  }, timeoutFor(10))

  it('x3dhInitiate and x3dhRespond throw only InvalidPreKeyBundleError / InvalidMessageError for keys a peer sends', () => {
    const device = devices[0] as PrivateKey
    const identityDh = x25519Generate()
    const { keyPair, signedPreKey } = createSignedPreKey(device, identityDh.publicKey, 1)
    const oneTime = x25519Generate()
    const key = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), bytes(40), fc.constant(new Uint8Array(32)), fc.constant(identityDh.publicKey))
    const bundle = fc.record({
      identityDhKey: fc.oneof(fc.constant(identityDh.publicKey), key),
      signedPreKey: fc.record({
        id: fc.oneof(fc.constant(1), fc.integer({ min: -1, max: 2 ** 32 })),
        publicKey: fc.oneof(fc.constant(signedPreKey.publicKey), key),
        signature: fc.oneof(fc.constant(signedPreKey.signature), mutated(signedPreKey.signature), bytes(80))
      }),
      oneTimePreKey: fc.option(fc.record({ id: fc.integer({ min: -1, max: 2 ** 32 }), publicKey: fc.oneof(fc.constant(oneTime.publicKey), key) }), { nil: undefined })
    })
    fc.assert(fc.property(bundle, pick(() => devices), (b, signer) => {
      throwsOnly(x => x3dhInitiate(x25519Generate(), x as PreKeyBundle, signer.publicKey), b, ['InvalidPreKeyBundleError'])
    }), params())
    fc.assert(fc.property(key, key, (identity, ephemeral) => {
      throwsOnly(([i, e]) => x3dhRespond({ identityDh, signedPreKey: keyPair, oneTimePreKey: oneTime }, i, e), [identity, ephemeral] as const, ['InvalidMessageError'])
    }), params())
  }, timeoutFor(10))

  it('openRecord throws only RecordTamperedError for damaged records', () => {
    const dataKey = generateDataKey()
    const sealed = fc.string({ maxLength: 100 }).map(text => sealRecord(dataKey, 'c!peer', Buffer.from(text)))
    fc.assert(fc.property(inputs(sealed), fc.constantFrom('c!peer', 'c!other'), (input, recordKey) => {
      throwsOnly(s => openRecord(dataKey, recordKey, s), input, ['RecordTamperedError'])
    }), params())
  }, timeoutFor(3))
})
