import { describe, expect, it } from 'vitest'
import { AckStatus, LIMITS, toHex } from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { allDelivered, befriend, eventually, SIGNED_CLEAR, trackNodes, waitFor } from './helpers/testnet.js'
import { makeEnvelope, rawDmStream } from './helpers/raw-dm.js'

// Tests that forge envelopes by hand speak the signed clear-text format (encryption off);
// test/e2ee.test.ts covers the sealed one.
const CLEAR = SIGNED_CLEAR
const node = trackNodes()

describe('1:1 messaging (in-memory transport)', () => {
  it('delivers messages both ways, in order, and marks them delivered', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)

    const toBob = []
    for (let i = 0; i < 30; i++) toBob.push(await alice.send('bob', `a${i}`))
    const toAlice = await bob.send('alice', 'hi alice')
    expect(toBob.every(m => m.status === 'queued')).toBe(true)

    await allDelivered(alice, 'bob', toBob.map(m => m.id))
    await allDelivered(bob, 'alice', [toAlice.id])
    const atBob = await bob.history('alice', { limit: 100 })
    expect(atBob.filter(m => m.from === alice.peerId.toString()).map(m => m.text)).toEqual(toBob.map(m => m.text))
    expect(atBob.find(m => m.id === toAlice.id)?.status).toBe('delivered')
    expect((await alice.history('bob', { limit: 100 })).find(m => m.id === toAlice.id)?.text).toBe('hi alice')
  })

  it('pages history backwards with no gaps', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    for (let i = 0; i < 12; i++) await alice.send('bob', `m${i}`)
    const latest = await alice.history('bob', { limit: 5 })
    expect(latest.map(m => m.text)).toEqual(['m7', 'm8', 'm9', 'm10', 'm11'])
    const earlier = await alice.history('bob', { limit: 5, before: latest[0]?.seq })
    expect(earlier.map(m => m.text)).toEqual(['m2', 'm3', 'm4', 'm5', 'm6'])
  })

  it('lets an invite be used once only', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    const mallory = await node('mallory')
    const code = await alice.createInvite()
    const introduced = waitFor(alice, 'contact')
    await bob.acceptInvite(code, 'alice')
    await introduced
    await mallory.acceptInvite(code, 'alice')
    const attempt = await mallory.send('alice', 'let me in')
    await eventually(async () => (await mallory.history('alice')).find(m => m.id === attempt.id)?.status === 'refused', 20_000, 'refusal')
    expect((await alice.contacts()).map(c => c.name)).toEqual(['bob'])
    // The invite's one-time prekey went to bob, so mallory's session can't even be opened.
    const { refusedNotContact, noSession } = alice.status().metrics
    expect(refusedNotContact + noSession).toBeGreaterThanOrEqual(2)
  })

  it('refuses and counts messages from peers that are not contacts', async () => {
    const alice = await node('alice', CLEAR)
    const strangerKey = await generateDeviceKey()
    const stranger = await node('stranger', { privateKey: strangerKey, ...CLEAR })
    const raw = await rawDmStream(stranger, alice)
    await raw.write(await makeEnvelope(strangerKey, alice, 'buy now'))
    expect((await raw.readAck()).status).toBe(AckStatus.REFUSED)
    expect(alice.status().metrics.refusedNotContact).toBe(1)
    expect(await alice.store.history(stranger.peerId.toString())).toEqual([])
  })

  it('stores a replayed envelope once and acks it as a duplicate', async () => {
    const aliceKey = await generateDeviceKey()
    const alice = await node('alice', { privateKey: aliceKey, ...CLEAR })
    const bob = await node('bob', CLEAR)
    await befriend(bob, alice)
    const envelope = await makeEnvelope(aliceKey, bob, 'only once')
    const raw = await rawDmStream(alice, bob)
    await raw.write(envelope)
    expect((await raw.readAck()).status).toBe(AckStatus.OK)
    await raw.write(envelope)
    expect((await raw.readAck()).status).toBe(AckStatus.DUPLICATE)
    expect((await bob.history(alice.peerId.toString())).map(m => m.text)).toEqual(['only once'])
    expect(bob.status().metrics.duplicates).toBe(1)
  })

  it('rejects forged, re-addressed and malformed envelopes with named counts, and keeps serving', async () => {
    const aliceKey = await generateDeviceKey()
    const alice = await node('alice', { privateKey: aliceKey, ...CLEAR })
    const bob = await node('bob', CLEAR)
    const carol = await node('carol', CLEAR)
    await befriend(bob, alice)
    // Carol relays envelopes that claim to be alice's: nothing vouches for them but their signatures.
    const relay = await rawDmStream(carol, bob)

    const good = await makeEnvelope(aliceKey, bob, 'original')
    const forged = Buffer.from(good)
    forged[forged.length - 70] ^= 0xff // the text, after alice signed it
    await relay.write(forged)
    expect((await relay.readAck()).status).toBe(AckStatus.INVALID)
    expect(bob.status().metrics.forged).toBe(1)

    const raw = await rawDmStream(alice, bob)
    // Signed for carol, delivered to bob: wrong recipient.
    await raw.write(await makeEnvelope(aliceKey, carol, 'for carol'))
    expect((await raw.readAck()).status).toBe(AckStatus.INVALID)
    // Empty text and text over the limit.
    await raw.write(await makeEnvelope(aliceKey, bob, ''))
    expect((await raw.readAck()).status).toBe(AckStatus.INVALID)
    await raw.write(await makeEnvelope(aliceKey, bob, 'x'.repeat(LIMITS.maxTextBytes + 1)))
    expect((await raw.readAck()).status).toBe(AckStatus.INVALID)
    expect(bob.status().metrics.invalid).toBe(3)

    // Still serving: the genuine envelope goes through, relayed or direct.
    await relay.write(good)
    expect((await relay.readAck()).status).toBe(AckStatus.OK)
    await raw.write(good)
    expect((await raw.readAck()).status).toBe(AckStatus.DUPLICATE)
    expect((await bob.history(alice.peerId.toString())).map(m => m.text)).toEqual(['original'])
  })

  it('drops a stream that sends an oversized frame, and keeps serving', async () => {
    const aliceKey = await generateDeviceKey()
    const alice = await node('alice', { privateKey: aliceKey, ...CLEAR })
    const bob = await node('bob', CLEAR)
    await befriend(bob, alice)
    const raw = await rawDmStream(alice, bob)
    await raw.write(new Uint8Array(LIMITS.maxFrameBytes + 1))
    await expect(raw.readAck()).rejects.toThrow()
    await eventually(() => bob.status().metrics.invalid === 1, 10_000, 'the oversized frame to be counted')
    const sent = await alice.send(bob.peerId.toString(), 'after the junk')
    await waitFor(bob, 'message', m => m.id === sent.id)
  })

  it('disconnects a peer that floods it', async () => {
    const aliceKey = await generateDeviceKey()
    const alice = await node('alice', { privateKey: aliceKey, ...CLEAR })
    const bob = await node('bob', { messaging: { ratePerSecond: 5, rateBurst: 10, encryption: 'none' } })
    await befriend(bob, alice)
    const raw = await rawDmStream(alice, bob)
    const frames = await Promise.all(Array.from({ length: 50 }, async (_, i) => await makeEnvelope(aliceKey, bob, `spam ${i}`)))
    for (const frame of frames) await raw.write(frame).catch(() => {})
    await eventually(() => bob.status().metrics.rateLimited === 1, 10_000, 'rate limiting')
    await eventually(() => bob.libp2p.getConnections(alice.peerId).length === 0, 10_000, 'disconnection')
    expect(bob.status().metrics.received).toBeLessThanOrEqual(10)
  })

  it('ids are unique hex and texts round-trip unicode', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    const sent = await alice.send('bob', 'héllo 👋 — 你好')
    const got = await waitFor(bob, 'message', m => m.id === sent.id)
    expect(got.text).toBe('héllo 👋 — 你好')
    expect(sent.id).toMatch(/^[0-9a-f]{32}$/)
    expect(toHex(Buffer.from(sent.id, 'hex'))).toBe(sent.id)
  })
})
