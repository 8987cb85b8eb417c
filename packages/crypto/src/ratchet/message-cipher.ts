import { random } from '@kith/core'
import { aesGcmDecrypt, aesGcmEncrypt } from '../primitives.js'
import { DecryptionFailedError } from './errors.js'
import { deriveCipherKey } from './kdf.js'

/** Bytes of the random nonce in front of every ratchet ciphertext. */
export const NONCE_BYTES = 12

/**
 * The AEAD under one message key: AES-256-GCM with key = libsignal's cipherKey and a fresh
 * random 96-bit nonce carried in front of the ciphertext. A message key should encrypt one
 * message only, but a device restored from an older copy of its home (a backup, a VM
 * snapshot) steps the same chain again and derives the same keys for new plaintexts: with a
 * random nonce those never share a (key, nonce) pair, which is what GCM's secrecy and
 * integrity rest on (MLS's reuse guard does the same with four random bytes). GCM
 * authenticates by itself, so libsignal's macKey and iv (for its AES-CBC + HMAC) are not
 * derived at all.
 */
export function sealMessage (messageKeySeed: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = random(NONCE_BYTES)
  return aesGcmEncrypt(deriveCipherKey(messageKeySeed), nonce, plaintext, aad, nonce)
}

/**
 * Decrypt one message (nonce || ciphertext || tag) under a message key seed.
 *
 * @throws DecryptionFailedError when it does not authenticate
 */
export function openMessage (messageKeySeed: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (ciphertext.length < NONCE_BYTES + 16) throw new DecryptionFailedError('the message is too short')
  const cipherKey = deriveCipherKey(messageKeySeed)
  try {
    return aesGcmDecrypt(cipherKey, ciphertext.subarray(0, NONCE_BYTES), ciphertext.subarray(NONCE_BYTES), aad)
  } catch (err) {
    throw new DecryptionFailedError('the message does not authenticate', { cause: err })
  }
}
