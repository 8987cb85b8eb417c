import { aes256Blocks, aesGcmDecrypt, aesGcmEncrypt, hkdf } from '@kith/crypto'

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
 * tag (AES-256 of the counter under the
 * chain's tag key: random-looking to anyone else, and many at once cost one call) tells the recipient which session
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

/** The GCM nonce of a counter: four zero bytes, then the counter (big-endian, 8 bytes). */
function nonceOf (counter: number): Uint8Array {
  const bytes = Buffer.alloc(12)
  bytes.writeUInt32BE(Math.floor(counter / 2 ** 32), 4)
  bytes.writeUInt32BE(counter >>> 0, 8)
  return bytes
}

/** The tags of counters `from .. from + count - 1` of a chain, in one AES call. */
export function sealTags (chain: SealChain, from: number, count: number): Uint8Array[] {
  if (count <= 0) return []
  const blocks = Buffer.alloc(TAG_BYTES * count)
  for (let i = 0; i < count; i++) blocks.writeBigUInt64BE(BigInt(from + i), i * TAG_BYTES + 8)
  const out = aes256Blocks(chain.tagKey, blocks)
  return Array.from({ length: count }, (_, i) => out.subarray(i * TAG_BYTES, (i + 1) * TAG_BYTES))
}

/**
 * Tags a sender will need next, computed a batch at a time. Keyed by the tag key's array, which
 * a chain keeps as it advances ({ ...chain, next }), so no lookup hashes the key.
 */
const upcoming = new WeakMap<Uint8Array, { from: number, tags: Uint8Array[] }>()
const TAG_BATCH = 256

/** The tag that announces `counter` of a chain. */
function sealTag (chain: SealChain, counter: number): Uint8Array {
  let batch = upcoming.get(chain.tagKey)
  if (batch == null || counter < batch.from || counter >= batch.from + batch.tags.length) {
    batch = { from: counter, tags: sealTags(chain, counter, TAG_BATCH) }
    upcoming.set(chain.tagKey, batch)
  }
  return batch.tags[counter - batch.from] as Uint8Array
}

/** Seal `inner` with the chain's next counter; returns the body and the advanced chain. */
export function sessionSeal (chain: SealChain, aad: Uint8Array, inner: Uint8Array): { body: Uint8Array, chain: SealChain } {
  const body = aesGcmEncrypt(chain.key, nonceOf(chain.next), inner, aad, sealTag(chain, chain.next))
  return { body, chain: { ...chain, next: chain.next + 1 } }
}

/** The tag at the front of a session-sealed body. */
export function tagOf (body: Uint8Array): Uint8Array {
  if (body.length < TAG_BYTES + 16) throw new Error('sealed body too short')
  return body.subarray(0, TAG_BYTES)
}

/** Open a body sealed with `counter` of `chain`. @throws when anything was changed */
export function sessionUnseal (chain: SealChain, counter: number, aad: Uint8Array, body: Uint8Array): Uint8Array {
  return aesGcmDecrypt(chain.key, nonceOf(counter), body.subarray(TAG_BYTES), aad)
}
