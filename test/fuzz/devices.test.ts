import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LINK_PROTOCOL, encodeCode } from '@kith/core'
import { LINK_CODE_PREFIX, LINK_STATUS, LinkRequest, LinkResponse, decodeContact, decodeLinkCode, encodeContact, encodeLinkCode } from '@kith/devices'
import { trackNodes } from '../helpers/testnet.js'
import { SIZE_WORDS, bytes, huge, inputs, mutated, params, sample, throwsOnly, timeoutFor } from './helpers.js'
import { exchange, firstFrame, introduce, streamInput, unframe } from './net.js'

// Linking: link codes pasted by users, contacts handed over by our own devices, and
// /kith/link, which every identity device serves to anyone who connects.

const NOW = 1_750_000_000_000
const linkData = fc.record({
  peerId: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  addrs: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
  secret: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  expires: fc.integer({ min: NOW - 1000, max: NOW + 1e9 })
})
const linkPayload = linkData.map(data => Buffer.from(encodeLinkCode(data).slice(LINK_CODE_PREFIX.length), 'base64url').subarray(0, -4))

const contact = fc.record({
  peerId: fc.string({ minLength: 1, maxLength: 60 }),
  name: fc.string({ minLength: 1, maxLength: 30 }),
  addrs: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
  addedAt: fc.nat(),
  identity: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
  verified: fc.option(fc.boolean(), { nil: undefined }),
  deviceList: fc.option(fc.uint8Array({ minLength: 1, maxLength: 200 }).map(b => Buffer.from(b).toString('base64')), { nil: undefined })
}).map(c => encodeContact(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as any))

const node = trackNodes()

describe('fuzz: linking', () => {
  it('decodeLinkCode throws only InvalidLinkCodeError or LinkCodeExpiredError', () => {
    const code = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(linkData.map(encodeLinkCode), fc.nat()).map(([c, where]) => c.slice(0, where % c.length)),
      mutated(linkPayload).map(payload => encodeCode(LINK_CODE_PREFIX, payload)),
      bytes(400).map(payload => encodeCode(LINK_CODE_PREFIX, payload))
    )
    fc.assert(fc.property(code, input => {
      throwsOnly(c => decodeLinkCode(c, NOW), input, ['InvalidLinkCodeError', 'LinkCodeExpiredError'])
    }), params())
    expect(throwsOnly(c => decodeLinkCode(c, NOW), LINK_CODE_PREFIX + 'A'.repeat(10 * 1024 * 1024), ['InvalidLinkCodeError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(2))

  it('decodeContact throws only InvalidMessageError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(contact), input => {
      throwsOnly(decodeContact, input, ['InvalidMessageError'])
    }), params())
    expect(throwsOnly(decodeContact, huge(sample(contact, 1)[0]), ['InvalidMessageError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(2))

  it('/kith/link answers junk from a stranger with INVALID (or resets it), counts it, and still answers a well-formed request', async () => {
    const identity = await node('identity')
    const stranger = await node('stranger')
    await introduce(stranger.libp2p, identity.libp2p)
    const request = fc.record({ proof: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), bytes(40)), name: fc.string({ maxLength: 80 }) }).map(r => LinkRequest.encode(r))
    let malformed = 0
    await fc.assert(fc.asyncProperty(streamInput(inputs(request, 300), 256, 1), async chunks => {
      const { received, connectionLost } = await exchange(stranger.libp2p, identity.peerId, LINK_PROTOCOL, chunks)
      if (connectionLost) return
      const [answer] = unframe(received)
      // Whatever it was sent, the handler answers with a LinkResponse that is not OK (nobody made a link code).
      if (answer != null) expect(LinkResponse.decode(answer).status).not.toBe(LINK_STATUS.OK)
      // What must be counted: a length over the limit, or a whole frame that is no proof and name.
      const first = firstFrame(chunks, 256)
      if (first.kind === 'oversized') malformed++
      if (first.kind === 'frame') {
        let decoded: LinkRequest | undefined
        try { decoded = LinkRequest.decode(first.frame) } catch {}
        if (decoded == null || decoded.proof.length !== 32 || Buffer.byteLength(decoded.name) > 64) malformed++
      }
    }), params(0.5))
    // Every request over the limit, or that did not decode to a proof and a name, was counted.
    expect(identity.devices.invalidLinkRequests).toBeGreaterThanOrEqual(malformed)
    expect(malformed).toBeGreaterThan(0)
    const { received } = await exchange(stranger.libp2p, identity.peerId, LINK_PROTOCOL, [new Uint8Array(Buffer.concat([Buffer.of(34), LinkRequest.encode({ proof: new Uint8Array(32), name: 'x' })]))])
    const answer = LinkResponse.decode(unframe(received)[0] as Uint8Array)
    expect(answer.status).toBe(LINK_STATUS.USED)
    expect(answer.reason).toMatch(/no link code/)
  }, timeoutFor(40, 0.5))
})
