import { aesGcmDecrypt, aesGcmEncrypt, hkdf, x25519, x25519Ephemeral } from '@kith/crypto'

const INFO = 'kith/sealed-sender/v1'
const NONCE = new Uint8Array(12) // every seal has a fresh key, so a fixed nonce never repeats under one
const PAD_TO = 256

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

/** Protobuf key of SealedContent's last field, `bytes padding = 7` (field 7, length-delimited). */
const PADDING_FIELD_KEY = (7 << 3) | 2

/**
 * An encoded SealedContent (without padding) with its padding field appended, so the whole is
 * a multiple of 256 bytes: the bytes protons gives for the same content with that padding
 * (padding is the last field it writes), without encoding the content twice.
 */
export function padded (encoded: Uint8Array): Uint8Array {
  const padding = paddingFor(encoded.length).length
  if (padding === 0) return encoded
  const lengthBytes = padding < 128 ? [padding] : [(padding & 0x7f) | 0x80, padding >> 7]
  const out = new Uint8Array(encoded.length + 1 + lengthBytes.length + padding)
  out.set(encoded)
  out.set([PADDING_FIELD_KEY, ...lengthBytes], encoded.length)
  return out
}

/**
 * The padding that, added as one more length-delimited protobuf field to an encoding of
 * `length` bytes, brings it to a multiple of 256 bytes, so sizes say little. The field costs a
 * tag byte and one or two length bytes besides the padding itself.
 */
export function paddingFor (length: number): Uint8Array {
  const fieldBytes = (p: number): number => p === 0 ? 0 : 1 + (p < 128 ? 1 : 2) + p
  for (let target = Math.ceil(length / PAD_TO) * PAD_TO; ; target += PAD_TO) {
    const room = target - length
    // Some sizes can't be hit exactly (one byte, or the step from one length byte to two).
    for (const p of [room - 2, room - 3, room]) {
      if (p >= 0 && fieldBytes(p) === room) return new Uint8Array(p)
    }
  }
}
