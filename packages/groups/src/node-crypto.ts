import {
  createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, timingSafeEqual, verify
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { CiphersuiteImpl } from 'ts-mls'

/**
 * The parts of Kith's MLS ciphersuite (SHA-256, HMAC, HKDF, Ed25519, AES-128-GCM) on node:crypto,
 * synchronous and with key objects cached. ts-mls's defaults go through WebCrypto, which here
 * re-imports the signing key for every signature: 2.3 ms to encrypt one application message
 * and 1.4 ms to read it. HPKE itself (X25519 KEM) stays ts-mls's.
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
      expand: async (prk, info, length) => expand(prk, info, length)
    },
    signature: {
      sign: async (signKey, message) => new Uint8Array(sign(null, message, privateKeyOf(signKey))),
      verify: async (publicKey, message, signature) => {
        try {
          return verify(null, message, publicKeyOf(publicKey), signature)
        } catch {
          return false
        }
      },
      keygen: async () => {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519')
        const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url')
        const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')
        return { signKey: new Uint8Array(seed), publicKey: new Uint8Array(raw) }
      }
    }
  }
}

function hmac (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/** HKDF-Expand (RFC 5869) with SHA-256. */
function expand (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * 32) throw new RangeError('HKDF-SHA-256 output is at most 8160 bytes')
  const out = new Uint8Array(length)
  let block: Uint8Array = new Uint8Array(0)
  for (let i = 1, at = 0; at < length; i++, at += 32) {
    block = createHmac('sha256', prk).update(block).update(info).update(Uint8Array.of(i)).digest()
    out.set(block.subarray(0, Math.min(32, length - at)), at)
  }
  return out
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

// A device signs with the same key for every message, and verifies a few members' keys.
const CACHE_SIZE = 1024
const privateKeys = new Map<string, KeyObject>()
const publicKeys = new Map<string, KeyObject>()
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex')

function privateKeyOf (seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new TypeError('an Ed25519 signing key is 32 bytes')
  return cached(privateKeys, seed, () => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' }))
}

function publicKeyOf (raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes')
  // JWK, not DER: a DER import costs ten times as much here.
  return cached(publicKeys, raw, () => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' }))
}

function cached (cache: Map<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject {
  const id = Buffer.from(raw).toString('base64')
  let key = cache.get(id)
  if (key == null) {
    key = make()
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
    cache.set(id, key)
  }
  return key
}
