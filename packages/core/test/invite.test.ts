import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { INVITE_PREFIX, INVITE_TOKEN_BYTES, Invite, LIMITS, decodeInvite, encodeInvite, random } from '@kith/core'
import type { InviteData } from '@kith/core'

const NOW = 1_700_000_000_000
const HOUR = 60 * 60 * 1000

function sample (overrides: Partial<InviteData> = {}): InviteData {
  return {
    peerId: random(38),
    name: 'Alice',
    addrs: [multiaddr('/ip4/192.0.2.7/tcp/4001').bytes, multiaddr('/ip6/::1/tcp/4002').bytes],
    token: random(INVITE_TOKEN_BYTES),
    expires: NOW + HOUR,
    certificate: random(153),
    ...overrides
  }
}

/** Fields as the Invite message wants them: lets a test build codes encodeInvite would refuse to. */
function rawFields (data: InviteData): Invite {
  return {
    version: 1,
    peerId: new Uint8Array(data.peerId),
    name: data.name,
    addrs: data.addrs.map(a => new Uint8Array(a)),
    token: new Uint8Array(data.token),
    expires: BigInt(data.expires),
    certificate: new Uint8Array(data.certificate)
  }
}

/** A code for raw payload bytes, with the format's checksum (first 4 bytes of SHA-256) appended. */
function codeOf (bytes: Uint8Array): string {
  const sum = createHash('sha256').update(bytes).digest().subarray(0, 4)
  return INVITE_PREFIX + Buffer.concat([bytes, sum]).toString('base64url')
}

function rejection (code: string, now = NOW): Error {
  try {
    decodeInvite(code, now)
  } catch (err) {
    return err as Error
  }
  throw new Error(`decodeInvite accepted ${code.slice(0, 40)}`)
}

function expectInvalid (code: string, message: RegExp, now = NOW): void {
  const err = rejection(code, now)
  expect(err).toBeInstanceOf(Error)
  expect(err.name).toBe('InvalidInviteError')
  expect(err.message).toMatch(message)
}

afterEach(() => { vi.restoreAllMocks() })

describe('encodeInvite / decodeInvite', () => {
  it('round-trips every field', () => {
    const data = sample()
    const code = encodeInvite(data)
    expect(code.startsWith(INVITE_PREFIX)).toBe(true)
    const decoded = decodeInvite(code, NOW)
    expect(new Uint8Array(decoded.peerId)).toEqual(new Uint8Array(data.peerId))
    expect(decoded.name).toBe(data.name)
    expect(decoded.addrs.map(a => multiaddr(a).toString())).toEqual(['/ip4/192.0.2.7/tcp/4001', '/ip6/::1/tcp/4002'])
    expect(new Uint8Array(decoded.token)).toEqual(new Uint8Array(data.token))
    expect(decoded.expires).toBe(data.expires)
  })

  it('round-trips a code with no addresses and a multi-byte name', () => {
    const data = sample({ addrs: [], name: 'Zoë 🦊' })
    const decoded = decodeInvite(encodeInvite(data), NOW)
    expect(decoded.addrs).toEqual([])
    expect(decoded.name).toBe('Zoë 🦊')
  })

  it('produces a code made only of copy-paste-safe characters', () => {
    const code = encodeInvite(sample())
    expect(code).toMatch(/^[A-Za-z0-9_-]+$/)
  })

  it('accepts a pasted code surrounded by whitespace', () => {
    const data = sample()
    const decoded = decodeInvite(`  \n${encodeInvite(data)}\r\n`, NOW)
    expect(decoded.name).toBe(data.name)
  })
})

describe('decodeInvite rejects', () => {
  it('a code with the wrong prefix, naming the expected one', () => {
    const body = encodeInvite(sample()).slice(INVITE_PREFIX.length)
    expectInvalid('kith2' + body, /kith1/)
    expectInvalid('hello world', /kith1/)
    expectInvalid('', /kith1/)
  })

  it('non-base64url characters after the prefix', () => {
    const code = encodeInvite(sample())
    for (const bad of ['+', '/', '=', ' ', '!', 'é']) {
      expectInvalid(code.slice(0, 12) + bad + code.slice(12), /characters/)
    }
    expectInvalid(INVITE_PREFIX, /characters/)
  })

  it('a code longer than LIMITS.maxInviteChars', () => {
    expectInvalid(INVITE_PREFIX + 'A'.repeat(LIMITS.maxInviteChars), /too long/)
  })

  it('a 10 MB code by its length alone, before decoding anything', () => {
    const decode = vi.spyOn(Invite, 'decode')
    expectInvalid(INVITE_PREFIX + 'A'.repeat(10 * 1024 * 1024), /too long/)
    // Same when the 10 MB are not even base64url: the length is the first thing checked.
    expectInvalid('x'.repeat(10 * 1024 * 1024), /too long/)
    expect(decode).not.toHaveBeenCalled()
    // The spy does see the decoding of a code of normal size.
    decodeInvite(encodeInvite(sample()), NOW)
    expect(decode).toHaveBeenCalledTimes(1)
  })

  it('only codes above the limit: a valid code of exactly maxInviteChars decodes', () => {
    // Pad a valid invite with an unknown field (number 15, bytes) so the code hits the limit.
    const base = Invite.encode(rawFields(sample()))
    const b64Length = (n: number): number => Math.floor(n / 3) * 4 + (n % 3 === 0 ? 0 : n % 3 + 1)
    const padded = (total: number): Uint8Array => {
      const fill = total - base.length - 3 // 1 tag byte + 2 varint length bytes
      expect(fill).toBeGreaterThan(127)
      expect(fill).toBeLessThan(16384)
      return Buffer.concat([base, Buffer.from([(15 << 3) | 2, (fill & 0x7f) | 0x80, fill >> 7]), Buffer.alloc(fill, 7)])
    }
    // The code holds the payload plus a 4-byte checksum.
    let total = 0
    while (INVITE_PREFIX.length + b64Length(total + 4) < LIMITS.maxInviteChars) total++
    expect(INVITE_PREFIX.length + b64Length(total + 4)).toBe(LIMITS.maxInviteChars)

    const atLimit = codeOf(padded(total))
    expect(atLimit.length).toBe(LIMITS.maxInviteChars)
    expect(decodeInvite(atLimit, NOW).name).toBe('Alice')

    const overLimit = codeOf(padded(total + 1))
    expect(overLimit.length).toBe(LIMITS.maxInviteChars + 1)
    expectInvalid(overLimit, /too long/)
  })

  it('garbage bytes after the prefix', () => {
    expectInvalid(codeOf(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /damaged/)
    // A valid code cut inside its token (the field before expires).
    const bytes = Invite.encode(rawFields(sample()))
    expectInvalid(codeOf(bytes.subarray(0, bytes.length - 10)), /damaged/)
  })

  it('a code cut short or mistyped in copy-paste as damaged (the checksum catches it)', () => {
    const code = encodeInvite(sample())
    for (let cut = 1; cut <= 12; cut++) expectInvalid(code.slice(0, -cut), /damaged/)
    const at = Math.floor(code.length / 2)
    const typo = code.slice(0, at) + (code[at] === 'A' ? 'B' : 'A') + code.slice(at + 1)
    expectInvalid(typo, /damaged/)
  })

  it('a token of the wrong length', () => {
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ token: random(INVITE_TOKEN_BYTES - 1) })))), /token/)
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ token: random(INVITE_TOKEN_BYTES + 1) })))), /token/)
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ token: new Uint8Array(0) })))), /token/)
  })

  it('a code without a peer id, or of another version', () => {
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ peerId: new Uint8Array(0) })))), /peer id/)
    expectInvalid(codeOf(Invite.encode({ ...rawFields(sample()), version: 2 })), /version/)
  })

  it('an expired code, telling the user to ask for a new one', () => {
    const code = encodeInvite(sample({ expires: NOW + HOUR }))
    expect(decodeInvite(code, NOW + HOUR - 1).name).toBe('Alice')
    expectInvalid(code, /expired/, NOW + HOUR)
    expectInvalid(code, /expired/, NOW + 2 * HOUR)
  })

  it('by default, a code that expired before the current time', () => {
    const code = encodeInvite(sample({ expires: Date.now() - 1000 }))
    expect(() => decodeInvite(code)).toThrow(expect.objectContaining({ name: 'InvalidInviteError', message: expect.stringMatching(/expired/) }))
    expect(decodeInvite(encodeInvite(sample({ expires: Date.now() + HOUR }))).name).toBe('Alice')
  })

  it('more than LIMITS.maxAddrs addresses', () => {
    const addrs = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => multiaddr(`/ip4/10.0.0.${i + 1}/tcp/4001`).bytes)
    expect(decodeInvite(codeOf(Invite.encode(rawFields(sample({ addrs: addrs(LIMITS.maxAddrs) })))), NOW).addrs)
      .toHaveLength(LIMITS.maxAddrs)
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ addrs: addrs(LIMITS.maxAddrs + 1) })))), /damaged|address/)
  })

  it('an address longer than LIMITS.maxAddrBytes', () => {
    const long = new Uint8Array(LIMITS.maxAddrBytes + 1)
    expectInvalid(codeOf(Invite.encode(rawFields(sample({ addrs: [long] })))), /address/)
  })

  it('a name longer than LIMITS.maxNameBytes, counted in UTF-8 bytes', () => {
    expect(decodeInvite(encodeInvite(sample({ name: 'n'.repeat(LIMITS.maxNameBytes) })), NOW).name)
      .toHaveLength(LIMITS.maxNameBytes)
    expectInvalid(encodeInvite(sample({ name: 'n'.repeat(LIMITS.maxNameBytes + 1) })), /name/)
    // 22 characters, 66 bytes.
    expectInvalid(encodeInvite(sample({ name: '€'.repeat(22) })), /name/)
  })
})
