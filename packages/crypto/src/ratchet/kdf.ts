import { hkdf, hmacSha256 } from '../primitives.js'
import { MESSAGE_KEYS_INFO, ROOT_KDF_INFO } from './constants.js'

/**
 * The Double Ratchet's KDF chains with libsignal's constants (rust/protocol/src/ratchet/keys.rs),
 * so that libsignal's published chain-key vectors check this code.
 */

const MESSAGE_KEY_SEED = Uint8Array.of(0x01)
const CHAIN_KEY_SEED = Uint8Array.of(0x02)

/** KDF_RK: HKDF-SHA-256(salt = root key, ikm = DH output, info = "WhisperRatchet", 64 bytes). */
export function kdfRootKey (rootKey: Uint8Array, dhOutput: Uint8Array): { rootKey: Uint8Array, chainKey: Uint8Array } {
  const out = hkdf(dhOutput, rootKey, ROOT_KDF_INFO, 64)
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) }
}

/** KDF_CK: message key seed = HMAC-SHA-256(CK, 0x01), next chain key = HMAC-SHA-256(CK, 0x02). */
export function kdfChainKey (chainKey: Uint8Array): { chainKey: Uint8Array, messageKeySeed: Uint8Array } {
  return { chainKey: hmacSha256(chainKey, CHAIN_KEY_SEED), messageKeySeed: hmacSha256(chainKey, MESSAGE_KEY_SEED) }
}

/** The keys one message key seed expands to. */
export interface MessageKeys {
  cipherKey: Uint8Array
  macKey: Uint8Array
  iv: Uint8Array
}

/**
 * HKDF-SHA-256(salt = 32 zero bytes, ikm = seed, info = "WhisperMessageKeys", 80 bytes) split
 * into cipherKey (32) || macKey (32) || iv (16), as libsignal does.
 */
export function deriveMessageKeys (messageKeySeed: Uint8Array): MessageKeys {
  const out = hkdf(messageKeySeed, ZERO_SALT, MESSAGE_KEYS_INFO, 80)
  return { cipherKey: out.slice(0, 32), macKey: out.slice(32, 64), iv: out.slice(64, 80) }
}

/**
 * The cipherKey of {@link deriveMessageKeys} alone: the same HKDF, stopped after its first block
 * (two HMACs instead of four). Kith encrypts with AES-256-GCM, which needs neither libsignal's
 * MAC key nor its CBC iv.
 */
export function deriveCipherKey (messageKeySeed: Uint8Array): Uint8Array {
  return hkdf(messageKeySeed, ZERO_SALT, MESSAGE_KEYS_INFO, 32)
}

const ZERO_SALT = new Uint8Array(32)
