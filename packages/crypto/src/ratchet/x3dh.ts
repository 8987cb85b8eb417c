import type { PublicKey } from '@libp2p/interface'
import { InvalidMessageError } from '@kith/core'
import { x25519Generate } from '../primitives.js'
import type { X25519KeyPair } from '../primitives.js'
import { concatBytes, isKey32 } from './bytes.js'
import { X3DH_INFO } from './constants.js'
import { InvalidPreKeyBundleError } from './errors.js'
import { verifyPreKeyBundle } from './prekeys.js'
import type { PreKeyBundle } from './prekeys.js'
import { encodeDhPublicKey, initiatorAgreements, responderAgreements, x3dhKdf } from './x3dh-kdf.js'

/** What the initiator of an X3DH key agreement keeps and sends. */
export interface X3dhInitiation {
  /** SK: 32 bytes, the Double Ratchet's initial root key. */
  sharedSecret: Uint8Array
  /** AD = Encode(IK_A) || Encode(IK_B) (66 bytes): bind every ratchet message to both devices. */
  associatedData: Uint8Array
  /** EK_A: send it in the initial message. */
  ephemeralPublicKey: Uint8Array
  /** Which signed prekey was used: send it in the initial message. */
  signedPreKeyId: number
  /** Which one-time prekey was used, if any: send it in the initial message. */
  usedOneTimePreKeyId?: number
}

/** The responder's private keys that an initial message names. */
export interface X3dhResponderKeys {
  /** IK_B, the device's X25519 DH identity key pair. */
  identityDh: X25519KeyPair
  /** SPK_B, the signed prekey the initial message names. */
  signedPreKey: X25519KeyPair
  /** OPK_B, when the initial message names one. Delete it once used. */
  oneTimePreKey?: X25519KeyPair
}

/** What the responder of an X3DH key agreement derives. */
export interface X3dhResponse {
  sharedSecret: Uint8Array
  associatedData: Uint8Array
}

/**
 * Start an X3DH key agreement with a device from its prekey bundle (Signal X3DH spec, 3.3):
 * verify the signed prekey, then derive SK from DH1..DH3 (and DH4 with a one-time prekey) under
 * a fresh ephemeral key, which is discarded here.
 *
 * @param ourIdentityDh - our device's X25519 DH identity key pair (IK_A)
 * @param bundle - the other device's prekey bundle
 * @param theirSigningKey - the other device's Ed25519 device key, which signed the bundle
 * @throws InvalidPreKeyBundleError when the bundle is malformed, its signature does not verify
 * or one of its keys is low-order
 * @throws TypeError when our own key pair is malformed
 */
export function initiate (ourIdentityDh: X25519KeyPair, bundle: PreKeyBundle, theirSigningKey: PublicKey): X3dhInitiation {
  // Our own keys are checked apart, so a broken local key is not blamed on the bundle.
  if (!isKey32(ourIdentityDh.privateKey) || !isKey32(ourIdentityDh.publicKey)) throw new TypeError('an X25519 identity key pair is two 32-byte keys')
  verifyPreKeyBundle(bundle, theirSigningKey)
  const ephemeral = x25519Generate()
  let dhs: Uint8Array[]
  try {
    dhs = initiatorAgreements(ourIdentityDh.privateKey, ephemeral.privateKey, bundle.identityDhKey, bundle.signedPreKey.publicKey, bundle.oneTimePreKey?.publicKey)
  } catch (err) {
    throw new InvalidPreKeyBundleError('the bundle holds a low-order key', { cause: err })
  } finally {
    ephemeral.privateKey.fill(0)
  }
  const sharedSecret = x3dhKdf(dhs, X3DH_INFO, 32)
  for (const dh of dhs) dh.fill(0)
  const result: X3dhInitiation = {
    sharedSecret,
    associatedData: concatBytes(encodeDhPublicKey(ourIdentityDh.publicKey), encodeDhPublicKey(bundle.identityDhKey)),
    ephemeralPublicKey: ephemeral.publicKey,
    signedPreKeyId: bundle.signedPreKey.id
  }
  if (bundle.oneTimePreKey != null) result.usedOneTimePreKeyId = bundle.oneTimePreKey.id
  return result
}

/**
 * Complete an X3DH key agreement on the receiving device, given the private keys the initial
 * message names and the initiator's identity and ephemeral keys from it. The caller looks the
 * prekeys up by id, refuses an id it no longer has, and deletes a used one-time prekey.
 *
 * @throws InvalidMessageError when a key from the initial message is malformed or low-order
 * @throws TypeError when one of our own keys is malformed
 */
export function respond (ours: X3dhResponderKeys, theirIdentityDhKey: Uint8Array, theirEphemeralKey: Uint8Array): X3dhResponse {
  const privates = [ours.identityDh.privateKey, ours.signedPreKey.privateKey, ...(ours.oneTimePreKey == null ? [] : [ours.oneTimePreKey.privateKey])]
  if (!privates.every(isKey32) || !isKey32(ours.identityDh.publicKey)) throw new TypeError('X25519 keys are 32 bytes')
  if (!isKey32(theirIdentityDhKey) || !isKey32(theirEphemeralKey)) throw new InvalidMessageError('an X3DH public key is not 32 bytes')
  let dhs: Uint8Array[]
  try {
    dhs = responderAgreements(ours.identityDh.privateKey, ours.signedPreKey.privateKey, theirIdentityDhKey, theirEphemeralKey, ours.oneTimePreKey?.privateKey)
  } catch (err) {
    throw new InvalidMessageError('the initial message holds a low-order key', { cause: err })
  }
  const sharedSecret = x3dhKdf(dhs, X3DH_INFO, 32)
  for (const dh of dhs) dh.fill(0)
  return {
    sharedSecret,
    associatedData: concatBytes(encodeDhPublicKey(theirIdentityDhKey), encodeDhPublicKey(ours.identityDh.publicKey))
  }
}
