import { hex } from './bytes.js'
import { MAX_SKIP, MAX_SKIPPED_KEYS } from './constants.js'
import { TooManySkippedMessagesError } from './errors.js'
import { kdfChainKey } from './kdf.js'
import type { RatchetState } from './state.js'

/** The key of a skipped message key in RatchetState.skipped. */
export function skippedKeyId (dh: Uint8Array, n: number): string {
  return `${hex(dh)}:${n}`
}

/**
 * SkipMessageKeys: store the keys of messages `recvCount .. until - 1` of the current receiving
 * chain, which have not arrived yet (they may, out of order).
 *
 * @throws TooManySkippedMessagesError when that is more than MAX_SKIP keys
 */
export function skipMessageKeys (state: RatchetState, until: number): RatchetState {
  if (until - state.recvCount > MAX_SKIP) throw new TooManySkippedMessagesError(`a message would skip more than ${MAX_SKIP} messages`)
  if (state.recvChainKey == null || state.dhRemote == null || until <= state.recvCount) return state
  const skipped = { ...state.skipped }
  let chainKey = state.recvChainKey
  for (let n = state.recvCount; n < until; n++) {
    const next = kdfChainKey(chainKey)
    skipped[skippedKeyId(state.dhRemote, n)] = next.messageKeySeed
    chainKey = next.chainKey
  }
  return { ...state, recvChainKey: chainKey, recvCount: until, skipped }
}

/** The skipped keys without the oldest ones beyond MAX_SKIPPED_KEYS (insertion order is age). */
export function capSkippedKeys (skipped: Readonly<Record<string, Uint8Array>>): Readonly<Record<string, Uint8Array>> {
  const ids = Object.keys(skipped)
  if (ids.length <= MAX_SKIPPED_KEYS) return skipped
  return Object.fromEntries(ids.slice(ids.length - MAX_SKIPPED_KEYS).map(id => [id, skipped[id] as Uint8Array]))
}
