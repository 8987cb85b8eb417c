import { random } from '@kith/core'
import { aes256Blocks, aesGcmDecrypt, aesGcmEncrypt, hkdf } from '@kith/crypto'

/**
 * How many of a session's next seal counters a receiver recognises ahead of the last one seen:
 * well above the sender's window of unacked envelopes (256), since a batch of frames is opened
 * before any of them moves the window.
 */
export const TAG_WINDOW = 1024
const TAG_BYTES = 16
const NONCE_BYTES = 12
/**
 * Counters below the highest one seen that have not arrived yet, kept recognisable so envelopes
 * that arrive out of order (two mailboxes drained one after the other) still open; capped like
 * the ratchet's skipped keys, the oldest forgotten first.
 */
export const MAX_MISSED = 512

/**
 * One direction of a session's sealing: its tag key, its cipher key, the next counter, and (on
 * the receiving side) counters below `next` not seen yet.
 */
export interface SealChain { tagKey: Uint8Array, key: Uint8Array, next: number, missed?: number[] }

/**
 * Per-session sealing keys, one per direction, from the X3DH secret. Once a session is
 * established, its envelopes are sealed with them instead of a fresh X25519 agreement each: a
 * tag (AES-256 of the counter under the chain's tag key: random-looking to anyone else, and many
 * at once cost one call) tells the recipient which session and counter, and AES-256-GCM under
 * the direction's key seals the content. The GCM nonce is random and travels after the tag: a
 * device restored from an older copy of its home counts the same counters again, and a counter
 * nonce would then encrypt new plaintexts under a (key, nonce) pair already used. Session-opening
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

/**
 * Seal `inner` with the chain's next counter: tag || nonce || AES-256-GCM(inner). Returns the
 * body and the advanced chain.
 */
export function sessionSeal (chain: SealChain, aad: Uint8Array, inner: Uint8Array): { body: Uint8Array, chain: SealChain } {
  const prefix = new Uint8Array(TAG_BYTES + NONCE_BYTES)
  prefix.set(sealTag(chain, chain.next))
  const nonce = random(NONCE_BYTES)
  prefix.set(nonce, TAG_BYTES)
  const body = aesGcmEncrypt(chain.key, nonce, inner, aad, prefix)
  return { body, chain: { ...chain, next: chain.next + 1 } }
}

/** The tag at the front of a session-sealed body. */
export function tagOf (body: Uint8Array): Uint8Array {
  if (body.length < TAG_BYTES + NONCE_BYTES + 16) throw new Error('sealed body too short')
  return body.subarray(0, TAG_BYTES)
}

/** Open a body sealed with `chain` (its tag named the counter). @throws when anything was changed */
export function sessionUnseal (chain: SealChain, aad: Uint8Array, body: Uint8Array): Uint8Array {
  return aesGcmDecrypt(chain.key, body.subarray(TAG_BYTES, TAG_BYTES + NONCE_BYTES), body.subarray(TAG_BYTES + NONCE_BYTES), aad)
}

/**
 * The receiving chain once `counter` has arrived: `next` moves past it, counters it skipped are
 * remembered as missed (at most {@link MAX_MISSED}, the oldest dropped), and an earlier missed
 * counter is no longer expected.
 */
export function received (chain: SealChain, counter: number): SealChain {
  const missed = chain.missed ?? []
  if (counter < chain.next) return { ...chain, missed: missed.filter(c => c !== counter) }
  const skipped: number[] = []
  for (let c = Math.max(chain.next, counter - MAX_MISSED); c < counter; c++) skipped.push(c)
  const all = skipped.length === 0 ? missed : [...missed, ...skipped]
  return { ...chain, next: counter + 1, missed: all.length > MAX_MISSED ? all.slice(-MAX_MISSED) : all }
}
