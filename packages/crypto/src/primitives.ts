import {
  createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, sign, verify
} from 'node:crypto'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'

/**
 * The primitives Kith's end-to-end encryption is built from, all on node:crypto (10–30× faster
 * than pure-JS implementations here): X25519 (RFC 7748), HKDF-SHA-256 (RFC 5869), HMAC-SHA-256
 * and AES-256-GCM. Keys cross this module as raw bytes; KeyObjects stay inside it.
 */

// The DER prefix that turns a raw 32-byte X25519 private key into PKCS#8 (RFC 8410); a JWK
// import would need the public key too.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

/** A raw X25519 key pair. */
export interface X25519KeyPair {
  privateKey: Uint8Array
  publicKey: Uint8Array
}

export function x25519Generate (): X25519KeyPair {
  return generateRawKeyPair('x25519')
}

/**
 * A fresh X25519 or Ed25519 key pair as raw bytes (for Ed25519 the private key is the 32-byte
 * seed). Node encodes the keys inside its key generation job: a key generated as a KeyObject and
 * then exported to JWK can deadlock Node 20 (a garbage collection during the export runs the
 * finished job's finalizer, which takes the lock the export holds; a loop of the two hangs
 * within a few thousand keys here), so no KeyObject of a fresh key is ever exported.
 */
export function generateRawKeyPair (type: 'x25519' | 'ed25519'): { privateKey: Uint8Array, publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'x25519', { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } })
  // RFC 8410: the raw key is the last 32 bytes of both encodings.
  return { privateKey: new Uint8Array(privateKey.subarray(privateKey.length - 32)), publicKey: new Uint8Array(publicKey.subarray(publicKey.length - 32)) }
}

/**
 * A fresh Ed25519 key as a libp2p PrivateKey. @libp2p/crypto's own generateKeyPair('Ed25519')
 * exports a fresh KeyObject to JWK, which can deadlock Node 20 (see generateRawKeyPair).
 */
export function generateEd25519Key (): PrivateKey {
  const { privateKey, publicKey } = generateRawKeyPair('ed25519')
  return privateKeyFromRaw(Buffer.concat([privateKey, publicKey]))
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
  return agree(x25519PrivateKeyObject(privateKey), publicKey)
}

/**
 * A fresh ephemeral key agreed with `publicKey` in one step: returns the ephemeral public key and
 * the shared secret (the private key never leaves node:crypto).
 */
export function x25519Ephemeral (publicKey: Uint8Array): { publicKey: Uint8Array, shared: Uint8Array } {
  // The public half encoded inside the job; the private half used, never exported (see generateRawKeyPair).
  const pair = generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'der' } } as any) as unknown as { publicKey: Buffer, privateKey: KeyObject }
  return { publicKey: new Uint8Array(pair.publicKey.subarray(pair.publicKey.length - 32)), shared: agree(pair.privateKey, publicKey) }
}

function agree (privateKey: KeyObject, publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new TypeError('an X25519 public key is 32 bytes')
  // JWK, not DER: importing a public key from DER costs ten times as much here.
  const shared = diffieHellman({ privateKey, publicKey: cached(publicKeys, publicKey, () => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' })) })
  if (shared.every(b => b === 0)) throw new TypeError('X25519 produced the all-zero value')
  return new Uint8Array(shared)
}

// Importing a raw key into node:crypto costs more than the agreement itself; a session reuses
// the same few keys (our identity key, the current ratchet keys) for many messages.
const CACHE_SIZE = 256
const privateKeys = new Map<string, KeyObject>()
const publicKeys = new Map<string, KeyObject>()

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

/**
 * HKDF-SHA-256 (RFC 5869), extract then expand, composed from node:crypto's HMAC. Same output as
 * `hkdfSync`, which costs about twice as much per call here (it wraps every input in a
 * KeyObject and runs as a job): the ratchet derives one message key per message.
 */
export function hkdf (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  return hkdfExpand(createHmac('sha256', salt.length > 0 ? salt : HASH_LENGTH_ZEROS).update(ikm).digest(), info, length)
}

/** HKDF-Expand (RFC 5869, section 2.3) with SHA-256: `length` bytes from a pseudorandom key. */
export function hkdfExpand (prk: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32) throw new RangeError('HKDF-SHA-256 output is 0 to 8160 bytes')
  const out = new Uint8Array(length)
  let block: Uint8Array = new Uint8Array(0)
  for (let i = 1, at = 0; at < length; i++, at += 32) {
    block = createHmac('sha256', prk).update(block).update(info).update(Uint8Array.of(i)).digest()
    out.set(block.subarray(0, Math.min(32, length - at)), at)
  }
  return out
}

/** RFC 5869: an absent salt is HashLen zero bytes. */
const HASH_LENGTH_ZEROS = new Uint8Array(32)

/**
 * Ed25519 signature (RFC 8032) with a raw 32-byte private key (the seed), for protocols that
 * hold keys as bytes (MLS). The key object is kept, as a device signs with one key.
 */
export function ed25519SignRaw (seed: Uint8Array, data: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new TypeError('an Ed25519 private key is 32 bytes')
  return new Uint8Array(sign(null, data, cached(ed25519PrivateKeys, seed, () => createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }))))
}

/** Check an Ed25519 signature against a raw 32-byte public key; false for any malformed input. */
export function ed25519VerifyRaw (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32) return false
  try {
    // JWK, not DER: importing a public key from DER costs ten times as much here.
    return verify(null, data, cached(ed25519PublicKeys, publicKey, () => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' })), signature)
  } catch {
    return false
  }
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const ed25519PrivateKeys = new Map<string, KeyObject>()
const ed25519PublicKeys = new Map<string, KeyObject>()

/** HMAC-SHA-256. */
export function hmacSha256 (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/**
 * AES-256 applied to each 16-byte block of `blocks` (ECB): a pseudorandom permutation, for
 * deriving many short unlinkable values (the session-seal tags) in one call. Never use it to
 * encrypt data: equal blocks give equal outputs.
 */
export function aes256Blocks (key: Uint8Array, blocks: Uint8Array): Uint8Array {
  if (blocks.length % 16 !== 0) throw new RangeError('AES blocks are 16 bytes')
  const cipher = createCipheriv('aes-256-ecb', key, null)
  cipher.setAutoPadding(false)
  return new Uint8Array(Buffer.concat([cipher.update(blocks), cipher.final()]))
}

/**
 * AES-256-GCM: ciphertext || 16-byte tag, after `prefix` when one is given (written straight
 * into one array: a message's path then copies its bytes once, not three times).
 */
export function aesGcmEncrypt (key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = new Uint8Array(0), prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  const body = cipher.update(plaintext)
  const rest = cipher.final()
  const out = new Uint8Array(prefix.length + body.length + rest.length + 16)
  out.set(prefix)
  out.set(body, prefix.length)
  out.set(rest, prefix.length + body.length)
  out.set(cipher.getAuthTag(), prefix.length + body.length + rest.length)
  return out
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
  const body = decipher.update(sealed.subarray(0, sealed.length - 16))
  const rest = decipher.final()
  if (rest.length === 0) return new Uint8Array(body)
  const out = new Uint8Array(body.length + rest.length)
  out.set(body)
  out.set(rest, body.length)
  return out
}

function x25519PrivateKeyObject (privateKey: Uint8Array): KeyObject {
  if (privateKey.length !== 32) throw new TypeError('an X25519 private key is 32 bytes')
  return cached(privateKeys, privateKey, () => createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' }))
}

// Raw keys through JWK: exporting DER costs about 70 µs a key here, JWK about 1 µs. Only for
// keys imported here, never for freshly generated ones (see generateRawKeyPair).
function rawPublic (key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'))
}
