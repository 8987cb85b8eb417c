import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ENCRYPTION_SEALED, ENVELOPE_VERSION, Envelope, random } from '@kith/core'
import { MAILBOX_LIMITS, MAILBOX_PROTOCOL, deposit, drain, register } from '@kith/mailbox'
import { MailboxOp, MailboxRequest, MailboxResponse, MailboxStatus, decodeRequest, decodeResponse } from '../../packages/mailbox/src/wire.js'
import { befriend, trackNodes } from '../helpers/testnet.js'
import { bytes, inputs, params, sample, throwsOnly, timeoutFor } from './helpers.js'
import { exchange, framesRead, introduce, streamInput, unframe } from './net.js'
import type { KithNode } from '@kith/node'

// /kith/mailbox, served by a relay for friends: request frames from any peer that connects
// (contacts register, anyone deposits), and the responses a client reads from a mailbox.

const MAX_REQUEST = MAILBOX_LIMITS.maxRequestBytes
const id = fc.uint8Array({ minLength: 16, maxLength: 16 })

/** A sealed envelope for `recipient`, its body random: what a depositor hands over. */
const envelopeFor = (recipient: Uint8Array): fc.Arbitrary<Uint8Array> => fc.record({
  id,
  body: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  timestamp: fc.bigInt({ min: 0n, max: 2n ** 50n })
}).map(e => Envelope.encode({ version: ENVELOPE_VERSION, id: e.id, recipient, timestamp: e.timestamp, encryption: ENCRYPTION_SEALED, body: e.body }))

function request (recipient: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constant({ op: MailboxOp.REGISTER }),
    fc.constant({ op: MailboxOp.UNREGISTER }),
    fc.record({ op: fc.constant(MailboxOp.DEPOSIT), envelopes: fc.array(fc.oneof(envelopeFor(recipient), bytes(200)), { minLength: 1, maxLength: 4 }) }),
    fc.record({ op: fc.constant(MailboxOp.FETCH), limit: fc.nat({ max: 300 }), after: fc.array(id, { maxLength: 1 }) }),
    fc.record({ op: fc.constant(MailboxOp.ACK), ids: fc.array(id, { minLength: 1, maxLength: 4 }) }),
    fc.record({ op: fc.constantFrom(MailboxOp.UNKNOWN_OP, MailboxOp.REGISTER, MailboxOp.ACK), limit: fc.nat({ max: 5 }) })
  ).map(r => MailboxRequest.encode(r))
}

const node = trackNodes()

describe('fuzz: mailbox', () => {
  it('decodeRequest throws only InvalidMessageError', () => {
    fc.assert(fc.property(inputs(request(random(34))), input => {
      throwsOnly(decodeRequest, input, ['InvalidMessageError'])
    }), params())
  }, timeoutFor(2))

  it('decodeResponse throws only InvalidMessageError, whatever it answers', () => {
    const response = fc.record({
      status: fc.constantFrom(MailboxStatus.OK, MailboxStatus.NOT_A_MAILBOX, MailboxStatus.INVALID),
      results: fc.array(fc.nat({ max: 8 }), { maxLength: 4 }),
      envelopes: fc.array(bytes(100), { maxLength: 3 }),
      ids: fc.array(id, { maxLength: 3 }),
      depositedAt: fc.array(fc.nat(), { maxLength: 3 }),
      more: fc.boolean(),
      count: fc.nat({ max: 10 })
    }).map(r => MailboxResponse.encode(r))
    const asked = fc.record({ op: fc.constantFrom(MailboxOp.REGISTER, MailboxOp.DEPOSIT, MailboxOp.FETCH, MailboxOp.ACK), envelopes: fc.array(bytes(8), { maxLength: 4 }), limit: fc.nat({ max: 5 }) })
    fc.assert(fc.property(inputs(response), asked, (input, req) => {
      throwsOnly(r => decodeResponse(r, req), input, ['InvalidMessageError'])
    }), params())
  }, timeoutFor(2))

  it('/kith/mailbox answers junk with INVALID, counts it, and still holds and hands over mail', async () => {
    const carol = await node('carol', { relay: {} })
    const bob = await node('bob')
    await befriend(carol, bob)
    await introduce(bob.libp2p, carol.libp2p)
    const self = bob.peerId.toMultihash().bytes
    const invalidCount = (n: KithNode): number => n.status().network.holding?.refused.invalid ?? 0
    const before = invalidCount(carol)
    let invalid = 0
    let lost = 0
    await fc.assert(fc.asyncProperty(streamInput(inputs(request(self), 600), MAX_REQUEST, 4), async chunks => {
      const { received, connectionLost } = await exchange(bob.libp2p, carol.peerId, MAILBOX_PROTOCOL, chunks)
      if (connectionLost) { lost++; return }
      // The server answers each request in turn; the first malformed or oversized one is answered INVALID and ends the stream.
      const { frames, end } = framesRead(chunks, MAX_REQUEST)
      const bad = frames.findIndex(f => throwsOnly(decodeRequest, f, ['InvalidMessageError']) != null)
      const answers = unframe(received).map(a => MailboxResponse.decode(a))
      if (bad >= 0 || end === 'oversized') {
        invalid++
        const at = bad >= 0 ? bad : frames.length
        expect(answers).toHaveLength(at + 1)
        expect(answers[at]?.status).toBe(MailboxStatus.INVALID)
      } else {
        expect(answers).toHaveLength(frames.length)
        expect(answers.every(a => a.status !== MailboxStatus.INVALID)).toBe(true)
      }
    }), params(0.5))
    expect(invalid).toBeGreaterThan(0)
    // One for one; a run whose connection was dropped under it may or may not have been counted.
    expect(invalidCount(carol) - before).toBeGreaterThanOrEqual(invalid)
    expect(invalidCount(carol) - before).toBeLessThanOrEqual(invalid + lost)

    // The mailbox still takes bob's registration, holds a deposit for him and hands it over.
    const stream = async (): Promise<any> => await bob.libp2p.dialProtocol(carol.peerId, MAILBOX_PROTOCOL)
    await register(await stream())
    const mail = sample(envelopeFor(self), 1)[0] as Uint8Array
    expect(await deposit(await stream(), [mail])).toEqual(['stored'])
    const got: Uint8Array[] = []
    await drain(await stream(), async batch => { got.push(...batch.map(e => e.envelope)); return batch.map(e => e.id) })
    expect(got.some(e => Buffer.from(e).equals(mail))).toBe(true)
  }, timeoutFor(60, 0.5))
})
