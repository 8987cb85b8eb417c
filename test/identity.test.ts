import { describe, expect, it } from 'vitest'
import { AckStatus, MessageKind, random } from '@kith/core'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { befriend, SIGNED_CLEAR, trackNodes, waitFor } from './helpers/testnet.js'
import { makeEnvelope, rawDmStream } from './helpers/raw-dm.js'

// The forged introductions below are hand-made in the signed clear-text format.
const CLEAR = SIGNED_CLEAR
const node = trackNodes()

describe('identity keys and safety numbers', () => {
  it('shows both people the same safety number, and records verification', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    const atAlice = await alice.verify('bob')
    const atBob = await bob.verify('alice')
    expect(atAlice.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/)
    expect(atAlice.safetyNumber).toBe(atBob.safetyNumber)
    expect(atAlice.fingerprint).toBe(identityFingerprint(bob.identity))
    expect(atAlice.verified).toBe(false)

    expect((await alice.verify('bob', 'mark')).verified).toBe(true)
    expect((await alice.contacts())[0]).toMatchObject({ name: 'bob', verified: true, identityChanged: false })
  })

  it('refuses an introduction whose device certificate is forged, and counts it', async () => {
    const alice = await node('alice', CLEAR)
    const malloryKey = await generateDeviceKey()
    const mallory = await node('mallory', { privateKey: malloryKey, ...CLEAR })
    const code = await alice.createInvite()
    const token = (await import('@kith/core')).decodeInvite(code).token
    // A certificate for some other device, passed off as mallory's own.
    const forged = issueDeviceCertificate(await generateIdentityKey(), (await generateDeviceKey()).publicKey)
    const raw = await rawDmStream(mallory, alice)
    await raw.write(await makeEnvelope(malloryKey, alice, '', {}, { kind: MessageKind.INTRO, inviteToken: token, name: 'mallory', certificate: forged }))
    expect((await raw.readAck()).status).toBe(AckStatus.INVALID)
    expect(alice.status().metrics.forged).toBe(1)
    expect(await alice.contacts()).toEqual([])
  })

  it('shows a changed identity key loudly and holds sending until the user accepts it', async () => {
    const alice = await node('alice', CLEAR)
    const bobKey = await generateDeviceKey()
    const bob = await node('bob', { privateKey: bobKey, ...CLEAR })
    await befriend(alice, bob)
    const before = await alice.verify('bob', 'mark')

    // Bob's device now presents a certificate from another identity key.
    const newIdentity = await generateIdentityKey()
    const changed = waitFor(alice, 'contact:identity-changed')
    const raw = await rawDmStream(bob, alice)
    await raw.write(await makeEnvelope(bobKey, alice, '', {}, { kind: MessageKind.INTRO, inviteToken: random(16), name: 'bob', certificate: issueDeviceCertificate(newIdentity, bobKey.publicKey) }))
    expect((await raw.readAck()).status).toBe(AckStatus.OK)
    await changed

    await expect(alice.send('bob', 'are you still you?')).rejects.toMatchObject({ name: 'IdentityChangedError' })
    const v = await alice.verify('bob')
    expect(v).toMatchObject({ identityChanged: true, safetyNumber: before.safetyNumber })
    expect(v.newSafetyNumber).not.toBe(before.safetyNumber)
    expect((await alice.contacts())[0]).toMatchObject({ identityChanged: true })
    await expect(alice.verify('bob', 'mark')).rejects.toThrow(/accept the new key first/)

    const accepted = await alice.verify('bob', 'accept')
    expect(accepted).toMatchObject({ identityChanged: false, verified: false, safetyNumber: v.newSafetyNumber })
    expect(accepted.fingerprint).toBe(identityFingerprint(newIdentity.publicKey))
    await expect(alice.send('bob', 'welcome back')).resolves.toMatchObject({ status: 'queued' })
  })
})
