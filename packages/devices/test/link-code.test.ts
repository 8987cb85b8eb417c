import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { LINK_CODE_PREFIX, comparisonCode, decodeLinkCode, encodeLinkCode, linkProof } from '../src/index.js'

const secret = new Uint8Array(32).fill(7)
const code = (fields = {}): string => encodeLinkCode({ peerId: new Uint8Array([0, 36, 8, 1]), addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001').bytes], secret, expires: Date.now() + 60_000, ...fields })

describe('link codes', () => {
  it('round-trip, and are told apart from invite codes', () => {
    const decoded = decodeLinkCode(code())
    expect(Buffer.from(decoded.secret).equals(secret)).toBe(true)
    expect(multiaddr(decoded.addrs[0] as Uint8Array).toString()).toBe('/ip4/127.0.0.1/tcp/4001')
    expect(code().startsWith(LINK_CODE_PREFIX)).toBe(true)
    expect(() => decodeLinkCode('kith1AAAA')).toThrow(expect.objectContaining({ name: 'InvalidLinkCodeError', message: expect.stringMatching(/kith device link/) }))
  })

  it('refuse expired, damaged, oversized and malformed codes with named errors', () => {
    expect(() => decodeLinkCode(code({ expires: Date.now() - 1 }))).toThrow(expect.objectContaining({ name: 'LinkCodeExpiredError' }))
    const valid = code()
    const damaged = valid.slice(0, -6) + (valid.at(-6) === 'A' ? 'B' : 'A') + valid.slice(-5)
    expect(() => decodeLinkCode(damaged)).toThrow(expect.objectContaining({ name: 'InvalidLinkCodeError', message: expect.stringMatching(/damaged/) }))
    expect(() => decodeLinkCode(LINK_CODE_PREFIX + 'A'.repeat(10_000))).toThrow(expect.objectContaining({ name: 'InvalidLinkCodeError', message: expect.stringMatching(/too long/) }))
    expect(() => decodeLinkCode(LINK_CODE_PREFIX + '!!')).toThrow(expect.objectContaining({ name: 'InvalidLinkCodeError' }))
    expect(() => decodeLinkCode(code({ secret: new Uint8Array(8) }))).toThrow(expect.objectContaining({ name: 'InvalidLinkCodeError', message: expect.stringMatching(/secret/) }))
  })
})

describe('link secrets', () => {
  it('bind both devices: the proof and the comparison code change with either', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
    expect(comparisonCode(secret, a!, b!)).toMatch(/^\d{3} \d{3}$/)
    expect(comparisonCode(secret, a!, b!)).toBe(comparisonCode(new Uint8Array(secret), a!, b!))
    expect(comparisonCode(secret, a!, c!)).not.toBe(comparisonCode(secret, a!, b!))
    expect(Buffer.from(linkProof(secret, a!, b!)).equals(Buffer.from(linkProof(secret, a!, c!)))).toBe(false)
    expect(Buffer.from(linkProof(secret, a!, b!)).equals(Buffer.from(linkProof(new Uint8Array(32), a!, b!)))).toBe(false)
  })
})
