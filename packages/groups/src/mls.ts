import { verifyDeviceCertificate } from '@kith/crypto'
import {
  defaultCapabilities, defaultKeyPackageEqualityConfig, defaultKeyRetentionConfig, defaultLifetime, defaultLifetimeConfig,
  generateKeyPackageWithKey, getCiphersuiteFromName, getCiphersuiteImpl
} from 'ts-mls'
import { withNodeCrypto } from './node-crypto.js'
import type { AuthenticationService, Capabilities, CiphersuiteImpl, ClientConfig, Credential, KeyPackage, PrivateKeyPackage } from 'ts-mls'
import type { VerifiedDeviceCertificate } from '@kith/crypto'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Kith's MLS profile (RFC 9420 through ts-mls): one ciphersuite, credentials that are Kith
 * device certificates, and an authentication service that accepts a member only when its
 * certificate is valid and names the very key that signs its MLS messages.
 */

/** X25519, AES-128-GCM, SHA-256, Ed25519: the same primitives as Kith's 1:1 channel. */
export const CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519'

/** Private-use group context extension holding the group's name and admins (see group-meta.ts). */
export const KITH_GROUP_EXTENSION = 0xf1a0

let suite: Promise<CiphersuiteImpl> | undefined

/** The ciphersuite's implementation (ts-mls's, with node:crypto for the hot parts), made once. */
export async function cipherSuite (): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE)).then(withNodeCrypto)
  return await suite
}

/** What every Kith member supports: MLS defaults plus the Kith group extension. */
export function kithCapabilities (): Capabilities {
  const capabilities = defaultCapabilities()
  return { ...capabilities, extensions: [...capabilities.extensions, KITH_GROUP_EXTENSION] }
}

/**
 * A member's credential is its device certificate (basic credential, identity = the encoded
 * SignedDeviceCertificate); its MLS signature key is the device key itself, so the certificate
 * binds the leaf to the user's identity with nothing else to trust.
 */
export function deviceCredential (certificate: Uint8Array): Credential {
  return { credentialType: 'basic', identity: certificate }
}

/**
 * The device certificate a credential carries, checked: valid, and for the device whose key is
 * `signaturePublicKey`.
 *
 * @throws when the credential is not a valid Kith device certificate for that key
 */
export function credentialCertificate (credential: Credential, signaturePublicKey: Uint8Array): VerifiedDeviceCertificate {
  if (credential.credentialType !== 'basic') throw new TypeError('Kith members carry basic credentials')
  const certificate = verifyDeviceCertificate(credential.identity)
  const deviceKey = certificate.device.publicKey
  if (deviceKey == null || !Buffer.from(deviceKey.raw).equals(signaturePublicKey)) throw new TypeError('the certificate is for another key')
  return certificate
}

/** Checks every credential MLS introduces (adds, joins, updates) with {@link credentialCertificate}. */
export const kithAuthenticationService: AuthenticationService = {
  async validateCredential (credential, signaturePublicKey) {
    try {
      credentialCertificate(credential, signaturePublicKey)
      return true
    } catch {
      return false
    }
  }
}

/** How many past epochs' keys a member keeps to read late content (the catch-up window). */
export const KEY_RETENTION_EPOCHS = 16

/** ts-mls configuration for Kith members. */
export function kithClientConfig (): ClientConfig {
  return {
    // Content of an older epoch stays readable for KEY_RETENTION_EPOCHS epochs (late gossip);
    // what arrives later comes by history sync instead.
    // Gossip reorders: keep up to 1000 skipped message keys per sender, as the 1:1 ratchet does.
    keyRetentionConfig: { ...defaultKeyRetentionConfig, retainKeysForEpochs: KEY_RETENTION_EPOCHS, retainKeysForGenerations: 1000, maximumForwardRatchetSteps: 1000 },
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    // Kith pads application content itself (to 256-byte steps); MLS padding would add to it.
    paddingConfig: { kind: 'alwaysPad', paddingLength: 0 },
    authService: kithAuthenticationService
  }
}

/** A key package for this device: what another member needs to add it to a group. */
export async function deviceKeyPackage (deviceKey: PrivateKey, certificate: Uint8Array): Promise<{ publicPackage: KeyPackage, privatePackage: PrivateKeyPackage }> {
  if (deviceKey.type !== 'Ed25519') throw new TypeError('device keys are Ed25519')
  // libp2p keeps an Ed25519 private key as seed || public key; MLS signs with the seed.
  const signKey = deviceKey.raw.subarray(0, 32)
  const publicKey = deviceKey.publicKey.raw
  return await generateKeyPackageWithKey(deviceCredential(certificate), kithCapabilities(), defaultLifetime, [], { signKey, publicKey }, await cipherSuite())
}
