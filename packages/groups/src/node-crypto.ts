import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { ed25519SignRaw, ed25519VerifyRaw, generateRawKeyPair, hkdfExpand } from '@kith/crypto'
import type { CiphersuiteImpl } from 'ts-mls'

/**
 * The parts of Kith's MLS ciphersuite (SHA-256, HMAC, HKDF, Ed25519, AES-128-GCM) on
 * node:crypto, synchronous, with key objects cached (in @kith/crypto). ts-mls's defaults go
 * through WebCrypto, which here re-imports the signing key for every signature: 2.3 ms to
 * encrypt one application message and 1.4 ms to read it, against 0.17 and 0.26 ms. HPKE
 * itself (the X25519 KEM) stays ts-mls's.
 */
export function withNodeCrypto (impl: CiphersuiteImpl): CiphersuiteImpl {
  // Keep the HPKE object's own state and methods; replace only its message AEAD.
  const hpke = Object.create(impl.hpke) as CiphersuiteImpl['hpke']
  hpke.encryptAead = async (key, nonce, aad, plaintext) => aesGcm(true, key, nonce, aad, plaintext)
  hpke.decryptAead = async (key, nonce, aad, ciphertext) => aesGcm(false, key, nonce, aad, ciphertext)
  return {
    ...impl,
    hpke,
    hash: {
      digest: async (data) => new Uint8Array(createHash('sha256').update(data).digest()),
      mac: async (key, data) => hmac(key, data),
      verifyMac: async (key, mac, data) => {
        const expected = hmac(key, data)
        return expected.length === mac.length && timingSafeEqual(expected, mac)
      }
    },
    kdf: {
      size: 32,
      // RFC 5869: an empty salt is HashLen zeros, which is what HMAC does with an empty key.
      extract: async (salt, ikm) => hmac(salt, ikm),
      expand: async (prk, info, length) => hkdfExpand(prk, info, length)
    },
    signature: {
      sign: async (signKey, message) => ed25519SignRaw(signKey, message),
      verify: async (publicKey, message, signature) => ed25519VerifyRaw(publicKey, message, signature),
      keygen: async () => {
        const { privateKey, publicKey } = generateRawKeyPair('ed25519')
        return { signKey: privateKey, publicKey }
      }
    }
  }
}

function hmac (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

function aesGcm (seal: boolean, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, input: Uint8Array): Uint8Array {
  const algorithm = key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm'
  if (seal) {
    const cipher = createCipheriv(algorithm, key, nonce)
    if (aad != null) cipher.setAAD(aad)
    return new Uint8Array(Buffer.concat([cipher.update(input), cipher.final(), cipher.getAuthTag()]))
  }
  if (input.length < 16) throw new Error('ciphertext shorter than its tag')
  const decipher = createDecipheriv(algorithm, key, nonce)
  if (aad != null) decipher.setAAD(aad)
  decipher.setAuthTag(input.subarray(input.length - 16))
  return new Uint8Array(Buffer.concat([decipher.update(input.subarray(0, input.length - 16)), decipher.final()]))
}
