/**
 * End-to-end encryption for 1:1 sessions between two devices: X3DH to agree a secret from a
 * prekey bundle, then the Double Ratchet for every message. Pure functions over plain data; no
 * I/O. Persist each new ratchet state together with the message it belongs to.
 *
 * @example
 * ```ts
 * // Bob's device publishes a bundle
 * const spk = createSignedPreKey(bobDeviceKey, bobIdentityDh.publicKey, 1)
 * const bundle = { identityDhKey: bobIdentityDh.publicKey, signedPreKey: spk.signedPreKey }
 * // Alice's device starts a session and sends
 * const x = initiate(aliceIdentityDh, bundle, bobDeviceKey.publicKey)
 * let alice = initSender(x.sharedSecret, bundle.signedPreKey.publicKey)
 * const sent = ratchetEncrypt(alice, plaintext, x.associatedData)
 * alice = sent.state
 * // Bob's device answers the initial message (x.ephemeralPublicKey, Alice's identity key)
 * const r = respond({ identityDh: bobIdentityDh, signedPreKey: spk.keyPair }, aliceIdentityDh.publicKey, x.ephemeralPublicKey)
 * const got = ratchetDecrypt(initReceiver(r.sharedSecret, spk.keyPair), sent.header, sent.ciphertext, r.associatedData)
 * ```
 */
export { initiate, respond } from './x3dh.js'
export type { X3dhInitiation, X3dhResponderKeys, X3dhResponse } from './x3dh.js'
export { createSignedPreKey, verifyPreKeyBundle, signedPreKeyPayload } from './prekeys.js'
export type { PreKeyBundle, SignedPreKey, OneTimePreKey } from './prekeys.js'
export { initSender, initReceiver } from './state.js'
export type { RatchetState } from './state.js'
export { ratchetEncrypt } from './encrypt.js'
export type { RatchetEncryptResult } from './encrypt.js'
export { ratchetDecrypt } from './decrypt.js'
export type { RatchetDecryptResult } from './decrypt.js'
export { encodeHeader, decodeHeader } from './header.js'
export type { RatchetHeader } from './header.js'
export { DecryptionFailedError, DuplicateMessageError, InvalidPreKeyBundleError, NoSendingChainError, TooManySkippedMessagesError } from './errors.js'
export { MAX_SKIP, MAX_SKIPPED_KEYS, HEADER_LENGTH } from './constants.js'
