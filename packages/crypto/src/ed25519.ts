import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

// @libp2p/crypto rebuilds a node:crypto KeyObject from JWK on every sign and verify, which
// costs as much as the signature itself. Kith signs and verifies once per message, so it
// keeps one KeyObject per key.
const privateKeys = new WeakMap<PrivateKey, KeyObject>()
const publicKeys = new WeakMap<PublicKey, KeyObject>()
const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

function privateKeyObject (key: PrivateKey): KeyObject {
  let object = privateKeys.get(key)
  if (object == null) {
    if (key.type !== 'Ed25519') throw new TypeError('device keys are Ed25519')
    // An Ed25519 private key's raw form is seed (32 bytes) || public key (32 bytes).
    object = createPrivateKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', d: b64url(key.raw.subarray(0, 32)), x: b64url(key.publicKey.raw) } })
    privateKeys.set(key, object)
  }
  return object
}

function publicKeyObject (key: PublicKey): KeyObject {
  let object = publicKeys.get(key)
  if (object == null) {
    if (key.type !== 'Ed25519') throw new TypeError('device keys are Ed25519')
    object = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key.raw) } })
    publicKeys.set(key, object)
  }
  return object
}

/** Ed25519 signature of `data` (RFC 8032), with node:crypto. */
export function ed25519Sign (key: PrivateKey, data: Uint8Array): Uint8Array {
  return sign(null, data, privateKeyObject(key))
}

/** Check an Ed25519 signature (RFC 8032), with node:crypto. */
export function ed25519Verify (key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  return verify(null, data, publicKeyObject(key), signature)
}
