/**
 * Most message keys one received message may make the session skip in one chain (the Double
 * Ratchet spec's MAX_SKIP). A header further ahead is refused, so a forged counter can't make a
 * receiver derive millions of keys.
 */
export const MAX_SKIP = 1000

/**
 * Most skipped message keys a session holds in all. Beyond it the oldest are discarded (as
 * libsignal does), so a long-lived session with lost messages keeps working; a message whose
 * key was discarded fails with DuplicateMessageError.
 */
export const MAX_SKIPPED_KEYS = 2000

/**
 * How many earlier remote ratchet keys a session remembers, only to tell a late replay
 * (DuplicateMessageError) from a forgery (DecryptionFailedError).
 */
export const MAX_PREVIOUS_REMOTE_KEYS = 20

/** Bytes in an encoded ratchet header: dh (32) || pn (uint32 BE) || n (uint32 BE). */
export const HEADER_LENGTH = 40

/** X3DH's HKDF info string: names the application and its curve and hash, as the spec asks. */
export const X3DH_INFO = 'Kith_X3DH_X25519_SHA-256_v1'

/** What a device key signs, ahead of its signed prekey (domain separation, see prekeys.ts). */
export const SIGNED_PREKEY_CONTEXT = 'Kith X3DH signed prekey v1'

// libsignal's KDF labels, so libsignal's published chain-key vectors apply to this code.
export const ROOT_KDF_INFO = 'WhisperRatchet'
export const MESSAGE_KEYS_INFO = 'WhisperMessageKeys'
