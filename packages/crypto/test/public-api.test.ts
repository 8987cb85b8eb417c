import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts (types are not runtime exports): a change to the public API
// must change this list too.
const CRYPTO_API = ['generateDeviceKey', 'saveDeviceKey', 'loadDeviceKey', 'signMessage', 'openSignedMessage', 'ed25519Sign', 'ed25519Verify',
  'x25519Generate', 'generateRawKeyPair', 'generateEd25519Key', 'x25519PublicKey', 'x25519', 'x25519Ephemeral', 'hkdf', 'hkdfExpand', 'hmacSha256', 'aes256Blocks', 'aesGcmEncrypt', 'aesGcmDecrypt', 'ed25519SignRaw', 'ed25519VerifyRaw',
  'generateDataKey', 'wrapWithPassphrase', 'wrapWithKeyFile', 'unwrapDataKey', 'sealRecord', 'openRecord', 'WrongPassphraseError', 'RecordTamperedError', 'SCRYPT_PARAMS',
  'generateIdentityKey', 'saveIdentityKey', 'loadIdentityKey', 'identityFingerprint', 'shortFingerprint',
  'issueDeviceCertificate', 'verifyDeviceCertificate', 'InvalidCertificateError', 'safetyNumber',
  'issueDeviceList', 'verifyDeviceList', 'listHasDevice', 'InvalidDeviceListError', 'StaleDeviceListError',
  'x3dhInitiate', 'x3dhRespond', 'createSignedPreKey', 'verifyPreKeyBundle', 'signedPreKeyPayload',
  'initSender', 'initReceiver', 'ratchetEncrypt', 'ratchetDecrypt', 'encodeHeader', 'decodeHeader',
  'DecryptionFailedError', 'DuplicateMessageError', 'InvalidPreKeyBundleError', 'NoSendingChainError', 'TooManySkippedMessagesError']

describe('@kith/crypto public API', () => {
  it('exports exactly the known names, all functions', async () => {
    const mod = await import('@kith/crypto') as Record<string, unknown>
    expect(Object.keys(mod).sort()).toEqual([...CRYPTO_API].sort())
    for (const name of CRYPTO_API.filter(n => n !== 'SCRYPT_PARAMS')) expect(typeof mod[name], name).toBe('function')
  })
})
