/**
 * @packageDocumentation
 *
 * Keys and signatures. Today: the device key (Ed25519, the device's libp2p identity) and signed
 * direct messages. The identity key, X3DH + Double Ratchet and at-rest encryption arrive here
 * with end-to-end encryption.
 *
 * @example
 * ```ts
 * import { generateDeviceKey, signMessage, openSignedMessage } from '@kith/crypto'
 * const key = await generateDeviceKey()
 * const body = await signMessage(key, { id, recipient, timestamp }, { kind: MessageKind.TEXT, text: 'hi', name: '', inviteToken: new Uint8Array(), addrs: [] })
 * const { sender, message } = await openSignedMessage(body, { id, recipient, timestamp })
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
