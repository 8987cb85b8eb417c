import { describe, expect, it } from 'vitest'
import {
  Ack, AckStatus, ENCRYPTION_NONE, ENVELOPE_VERSION, Envelope, MESSAGE_ID_BYTES, decodeEnvelope, fromHex, random, toHex, utf8Length
} from '@kith/core'

function envelope (overrides: Partial<Envelope> = {}): Envelope {
  return {
    version: ENVELOPE_VERSION,
    id: random(MESSAGE_ID_BYTES),
    recipient: random(38),
    timestamp: 1_700_000_000_123n,
    encryption: ENCRYPTION_NONE,
    body: random(200),
    ...overrides
  }
}

/**
 * Byte offsets at which a field of `bytes` ends: protobuf writes fields in field-number order,
 * so the encoding of the first k fields is a prefix of the whole.
 */
function fieldEnds<T> (encode: (obj: Partial<T>) => Uint8Array, obj: T, fields: Array<keyof T>): Set<number> {
  const ends = new Set<number>([0])
  for (let k = 1; k <= fields.length; k++) {
    const partial: Partial<T> = {}
    for (const f of fields.slice(0, k)) partial[f] = obj[f]
    ends.add(encode(partial).length)
  }
  return ends
}

describe('Envelope wire format', () => {
  it('round-trips every field', () => {
    const env = envelope({ encryption: 1 })
    expect(Envelope.decode(Envelope.encode(env))).toEqual(env)
  })

  it('keeps timestamps beyond Number precision exactly', () => {
    for (const timestamp of [2n ** 53n + 1n, 2n ** 64n - 1n]) {
      expect(Envelope.decode(Envelope.encode(envelope({ timestamp }))).timestamp).toBe(timestamp)
    }
  })

  it('decodes missing fields to their defaults', () => {
    const decoded = Envelope.decode(new Uint8Array(0))
    expect(decoded.version).toBe(0)
    expect(decoded.id).toHaveLength(0)
    expect(decoded.timestamp).toBe(0n)
    expect(decoded.body).toHaveLength(0)
  })

  it('throws on bytes cut inside a length-delimited field', () => {
    const bytes = Envelope.encode(envelope())
    expect(() => Envelope.decode(bytes.subarray(0, bytes.length - 1))).toThrow()
    expect(() => Envelope.decode(bytes.subarray(0, 10))).toThrow()
  })

  it('decodeEnvelope throws on bytes cut at any point that is not a field boundary', () => {
    const env = envelope()
    const bytes = Envelope.encode(env)
    const ends = fieldEnds(Envelope.encode, env, ['version', 'id', 'recipient', 'timestamp', 'encryption', 'body'])
    expect(ends.has(bytes.length)).toBe(true)
    const accepted: number[] = []
    for (let n = 1; n < bytes.length; n++) {
      if (ends.has(n)) continue
      try {
        decodeEnvelope(bytes.subarray(0, n))
        accepted.push(n)
      } catch (err: any) {
        expect(err.name).toBe('InvalidMessageError')
      }
    }
    // Each entry is a truncated frame that decoded without an error (e.g. a cut inside the
    // timestamp varint must not yield a different timestamp).
    expect(accepted).toEqual([])
  })
})

describe('Ack wire format', () => {
  it('round-trips every status', () => {
    for (const status of [AckStatus.OK, AckStatus.DUPLICATE, AckStatus.REFUSED, AckStatus.INVALID]) {
      const ack = { id: random(MESSAGE_ID_BYTES), status }
      expect(Ack.decode(Ack.encode(ack))).toEqual(ack)
    }
  })

  it('throws on bytes cut inside the id', () => {
    const bytes = Ack.encode({ id: random(MESSAGE_ID_BYTES), status: AckStatus.REFUSED })
    for (let n = 1; n < 2 + MESSAGE_ID_BYTES; n++) {
      expect(() => Ack.decode(bytes.subarray(0, n))).toThrow()
    }
    // Cut inside the status varint: the tag is there, the value is not.
    expect(() => Ack.decode(bytes.subarray(0, bytes.length - 1))).toThrow()
  })
})

describe('toHex / fromHex', () => {
  it('round-trips all byte values', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const hex = toHex(all)
    expect(hex).toHaveLength(512)
    expect(hex).toMatch(/^[0-9a-f]+$/)
    expect(hex.slice(0, 8)).toBe('00010203')
    expect(hex.slice(-4)).toBe('feff')
    expect(fromHex(hex)).toEqual(all)
  })

  it('encodes only the bytes of a view, not its whole buffer', () => {
    const whole = Uint8Array.from([1, 2, 3, 4, 5, 6])
    expect(toHex(whole.subarray(2, 4))).toBe('0304')
  })

  it('round-trips the empty string', () => {
    expect(toHex(new Uint8Array(0))).toBe('')
    expect(fromHex('')).toEqual(new Uint8Array(0))
  })

  it('rejects anything but lower-case hex pairs', () => {
    for (const bad of ['0', 'abc', 'zz', '0g', 'AB', ' 00', '00 ', '0x00', '-1']) {
      expect(() => fromHex(bad), bad).toThrow(TypeError)
    }
  })
})

describe('random / utf8Length', () => {
  it('random gives fresh bytes of the asked length', () => {
    const a = random(32)
    expect(a).toHaveLength(32)
    expect(toHex(a)).not.toBe(toHex(random(32)))
  })

  it('utf8Length counts bytes, not characters', () => {
    expect(utf8Length('abc')).toBe(3)
    expect(utf8Length('é')).toBe(2)
    expect(utf8Length('€')).toBe(3)
    expect(utf8Length('🦊')).toBe(4)
  })
})
