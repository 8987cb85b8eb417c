import { aesGcmDecrypt, aesGcmEncrypt, hkdf, x25519, x25519Ephemeral } from '@kith/crypto'

const INFO = 'kith/sealed-sender/v1'
const NONCE = new Uint8Array(12) // every seal has a fresh key, so a fixed nonce never repeats under one

/**
 * The outer layer of a sealed envelope: an ephemeral X25519 key agreed with the recipient
 * device's identity key, so only that device learns who sent the message (Signal's "sealed
 * sender"). `aad` binds the envelope's visible fields (id, recipient, time).
 */
export function seal (recipientDhKey: Uint8Array, aad: Uint8Array, inner: Uint8Array): Uint8Array {
  const ephemeral = x25519Ephemeral(recipientDhKey)
  const key = hkdf(ephemeral.shared, Buffer.concat([ephemeral.publicKey, recipientDhKey]), INFO, 32)
  return Buffer.concat([ephemeral.publicKey, aesGcmEncrypt(key, NONCE, inner, aad)])
}

/**
 * Open a seal made for our identity DH key.
 *
 * @throws when it was not made for us, or anything was changed
 */
export function unseal (ourDh: { privateKey: Uint8Array, publicKey: Uint8Array }, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  if (sealed.length < 32 + 16) throw new Error('sealed body too short')
  const ephemeral = sealed.subarray(0, 32)
  const key = hkdf(x25519(ourDh.privateKey, ephemeral), Buffer.concat([ephemeral, ourDh.publicKey]), INFO, 32)
  return aesGcmDecrypt(key, NONCE, sealed.subarray(32), aad)
}
