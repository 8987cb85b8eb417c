import { describe, expect, it } from 'vitest'
import { NONCE_BYTES, openMessage, sealMessage } from '../../src/ratchet/message-cipher.js'

const seed = new Uint8Array(32).fill(7)
const aad = new Uint8Array([1, 2, 3])
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('ratchet message cipher', () => {
  it('seals two plaintexts under one message key (a restored home reusing its chain) with different nonces', () => {
    const one = sealMessage(seed, new TextEncoder().encode('first life'), aad)
    const two = sealMessage(seed, new TextEncoder().encode('second life'), aad)
    expect(hex(one.subarray(0, NONCE_BYTES))).not.toBe(hex(two.subarray(0, NONCE_BYTES)))
    expect(new TextDecoder().decode(openMessage(seed, one, aad))).toBe('first life')
    expect(new TextDecoder().decode(openMessage(seed, two, aad))).toBe('second life')
  })

  it('refuses a changed nonce, ciphertext or associated data, and a body too short to hold a nonce and a tag', () => {
    const sealed = sealMessage(seed, new Uint8Array([9, 9, 9]), aad)
    for (const at of [0, NONCE_BYTES, sealed.length - 1]) {
      const changed = new Uint8Array(sealed)
      changed[at] = (changed[at] as number) ^ 1
      expect(() => openMessage(seed, changed, aad)).toThrow(expect.objectContaining({ name: 'DecryptionFailedError' }))
    }
    expect(() => openMessage(seed, sealed, new Uint8Array([0]))).toThrow(expect.objectContaining({ name: 'DecryptionFailedError' }))
    expect(() => openMessage(seed, sealed.subarray(0, NONCE_BYTES + 15), aad)).toThrow(expect.objectContaining({ name: 'DecryptionFailedError' }))
  })
})
