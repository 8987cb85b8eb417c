import { aesGcmDecrypt, aesGcmEncrypt, hkdf, hmacSha256 } from '@kith/crypto'

/**
 * How many of a session's next seal counters a receiver recognises ahead of the last one seen:
 * well above the sender's window of unacked envelopes (256), since a batch of frames is opened
 * before any of them moves the window.
 */
export const TAG_WINDOW = 1024
const TAG_BYTES = 16

/** One direction of a session's sealing: its tag key, its cipher key and the next counter. */
export interface SealChain { tagKey: Uint8Array, key: Uint8Array, next: number }

/**
 * Per-session sealing keys, one per direction, from the X3DH secret. Once a session is
 * established, its envelopes are sealed with them instead of a fresh X25519 agreement each: a
 * tag (an HMAC of the counter, random-looking to anyone else) tells the recipient which session
 * and counter, and AES-256-GCM under the direction's key, with the counter as its nonce, seals
 * the content (each counter is used once per key, as in TLS). Session-opening
 * messages still use the ephemeral seal, which needs no prior state.
 */
export function sealChains (sharedSecret: Uint8Array, initiator: boolean): { sealOut: SealChain, sealIn: SealChain } {
  const chain = (info: string): SealChain => {
    const keys = hkdf(sharedSecret, new Uint8Array(32), info, 64)
    return { tagKey: keys.slice(0, 32), key: keys.slice(32), next: 0 }
  }
  const a = chain('kith/session-seal/v2/initiator')
  const b = chain('kith/session-seal/v2/responder')
  return initiator ? { sealOut: a, sealIn: b } : { sealOut: b, sealIn: a }
}

/** 12 bytes: a label byte, three zero bytes, then the counter (big-endian, 8 bytes). */
function counterBytes (label: number, counter: number): Uint8Array {
  const bytes = Buffer.alloc(12)
  bytes[0] = label
  bytes.writeBigUInt64BE(BigInt(counter), 4)
  return bytes
}

const TAG_LABEL = 1
const NONCE_LABEL = 2

/** The tag that announces `counter` of a chain. */
export function sealTag (chain: SealChain, counter: number): Uint8Array {
  return hmacSha256(chain.tagKey, counterBytes(TAG_LABEL, counter)).subarray(0, TAG_BYTES)
}

/** Seal `inner` with the chain's next counter; returns the body and the advanced chain. */
export function sessionSeal (chain: SealChain, aad: Uint8Array, inner: Uint8Array): { body: Uint8Array, chain: SealChain } {
  const sealed = aesGcmEncrypt(chain.key, counterBytes(NONCE_LABEL, chain.next), inner, aad)
  return { body: Buffer.concat([sealTag(chain, chain.next), sealed]), chain: { ...chain, next: chain.next + 1 } }
}

/** The tag at the front of a session-sealed body. */
export function tagOf (body: Uint8Array): Uint8Array {
  if (body.length < TAG_BYTES + 16) throw new Error('sealed body too short')
  return body.subarray(0, TAG_BYTES)
}

/** Open a body sealed with `counter` of `chain`. @throws when anything was changed */
export function sessionUnseal (chain: SealChain, counter: number, aad: Uint8Array, body: Uint8Array): Uint8Array {
  return aesGcmDecrypt(chain.key, counterBytes(NONCE_LABEL, counter), body.subarray(TAG_BYTES), aad)
}
