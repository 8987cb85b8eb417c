import { aesGcmDecrypt, aesGcmEncrypt } from '../primitives.js'
import { DecryptionFailedError } from './errors.js'
import { deriveMessageKeys } from './kdf.js'

/**
 * The AEAD under one message key: AES-256-GCM with key = cipherKey and nonce = the first 12 bytes
 * of the derived 16-byte iv. Each message key encrypts exactly one message, so a nonce derived
 * from the key is never reused under that key. GCM authenticates by itself, so macKey (libsignal's
 * HMAC key for its AES-CBC + HMAC construction) is derived, for libsignal's vectors, and unused.
 */

/** Encrypt one message under a message key seed; the result is ciphertext || 16-byte tag. */
export function sealMessage (messageKeySeed: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const { cipherKey, iv } = deriveMessageKeys(messageKeySeed)
  return aesGcmEncrypt(cipherKey, iv.subarray(0, 12), plaintext, aad)
}

/**
 * Decrypt one message under a message key seed.
 *
 * @throws DecryptionFailedError when it does not authenticate
 */
export function openMessage (messageKeySeed: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  const { cipherKey, iv } = deriveMessageKeys(messageKeySeed)
  try {
    return aesGcmDecrypt(cipherKey, iv.subarray(0, 12), ciphertext, aad)
  } catch (err) {
    throw new DecryptionFailedError('the message does not authenticate', { cause: err })
  }
}
