import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { getCiphersuiteFromName, getCiphersuiteImpl } from 'ts-mls'
import { CIPHERSUITE } from '../src/mls.js'
import { withNodeCrypto } from '../src/node-crypto.js'

// The node:crypto parts must give exactly what ts-mls's own implementation gives (which passes
// the RFC 9420 test vectors), on any input.
const reference = await getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE))
const ours = withNodeCrypto(reference)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max })

describe('node:crypto ciphersuite parts', () => {
  it('hash, HMAC and HKDF agree with ts-mls', async () => {
    // ts-mls's own refuses empty HMAC keys and salts that are not 32 bytes (MLS uses neither).
    await fc.assert(fc.asyncProperty(bytes(0, 200), bytes(1, 64), bytes(32, 32), fc.integer({ min: 1, max: 255 }), async (data, key, salt, length) => {
      expect(hex(await ours.hash.digest(data))).toBe(hex(await reference.hash.digest(data)))
      const mac = await ours.hash.mac(key, data)
      expect(hex(mac)).toBe(hex(await reference.hash.mac(key, data)))
      expect(await ours.hash.verifyMac(key, mac, data)).toBe(true)
      expect(await ours.hash.verifyMac(key, mac.map((b, i) => i === 0 ? b ^ 1 : b), data)).toBe(false)
      expect(hex(await ours.kdf.extract(salt, data))).toBe(hex(await reference.kdf.extract(salt, data)))
      const prk = await ours.kdf.extract(salt, data)
      expect(hex(await ours.kdf.expand(prk, key, length))).toBe(hex(await reference.kdf.expand(prk, key, length)))
    }), { numRuns: 100 })
  })

  it('AES-128-GCM agrees with ts-mls both ways, and refuses a changed ciphertext', async () => {
    await fc.assert(fc.asyncProperty(bytes(16, 16), bytes(12, 12), bytes(0, 40), bytes(0, 300), async (key, nonce, aad, plaintext) => {
      const sealed = await ours.hpke.encryptAead(key, nonce, aad, plaintext)
      expect(hex(sealed)).toBe(hex(await reference.hpke.encryptAead(key, nonce, aad, plaintext)))
      expect(hex(await reference.hpke.decryptAead(key, nonce, aad, sealed))).toBe(hex(plaintext))
      expect(hex(await ours.hpke.decryptAead(key, nonce, aad, sealed))).toBe(hex(plaintext))
      const changed = sealed.map((b, i) => i === sealed.length - 1 ? b ^ 1 : b)
      await expect(ours.hpke.decryptAead(key, nonce, aad, changed)).rejects.toThrow()
    }), { numRuns: 100 })
  })

  it('Ed25519 signatures equal ts-mls\'s (it is deterministic) and verify across both', async () => {
    const { signKey, publicKey } = await ours.signature.keygen()
    const other = await reference.signature.keygen()
    await fc.assert(fc.asyncProperty(bytes(0, 300), async (message) => {
      const signature = await ours.signature.sign(signKey, message)
      expect(hex(signature)).toBe(hex(await reference.signature.sign(signKey, message)))
      expect(await reference.signature.verify(publicKey, message, signature)).toBe(true)
      expect(await ours.signature.verify(publicKey, message, signature)).toBe(true)
      expect(await ours.signature.verify(other.publicKey, message, signature)).toBe(false)
      expect(await ours.signature.verify(publicKey, message, new Uint8Array(64))).toBe(false)
    }), { numRuns: 50 })
  })
})
