import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { fromHex } from '@kith/core'
import { safetyNumber } from '../src/safety-number.js'
import type { PrivateKey } from '@libp2p/interface'

const FORMAT = /^\d{5}( \d{5}){11}$/

let alice: PrivateKey
let bob: PrivateKey
let carol: PrivateKey
beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
})

describe('safetyNumber', () => {
  it('is 60 digits in 12 groups of 5', () => {
    const number = safetyNumber(alice.publicKey, bob.publicKey)
    expect(number).toMatch(FORMAT)
    expect(number.replaceAll(' ', '')).toHaveLength(60)
  })

  it('is the same string computed on either side', () => {
    expect(safetyNumber(bob.publicKey, alice.publicKey)).toBe(safetyNumber(alice.publicKey, bob.publicKey))
  })

  it('is the same from equal keys held in different objects', () => {
    const aliceAgain = publicKeyFromRaw(new Uint8Array(alice.publicKey.raw))
    expect(safetyNumber(aliceAgain, bob.publicKey)).toBe(safetyNumber(alice.publicKey, bob.publicKey))
  })

  it('changes when either key changes, in that key\'s half only', () => {
    const ab = safetyNumber(alice.publicKey, bob.publicKey)
    const cb = safetyNumber(carol.publicKey, bob.publicKey)
    const ac = safetyNumber(alice.publicKey, carol.publicKey)
    expect(cb).not.toBe(ab)
    expect(ac).not.toBe(ab)
    // Each person's 30 digits depend on their key alone: Bob's half survives Alice's new key.
    const halves = (n: string): string[] => { const d = n.replaceAll(' ', ''); return [d.slice(0, 30), d.slice(30)] }
    const common = halves(ab).filter(half => halves(cb).includes(half))
    expect(common).toHaveLength(1)
  })

  it('changes when a single bit of a key changes', () => {
    const raw = new Uint8Array(bob.publicKey.raw)
    raw[31] = raw[31]! ^ 0x01
    // Not every 32-byte string is a valid point, but libp2p takes any 32 bytes as a key here.
    expect(safetyNumber(alice.publicKey, publicKeyFromRaw(raw))).not.toBe(safetyNumber(alice.publicKey, bob.publicKey))
  })

  it('gives the answer computed independently (Python hashlib) for two fixed keys', () => {
    // The public keys of RFC 8032 section 7.1, tests 1 and 2.
    const one = publicKeyFromRaw(fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))
    const two = publicKeyFromRaw(fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'))
    const expected = '03812 47509 73311 23020 87209 39631 39234 26017 63028 28456 63829 64883'
    expect(safetyNumber(one, two)).toBe(expected)
    expect(safetyNumber(two, one)).toBe(expected)
  })

  it('refuses keys that are not Ed25519', async () => {
    const secp = await generateKeyPair('secp256k1')
    expect(() => safetyNumber(alice.publicKey, secp.publicKey)).toThrow(TypeError)
    expect(() => safetyNumber(secp.publicKey, alice.publicKey)).toThrow(TypeError)
  })
})
