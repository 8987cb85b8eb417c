import { aesGcmDecrypt, aesGcmEncrypt } from '../primitives.js'
import { DecryptionFailedError } from './errors.js'
import { deriveCipherKey } from './kdf.js'

/**
 * The AEAD under one message key: AES-256-GCM with key = libsignal's cipherKey and an all-zero
 * nonce. Each message key encrypts exactly one message, so the nonce never repeats under a key;
 * GCM authenticates by itself, so libsignal's macKey and iv (for its AES-CBC + HMAC) are not
 * derived at all.
 */
const NONCE = new Uint8Array(12)

/** Encrypt one message under a message key seed; the result is ciphertext || 16-byte tag. */
export function sealMessage (messageKeySeed: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return aesGcmEncrypt(deriveCipherKey(messageKeySeed), NONCE, plaintext, aad)
}

/**
 * Decrypt one message under a message key seed.
 *
 * @throws DecryptionFailedError when it does not authenticate
 */
export function openMessage (messageKeySeed: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipherKey = deriveCipherKey(messageKeySeed)
  try {
    return aesGcmDecrypt(cipherKey, NONCE, ciphertext, aad)
  } catch (err) {
    throw new DecryptionFailedError('the message does not authenticate', { cause: err })
  }
}
