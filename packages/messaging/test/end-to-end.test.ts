import { describe, expect, it } from 'vitest'
import { ENCRYPTION_SESSION_SEALED, Message, MessageKind, SealedContent, padded, paddingFor } from '@kith/core'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { memoryStore } from '@kith/store'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { EndToEnd } from '../src/e2ee/end-to-end.js'
import { seal, unseal } from '../src/e2ee/sealed-sender.js'
import { sessionUnseal } from '../src/e2ee/session-seal.js'
import type { Session } from '../src/e2ee/end-to-end.js'

/** A device: its keys, certificate and end-to-end state over an in-memory store. */
async function device (): Promise<{ e2e: EndToEnd, peerId: ReturnType<typeof peerIdFromPrivateKey> }> {
  const key = await generateDeviceKey()
  const e2e = new EndToEnd(await memoryStore(), key, issueDeviceCertificate(await generateIdentityKey(), key.publicKey))
  await e2e.start()
  return { e2e, peerId: peerIdFromPrivateKey(key) }
}

const AAD = new Uint8Array([1, 2, 3])
const text = (t: string): Uint8Array => Message.encode({ kind: MessageKind.TEXT, text: t, name: '', inviteToken: new Uint8Array(), addrs: [], certificate: new Uint8Array(), topic: '', payload: new Uint8Array(), file: new Uint8Array(), sentTo: '' })

describe('EndToEnd (X3DH, Double Ratchet, sealed sender)', () => {
  it('opens a session from a bundle, and both directions decrypt', async () => {
    const alice = await device()
    const bob = await device()
    const { bundle } = await bob.e2e.keys.bundle()
    let aliceSession: Session = alice.e2e.initiate(bob.peerId, bundle).session
    const first = alice.e2e.encrypt(aliceSession, text('hello bob'), AAD)
    aliceSession = first.session

    const opened = bob.e2e.open(first.body, AAD)
    expect(opened.sender.equals(alice.peerId)).toBe(true)
    const got = await bob.e2e.decrypt(opened, undefined)
    expect(got.message.text).toBe('hello bob')
    expect(got.ops).toHaveLength(1) // the one-time prekey is deleted with the message

    // Bob answers in the established session: sealed with the session's keys, not an ephemeral one.
    const reply = bob.e2e.encrypt(got.session, text('hi alice'), AAD)
    expect(reply.encryption).toBe(ENCRYPTION_SESSION_SEALED)
    alice.e2e.remember(bob.peerId.toString(), aliceSession)
    const back = await alice.e2e.decrypt(alice.e2e.open(reply.body, AAD, reply.encryption), aliceSession)
    expect(back.message.text).toBe('hi alice')
    expect(back.session.prekey).toBeUndefined() // answered: no more X3DH fields
    alice.e2e.remember(bob.peerId.toString(), back.session)

    // From now on alice seals with the session too; once bob has acknowledged her certificate
    // (an ack on an authenticated connection), her envelopes leave it out.
    // An ack of an envelope that did not carry her certificate proves nothing about it.
    expect(alice.e2e.encrypt(alice.e2e.confirmed(back.session, false), text('not yet'), AAD).carriesCertificate).toBe(true)
    const next = alice.e2e.encrypt(alice.e2e.confirmed(back.session, true), text('and now?'), AAD)
    expect(next.carriesCertificate).toBe(false)
    expect(next.encryption).toBe(ENCRYPTION_SESSION_SEALED)
    bob.e2e.remember(alice.peerId.toString(), reply.session)
    const third = bob.e2e.open(next.body, AAD, next.encryption)
    // Session seals leave the certificate and DH key to the session, yet name the sender.
    expect(third.content.certificate).toHaveLength(0)
    expect(third.content.identityDhKey).toHaveLength(0)
    expect(third.sender.equals(alice.peerId)).toBe(true)
    expect(next.body.length).toBeLessThan(first.body.length)
    const last = await bob.e2e.decrypt(third, reply.session)
    expect(last.message.text).toBe('and now?')
    bob.e2e.remember(alice.peerId.toString(), last.session)
    expect(() => bob.e2e.open(next.body, AAD, next.encryption)).toThrow(expect.objectContaining({ reason: 'noSession' }))
  })

  it('refuses a session-sealed envelope when the session holds no certificate for its sender', async () => {
    const alice = await device()
    const bob = await device()
    const first = alice.e2e.encrypt(alice.e2e.initiate(bob.peerId, (await bob.e2e.keys.bundle()).bundle).session, text('hi'), AAD)
    const got = await bob.e2e.decrypt(bob.e2e.open(first.body, AAD), undefined)
    // Bob's first reply carries his certificate; once alice acked it, his envelopes leave it out.
    const first2 = bob.e2e.encrypt(got.session, text('hello'), AAD)
    expect(SealedContent.decode(sessionOpen(alice, first.session, first2)).certificate.length).toBeGreaterThan(0)
    const reply = bob.e2e.encrypt(bob.e2e.confirmed(first2.session, true), text('hello again'), AAD)
    // A session stored before certificates were kept in it.
    const { theirCertificate: _, ...withoutCertificate } = first.session
    alice.e2e.remember(bob.peerId.toString(), withoutCertificate)
    expect(() => alice.e2e.open(reply.body, AAD, reply.encryption)).toThrow(expect.objectContaining({ reason: 'noSession' }))
  })

  it('refuses a seal for another device, a tampered seal, and other AAD, as forged', async () => {
    const alice = await device()
    const bob = await device()
    const carol = await device()
    const session = alice.e2e.initiate(bob.peerId, (await bob.e2e.keys.bundle()).bundle).session
    const { body } = alice.e2e.encrypt(session, text('for bob only'), AAD)
    expect(() => carol.e2e.open(body, AAD)).toThrow(expect.objectContaining({ reason: 'forged' }))
    expect(() => bob.e2e.open(body, new Uint8Array([9]))).toThrow(expect.objectContaining({ reason: 'forged' }))
    const flipped = new Uint8Array(body)
    flipped[60] = flipped[60]! ^ 1
    expect(() => bob.e2e.open(flipped, AAD)).toThrow(expect.objectContaining({ reason: 'forged' }))
  })

  it('refuses a sender certificate for another device, and a DH key its device did not sign', async () => {
    const alice = await device()
    const bob = await device()
    const session = alice.e2e.initiate(bob.peerId, (await bob.e2e.keys.bundle()).bundle).session
    const genuine = SealedContent.decode(await unsealFor(bob, alice, session))
    const otherDevice = await generateDeviceKey()
    const forgedCert = issueDeviceCertificate(await generateIdentityKey(), otherDevice.publicKey)
    // The certificate names another device than the one that signed the DH key.
    const reSealed = seal(bob.e2e.keys.identityDh.publicKey, AAD, SealedContent.encode({ ...genuine, certificate: forgedCert }))
    expect(() => bob.e2e.open(reSealed, AAD)).toThrow(expect.objectContaining({ reason: 'forged' }))
    // A DH identity key swapped for one of the attacker's.
    const swapped = seal(bob.e2e.keys.identityDh.publicKey, AAD, SealedContent.encode({ ...genuine, identityDhKey: new Uint8Array(32).fill(9) }))
    expect(() => bob.e2e.open(swapped, AAD)).toThrow(expect.objectContaining({ reason: 'forged' }))
  })

  it('refuses a replay of a decrypted message: its key is spent', async () => {
    const alice = await device()
    const bob = await device()
    let session = alice.e2e.initiate(bob.peerId, (await bob.e2e.keys.bundle()).bundle).session
    const one = alice.e2e.encrypt(session, text('one'), AAD)
    session = one.session
    const two = alice.e2e.encrypt(session, text('two'), AAD)
    const first = await bob.e2e.decrypt(bob.e2e.open(one.body, AAD), undefined)
    const second = await bob.e2e.decrypt(bob.e2e.open(two.body, AAD), first.session)
    expect(second.message.text).toBe('two')
    await expect(bob.e2e.decrypt(bob.e2e.open(two.body, AAD), second.session)).rejects.toMatchObject({ reason: 'replayed' })
  })
})

/** The inner part of a session-sealed envelope, opened directly with the receiving session's keys. */
function sessionOpen (_receiver: Awaited<ReturnType<typeof device>>, receiving: Session, sent: { body: Uint8Array }): Uint8Array {
  return sessionUnseal(receiving.sealIn!, AAD, sent.body)
}

/** The inner SealedContent alice would send bob, opened with bob's key (for re-sealing variants). */
async function unsealFor (bob: Awaited<ReturnType<typeof device>>, alice: Awaited<ReturnType<typeof device>>, session: Session): Promise<Uint8Array> {
  const { body } = alice.e2e.encrypt(session, text('x'), AAD)
  return unseal(bob.e2e.keys.identityDh, AAD, body)
}


describe('padding', () => {
  it('appends exactly the bytes protons writes for the padding field', () => {
    for (let n = 0; n <= 900; n += 3) {
      const content: SealedContent = { certificate: new Uint8Array(), identityDhKey: new Uint8Array(), identityDhSignature: new Uint8Array(), prekeyEphemeral: new Uint8Array(), prekeySignedId: 0, prekeyOneTimeId: n % 2, header: new Uint8Array(40).fill(1), ciphertext: new Uint8Array(n).fill(2), padding: new Uint8Array() }
      const encoded = SealedContent.encode(content)
      const expected = SealedContent.encode({ ...content, padding: paddingFor(encoded.length) as Uint8Array<ArrayBuffer> })
      expect(Buffer.from(padded(encoded, 7)).equals(expected), `ciphertext of ${n} bytes`).toBe(true)
      expect(SealedContent.decode(padded(encoded, 7)).ciphertext).toEqual(content.ciphertext)
    }
  })

  it('brings every inner size to a multiple of 256 bytes, whatever the text length', async () => {
    const alice = await device()
    const bob = await device()
    let session = alice.e2e.initiate(bob.peerId, (await bob.e2e.keys.bundle()).bundle).session
    for (let n = 1; n <= 700; n += 7) {
      const sealed = alice.e2e.encrypt(session, text('x'.repeat(n)), AAD)
      session = sealed.session
      // Ephemeral key (32) and GCM tag (16) around the padded inner part.
      expect((sealed.body.length - 48) % 256, `text of ${n}`).toBe(0)
    }
  })
})
