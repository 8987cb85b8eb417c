import {
  createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync
} from 'node:crypto'
import type { KeyObject } from 'node:crypto'

/**
 * The primitives Kith's end-to-end encryption is built from, all on node:crypto (10–30× faster
 * than pure-JS implementations here): X25519 (RFC 7748), HKDF-SHA-256 (RFC 5869), HMAC-SHA-256
 * and AES-256-GCM. Keys cross this module as raw bytes; KeyObjects stay inside it.
 */

// DER prefixes that turn a raw 32-byte X25519 key into PKCS#8 / SPKI (RFC 8410).
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

/** A raw X25519 key pair. */
export interface X25519KeyPair {
  privateKey: Uint8Array
  publicKey: Uint8Array
}

export function x25519Generate (): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519')
  return { privateKey: rawPrivate(privateKey), publicKey: rawPublic(publicKey) }
}

/** The public key of a raw X25519 private key. */
export function x25519PublicKey (privateKey: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(x25519PrivateKeyObject(privateKey)))
}

/**
 * X25519(privateKey, publicKey). Throws when the result is all zeros (a low-order public
 * key), as RFC 7748 section 6.1 allows and X3DH requires.
 */
export function x25519 (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new TypeError('an X25519 public key is 32 bytes')
  const shared = diffieHellman({ privateKey: x25519PrivateKeyObject(privateKey), publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }) })
  if (shared.every(b => b === 0)) throw new TypeError('X25519 produced the all-zero value')
  return new Uint8Array(shared)
}

/** HKDF-SHA-256 (RFC 5869). */
export function hkdf (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info) : info, length))
}

/** HMAC-SHA-256. */
export function hmacSha256 (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/** AES-256-GCM: ciphertext || 16-byte tag. */
export function aesGcmEncrypt (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]))
}

/**
 * AES-256-GCM decryption of ciphertext || tag.
 *
 * @throws when the tag does not verify (tampered ciphertext, wrong key, wrong associated data)
 */
export function aesGcmDecrypt (key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (sealed.length < 16) throw new TypeError('ciphertext is shorter than its tag')
  const decipher = createDecipheriv('aes-256-gcm', key, iv)
  decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(sealed.length - 16))
  return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]))
}

function x25519PrivateKeyObject (privateKey: Uint8Array): KeyObject {
  if (privateKey.length !== 32) throw new TypeError('an X25519 private key is 32 bytes')
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' })
}

function rawPrivate (key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }).subarray(X25519_PKCS8_PREFIX.length))
}

function rawPublic (key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length))
}
