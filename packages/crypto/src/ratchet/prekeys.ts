import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { ed25519Sign, ed25519Verify } from '../ed25519.js'
import { x25519Generate } from '../primitives.js'
import type { X25519KeyPair } from '../primitives.js'
import { concatBytes, isKey32, isUint32 } from './bytes.js'
import { SIGNED_PREKEY_CONTEXT } from './constants.js'
import { InvalidPreKeyBundleError } from './errors.js'
import { encodeDhPublicKey } from './x3dh-kdf.js'

/** A medium-term X25519 prekey, signed by the device key. */
export interface SignedPreKey {
  id: number
  publicKey: Uint8Array
  signature: Uint8Array
}

/** A single-use X25519 prekey. */
export interface OneTimePreKey {
  id: number
  publicKey: Uint8Array
}

/** What a device publishes so others can start a session with it while it is offline (X3DH). */
export interface PreKeyBundle {
  /** The device's X25519 DH identity key (IK_B). */
  identityDhKey: Uint8Array
  signedPreKey: SignedPreKey
  oneTimePreKey?: OneTimePreKey
}

/**
 * The bytes a device key signs for a signed prekey: a context string, then Encode(IK_B), the
 * prekey id (uint32 BE) and Encode(SPK_B). Signing the DH identity key too binds it to the device
 * key, so nobody can pair a genuine signed prekey with an identity key of their own.
 */
export function signedPreKeyPayload (identityDhKey: Uint8Array, id: number, publicKey: Uint8Array): Uint8Array {
  const idBytes = new Uint8Array(4)
  new DataView(idBytes.buffer).setUint32(0, id)
  return concatBytes(new TextEncoder().encode(SIGNED_PREKEY_CONTEXT), encodeDhPublicKey(identityDhKey), idBytes, encodeDhPublicKey(publicKey))
}

/**
 * A fresh signed prekey for a device: keep `keyPair` (private) and publish `signedPreKey`.
 *
 * @param deviceKey - the device's Ed25519 key, which signs the prekey
 * @param identityDhKey - the device's X25519 DH identity public key
 * @param id - the prekey's id (uint32), so a session initiator can say which one it used
 */
export function createSignedPreKey (deviceKey: PrivateKey, identityDhKey: Uint8Array, id: number): { keyPair: X25519KeyPair, signedPreKey: SignedPreKey } {
  if (!isKey32(identityDhKey)) throw new TypeError('an X25519 identity key is 32 bytes')
  if (!isUint32(id)) throw new TypeError('a prekey id is a uint32')
  const keyPair = x25519Generate()
  const signature = ed25519Sign(deviceKey, signedPreKeyPayload(identityDhKey, id, keyPair.publicKey))
  return { keyPair, signedPreKey: { id, publicKey: keyPair.publicKey, signature } }
}

/**
 * Check a prekey bundle's shape and its signed prekey's signature by `signingKey` (the device
 * key the bundle claims to come from).
 *
 * @throws InvalidPreKeyBundleError when anything is wrong
 */
export function verifyPreKeyBundle (bundle: PreKeyBundle, signingKey: PublicKey): void {
  const { identityDhKey, signedPreKey, oneTimePreKey } = bundle
  if (!isKey32(identityDhKey)) throw new InvalidPreKeyBundleError('the identity key is not 32 bytes')
  if (!isUint32(signedPreKey?.id) || !isKey32(signedPreKey.publicKey) || !(signedPreKey.signature instanceof Uint8Array) || signedPreKey.signature.length !== 64) {
    throw new InvalidPreKeyBundleError('the signed prekey is malformed')
  }
  if (oneTimePreKey != null && (!isUint32(oneTimePreKey.id) || !isKey32(oneTimePreKey.publicKey))) {
    throw new InvalidPreKeyBundleError('the one-time prekey is malformed')
  }
  let valid: boolean
  try {
    valid = ed25519Verify(signingKey, signedPreKeyPayload(identityDhKey, signedPreKey.id, signedPreKey.publicKey), signedPreKey.signature)
  } catch (err) {
    throw new InvalidPreKeyBundleError('the signing key is unusable', { cause: err })
  }
  if (!valid) throw new InvalidPreKeyBundleError('the signed prekey signature does not verify')
}
