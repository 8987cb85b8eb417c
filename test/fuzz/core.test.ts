import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  Envelope, FileOffer, INVITE_PREFIX, LIMITS, decodeEnvelope, decodeFileOffer, decodeInvite, encodeCode, encodeInvite, encodeFileOffer
} from '@kith/core'
import { SIZE_WORDS, huge, inputs, mutated, params, sample, throwsOnly, timeoutFor } from './helpers.js'

// @kith/core's decoders of untrusted bytes: the envelope of every /kith/dm frame (and every
// mailbox deposit), the file offer inside a message, and invite codes pasted by users.

const envelope = fc.record({
  version: fc.oneof(fc.constant(1), fc.nat()),
  id: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  recipient: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  encryption: fc.constantFrom(0, 1, 2, 3),
  body: fc.uint8Array({ maxLength: 300 })
}).map(e => Envelope.encode(e))

const offer = fc.record({
  root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  name: fc.string({ minLength: 1, maxLength: 60 }),
  type: fc.string({ maxLength: 30 })
}).map(o => encodeFileOffer(o))

const NOW = 1_750_000_000_000
const inviteData = fc.record({
  peerId: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  name: fc.string({ maxLength: 40 }),
  addrs: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
  token: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  expires: fc.integer({ min: NOW - 1000, max: NOW + 1e9 }),
  certificate: fc.uint8Array({ minLength: 1, maxLength: 200 }),
  bundle: fc.uint8Array({ maxLength: 300 })
})
/** The protobuf inside a valid code: mutating it (and then fixing the checksum) reaches the parser. */
const invitePayload = inviteData.map(data => Buffer.from(encodeInvite(data).slice(INVITE_PREFIX.length), 'base64url').subarray(0, -4))

describe('fuzz: @kith/core decoders', () => {
  it('decodeEnvelope throws only InvalidMessageError, and what it accepts is canonical', () => {
    fc.assert(fc.property(inputs(envelope), input => {
      if (throwsOnly(decodeEnvelope, input, ['InvalidMessageError']) == null) {
        expect(Buffer.from(Envelope.encode(decodeEnvelope(input))).equals(input)).toBe(true)
      }
    }), params())
  }, timeoutFor(1))

  it('decodeFileOffer throws only InvalidMessageError, refuses 10 MB by its size, and what it accepts is within the limits', () => {
    fc.assert(fc.property(inputs(offer), input => {
      if (throwsOnly(decodeFileOffer, input, ['InvalidMessageError']) == null) {
        const decoded = decodeFileOffer(input)
        expect(decoded.root).toHaveLength(32)
        expect(Buffer.byteLength(decoded.name)).toBeLessThanOrEqual(255)
        expect(Buffer.from(FileOffer.encode(decoded)).equals(input)).toBe(true)
      }
    }), params())
    const err = throwsOnly(decodeFileOffer, huge(sample(offer, 1)[0]), ['InvalidMessageError'])
    expect(err?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(1))

  it('decodeInvite throws only InvalidInviteError, whatever the code or its payload', () => {
    const code = fc.oneof(
      // Any text at all.
      fc.string({ maxLength: 200 }),
      // Valid codes, their characters changed.
      fc.tuple(inviteData.map(encodeInvite), fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([c, where, s]) => c.slice(0, where % c.length) + s + c.slice(where % c.length + 1)),
      // Valid codes cut short.
      fc.tuple(inviteData.map(encodeInvite), fc.nat()).map(([c, where]) => c.slice(0, where % c.length)),
      // Mutated payloads under a correct checksum, so the protobuf parser and the field checks run.
      mutated(invitePayload).map(payload => encodeCode(INVITE_PREFIX, payload)),
      // Random payloads under a correct checksum.
      fc.uint8Array({ maxLength: 600 }).map(payload => encodeCode(INVITE_PREFIX, payload))
    )
    fc.assert(fc.property(code, input => {
      const err = throwsOnly(c => decodeInvite(c, NOW), input, ['InvalidInviteError'])
      if (err == null) expect(decodeInvite(input, NOW).token).toHaveLength(16)
    }), params())
    const long = INVITE_PREFIX + 'A'.repeat(10 * 1024 * 1024)
    expect(throwsOnly(c => decodeInvite(c, NOW), long, ['InvalidInviteError'])?.message).toMatch(SIZE_WORDS)
    expect(LIMITS.maxInviteChars).toBeLessThan(long.length)
  }, timeoutFor(1))
})
