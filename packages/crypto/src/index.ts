/**
 * @packageDocumentation
 *
 * Kith's keys and cryptography, on node:crypto primitives checked against published vectors
 * (RFC 7748, 8032, 5869, 4231, the GCM spec, libsignal's chain-key and session vectors): the
 * identity key (Ed25519) that certifies each device key, signed device lists, safety numbers,
 * X3DH and the Double Ratchet, and encryption at rest under a data key wrapped by a passphrase
 * (scrypt) or a key file.
 *
 * @example
 * ```ts
 * import { generateIdentityKey, generateDeviceKey, issueDeviceCertificate, verifyDeviceCertificate, safetyNumber } from '@kith/crypto'
 * const identity = await generateIdentityKey()
 * const device = await generateDeviceKey()
 * const certificate = issueDeviceCertificate(identity, device.publicKey)
 * const { identity: key } = verifyDeviceCertificate(certificate) // whoever holds it checks who vouches for the device
 * console.log(safetyNumber(identity.publicKey, theirIdentity)) // 60 digits both people compare
 * ```
 */
export { generateDeviceKey, saveDeviceKey, loadDeviceKey } from './device-key.js'
export { signMessage, openSignedMessage } from './signed-message.js'
export type { SignatureContext, OpenedMessage, OpenOptions } from './signed-message.js'
export { ed25519Sign, ed25519Verify } from './ed25519.js'
export { x25519Generate, generateRawKeyPair, generateEd25519Key, x25519PublicKey, x25519, x25519Ephemeral, hkdf, hkdfExpand, hmacSha256, aes256Blocks, aesGcmEncrypt, aesGcmDecrypt, ed25519SignRaw, ed25519VerifyRaw } from './primitives.js'
export type { X25519KeyPair } from './primitives.js'
export { generateDataKey, wrapWithPassphrase, wrapWithKeyFile, unwrapDataKey, sealRecord, openRecord, WrongPassphraseError, RecordTamperedError, SCRYPT_PARAMS } from './at-rest.js'
export type { WrappedDataKey } from './at-rest.js'
export { generateIdentityKey, saveIdentityKey, loadIdentityKey, identityFingerprint, shortFingerprint } from './identity-key.js'
export { issueDeviceCertificate, verifyDeviceCertificate, InvalidCertificateError } from './device-certificate.js'
export type { IssueDeviceCertificateOptions, VerifyDeviceCertificateOptions, VerifiedDeviceCertificate } from './device-certificate.js'
export { issueDeviceList, verifyDeviceList, listHasDevice, InvalidDeviceListError, StaleDeviceListError } from './device-list.js'
export type { DeviceListFields, VerifiedDeviceList, VerifyDeviceListOptions } from './device-list.js'
export { safetyNumber } from './safety-number.js'
export {
  initiate as x3dhInitiate, respond as x3dhRespond, createSignedPreKey, verifyPreKeyBundle, signedPreKeyPayload,
  initSender, initReceiver, ratchetEncrypt, ratchetDecrypt, encodeHeader, decodeHeader,
  DecryptionFailedError, DuplicateMessageError, InvalidPreKeyBundleError, NoSendingChainError, TooManySkippedMessagesError
} from './ratchet/index.js'
export type {
  PreKeyBundle, SignedPreKey, OneTimePreKey, X3dhInitiation, X3dhResponderKeys, X3dhResponse,
  RatchetState, RatchetHeader, RatchetEncryptResult, RatchetDecryptResult
} from './ratchet/index.js'
