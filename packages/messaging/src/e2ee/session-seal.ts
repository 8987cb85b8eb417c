import { aesGcmDecrypt, aesGcmEncrypt, hkdf, hmacSha256 } from '@kith/crypto'

/**
 * How many of a session's next seal counters a receiver recognises ahead of the last one seen:
 * well above the sender's window of unacked envelopes (256), since a batch of frames is opened
 * before any of them moves the window.
 */
export const TAG_WINDOW = 1024
const TAG_BYTES = 16
const NONCE = new Uint8Array(12) // one key per counter: a fixed nonce never repeats under a key

/** One direction of a session's sealing: its key and the next counter. */
export interface SealChain { key: Uint8Array, next: number }

/**
 * Per-session sealing keys, one per direction, from the X3DH secret. Once a session is
 * established, its envelopes are sealed with them instead of a fresh X25519 agreement each: a
 * tag (an HMAC of the counter, random-looking to anyone else) tells the recipient which session
 * and counter, and a key derived from the same counter seals the content. Session-opening
 * messages still use the ephemeral seal, which needs no prior state.
 */
export function sealChains (sharedSecret: Uint8Array, initiator: boolean): { sealOut: SealChain, sealIn: SealChain } {
  const a = hkdf(sharedSecret, new Uint8Array(32), 'kith/session-seal/initiator', 32)
  const b = hkdf(sharedSecret, new Uint8Array(32), 'kith/session-seal/responder', 32)
  return initiator ? { sealOut: { key: a, next: 0 }, sealIn: { key: b, next: 0 } } : { sealOut: { key: b, next: 0 }, sealIn: { key: a, next: 0 } }
}

function counterBytes (label: number, counter: number): Uint8Array {
  const bytes = Buffer.alloc(9)
  bytes[0] = label
  bytes.writeBigUInt64BE(BigInt(counter), 1)
  return bytes
}

/** The tag that announces `counter` of a chain (hex, for lookups). */
export function sealTag (chain: SealChain, counter: number): Uint8Array {
  return hmacSha256(chain.key, counterBytes(1, counter)).subarray(0, TAG_BYTES)
}

/** Seal `inner` with the chain's next counter; returns the body and the advanced chain. */
export function sessionSeal (chain: SealChain, aad: Uint8Array, inner: Uint8Array): { body: Uint8Array, chain: SealChain } {
  const key = hmacSha256(chain.key, counterBytes(2, chain.next))
  return { body: Buffer.concat([sealTag(chain, chain.next), aesGcmEncrypt(key, NONCE, inner, aad)]), chain: { ...chain, next: chain.next + 1 } }
}

/** The tag at the front of a session-sealed body. */
export function tagOf (body: Uint8Array): Uint8Array {
  if (body.length < TAG_BYTES + 16) throw new Error('sealed body too short')
  return body.subarray(0, TAG_BYTES)
}

/** Open a body sealed with `counter` of `chain`. @throws when anything was changed */
export function sessionUnseal (chain: SealChain, counter: number, aad: Uint8Array, body: Uint8Array): Uint8Array {
  const key = hmacSha256(chain.key, counterBytes(2, counter))
  return aesGcmDecrypt(key, NONCE, body.subarray(TAG_BYTES), aad)
}
