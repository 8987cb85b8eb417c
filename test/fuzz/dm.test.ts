import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Ack, DM_PROTOCOL, ENCRYPTION_NONE, ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, ENVELOPE_VERSION, Envelope, LIMITS, MessageKind, PREKEYS_PROTOCOL,
  decodeEnvelope, encodeFileOffer
} from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { INVITE_TOPIC, KEY_PACKAGE_TOPIC } from '@kith/groups'
import { makeEnvelope } from '../helpers/raw-dm.js'
import { SIGNED_CLEAR, allDelivered, befriend, trackNodes } from '../helpers/testnet.js'
import { bytes, inputs, params, sample, timeoutFor } from './helpers.js'
import { exchange, firstFrame, introduce, streamInput, unframe } from './net.js'
import type { KithNode } from '@kith/node'
import type { PrivateKey } from '@libp2p/interface'

// /kith/dm takes frames from anyone who connects: strangers, contacts, and invite holders.
// These properties stay at the frame level (an Envelope, length-prefixed) and read the
// answers only as far as "each is an Ack", so they hold whatever statuses acks grow.

const MAX_FRAME = LIMITS.maxFrameBytes
/** The rate limits are another test's subject: here every frame must reach the decoder. */
const UNLIMITED = { ratePerSecond: 1e9, rateBurst: 1e9, strangerFramesPerSecond: 1e9, strangerSessionsPerSecond: 1e9 }

const node = trackNodes()

/** An envelope as a peer could build it: for `recipient` mostly, of any encryption, its body random. */
function envelopeFor (recipient: Uint8Array, encryption: number[]): fc.Arbitrary<Uint8Array> {
  return fc.record({
    version: fc.oneof({ weight: 5, arbitrary: fc.constant(ENVELOPE_VERSION) }, fc.nat({ max: 3 })),
    id: fc.oneof({ weight: 5, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }) }, bytes(20)),
    recipient: fc.oneof({ weight: 5, arbitrary: fc.constant(recipient) }, bytes(40)),
    timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    encryption: fc.constantFrom(...encryption),
    body: bytes(600)
  }).map(e => Envelope.encode(e))
}

/** The lower bound of what the node must count as invalid: runs whose first frame is over the limit, or no envelope for it. */
function mustCountInvalid (chunks: Uint8Array[], self: Uint8Array): boolean {
  const first = firstFrame(chunks, MAX_FRAME)
  // A prefix that never ends is length-prefix.test.ts's subject.
  if (first.kind === 'oversized') return first.prefixEnded
  if (first.kind !== 'frame') return false
  try {
    const envelope = decodeEnvelope(first.frame)
    return envelope.version !== ENVELOPE_VERSION || envelope.id.length !== 16 || !Buffer.from(envelope.recipient).equals(self)
  } catch {
    return true
  }
}

/** Send each case on a fresh stream; every answer must be a whole Ack. Returns how many cases the node must have counted. */
async function fuzzDm (senders: KithNode[], target: KithNode, frame: fc.Arbitrary<Uint8Array>, share: number): Promise<number> {
  for (const sender of senders) await introduce(sender.libp2p, target.libp2p)
  const self = target.peerId.toMultihash().bytes
  let invalid = 0
  await fc.assert(fc.asyncProperty(fc.nat({ max: senders.length - 1 }), streamInput(inputs(frame, 1200), MAX_FRAME, 4), async (who, chunks) => {
    const { received, connectionLost } = await exchange((senders[who] as KithNode).libp2p, target.peerId, DM_PROTOCOL, chunks)
    for (const ack of unframe(received)) expect(Ack.decode(ack).id.length).toBeLessThanOrEqual(16)
    if (!connectionLost && mustCountInvalid(chunks, self)) invalid++
  }), params(share))
  return invalid
}

describe('fuzz: /kith/dm', () => {
  it('a node takes junk and damaged sealed envelopes from strangers and contacts, counts them, and a contact still gets through', async () => {
    const bob = await node('bob', { messaging: UNLIMITED })
    const alice = await node('alice')
    const mallory = await node('mallory')
    await befriend(alice, bob)
    const before = bob.status().metrics.invalid
    const frame = envelopeFor(bob.peerId.toMultihash().bytes, [ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, ENCRYPTION_NONE, 3])
    const invalid = await fuzzDm([mallory, alice], bob, frame, 0.5)
    expect(invalid).toBeGreaterThan(0)
    expect(bob.status().metrics.invalid - before).toBeGreaterThanOrEqual(invalid)

    const sent = await alice.send('bob', 'after the fuzz')
    await allDelivered(alice, 'bob', [sent.id])
    expect((await bob.history('alice')).some(m => m.id === sent.id && m.text === 'after the fuzz')).toBe(true)
  }, timeoutFor(60, 0.5))

  it('signed messages of every kind, damaged or not, from a contact and relayed by a stranger: the node answers each and still takes a real one', async () => {
    // Signed in the clear, so the fuzz reaches past the envelope: the signed message, the
    // Message inside it, file offers, introductions and control payloads for groups.
    const aliceKey = await generateDeviceKey()
    const bob = await node('bob', { ...SIGNED_CLEAR, messaging: { ...SIGNED_CLEAR.messaging, ...UNLIMITED } })
    const alice = await node('alice', { ...SIGNED_CLEAR, privateKey: aliceKey })
    const mallory = await node('mallory', SIGNED_CLEAR)
    await befriend(alice, bob)
    const offer = fc.record({ root: fc.uint8Array({ minLength: 32, maxLength: 32 }), key: fc.uint8Array({ minLength: 32, maxLength: 32 }), size: fc.nat(), name: fc.string({ minLength: 1, maxLength: 20 }), type: fc.string({ maxLength: 10 }) }).map(encodeFileOffer)
    const message = fc.record({
      kind: fc.constantFrom(MessageKind.TEXT, MessageKind.INTRO, MessageKind.CONTROL, MessageKind.FILE),
      text: fc.string({ maxLength: 40 }),
      inviteToken: bytes(20),
      name: fc.string({ maxLength: 70 }),
      addrs: fc.array(bytes(30), { maxLength: 3 }),
      certificate: bytes(60),
      topic: fc.constantFrom(KEY_PACKAGE_TOPIC, INVITE_TOPIC, 'receipt', 'kith/devices', 'kith/read', 'nobody', ''),
      payload: bytes(300),
      file: fc.oneof(offer, bytes(60)),
      sentTo: fc.constantFrom('', 'x')
    })
    const keys: PrivateKey[] = [aliceKey, await generateDeviceKey()]
    // Signing is async: sign a pool up front, the fuzz mutates it.
    const pool = await Promise.all(sample(fc.tuple(fc.nat({ max: 1 }), fc.string({ minLength: 1, maxLength: 30 }), message), 40)
      .map(async ([k, text, m]) => await makeEnvelope(keys[k] as PrivateKey, bob, text, {}, m)))
    const frame = fc.oneof(fc.nat().map(i => pool[i % pool.length] as Uint8Array), envelopeFor(bob.peerId.toMultihash().bytes, [ENCRYPTION_NONE]))
    const before = bob.status().metrics.invalid
    const invalid = await fuzzDm([alice, mallory], bob, frame, 0.5)
    expect(bob.status().metrics.invalid - before).toBeGreaterThanOrEqual(invalid)

    const sent = await alice.send('bob', 'after the fuzz')
    await allDelivered(alice, 'bob', [sent.id])
  }, timeoutFor(60, 0.5))

  it('/kith/prekeys ignores what is written to it: strangers get nothing, contacts a bundle', async () => {
    const bob = await node('bob')
    const alice = await node('alice')
    const mallory = await node('mallory')
    await befriend(alice, bob)
    await introduce(alice.libp2p, bob.libp2p)
    await introduce(mallory.libp2p, bob.libp2p)
    let served = 0
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(bytes(300), { maxLength: 3 }), async (contact, chunks) => {
      const { received, connectionLost } = await exchange((contact ? alice : mallory).libp2p, bob.peerId, PREKEYS_PROTOCOL, chunks)
      if (!contact) expect(received).toHaveLength(0)
      else if (!connectionLost) { expect(unframe(received)[0]?.length ?? 0).toBeGreaterThan(0); served++ }
    }), params(0.1))
    expect(served).toBeGreaterThan(0)
    const sent = await alice.send('bob', 'still here')
    await allDelivered(alice, 'bob', [sent.id])
  }, timeoutFor(60, 0.1))
})
