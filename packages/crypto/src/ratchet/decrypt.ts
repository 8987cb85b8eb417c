import { bytesEqual, concatBytes, hex, isKey32, isUint32 } from './bytes.js'
import { dhRatchet } from './dh-ratchet.js'
import { DecryptionFailedError, DuplicateMessageError } from './errors.js'
import { encodeHeader } from './header.js'
import type { RatchetHeader } from './header.js'
import { kdfChainKey } from './kdf.js'
import { openMessage } from './message-cipher.js'
import { capSkippedKeys, skipMessageKeys, skippedKeyId } from './skipped-keys.js'
import type { RatchetState } from './state.js'

/** What {@link ratchetDecrypt} returns. */
export interface RatchetDecryptResult {
  /** The session state after this message: persist it with the message, in one batch. */
  state: RatchetState
  plaintext: Uint8Array
}

/**
 * RatchetDecrypt: decrypt one message, with a skipped message key if it arrives late, after a DH
 * ratchet step if it carries a new ratchet key. Pure: `state` is not modified, so on any error
 * the caller still holds the state from before, untouched.
 *
 * @param associatedData - the same AD the sender passed to ratchetEncrypt
 * @throws DecryptionFailedError when the message does not authenticate (tampered header,
 * ciphertext or AD, or another session)
 * @throws DuplicateMessageError when this message's key was already used (a replay) or discarded
 * @throws TooManySkippedMessagesError when the header is more than MAX_SKIP messages ahead
 */
export function ratchetDecrypt (state: RatchetState, header: RatchetHeader, ciphertext: Uint8Array, associatedData: Uint8Array): RatchetDecryptResult {
  if (!isKey32(header.dh) || !isUint32(header.pn) || !isUint32(header.n)) throw new DecryptionFailedError('the header is malformed')
  if (!(ciphertext instanceof Uint8Array)) throw new DecryptionFailedError('the ciphertext is not bytes')
  const aad = concatBytes(associatedData, encodeHeader(header))

  // A late message whose key was stored when later ones arrived first.
  const id = hasAny(state.skipped) ? skippedKeyId(header.dh, header.n) : undefined
  const skippedSeed = id != null ? state.skipped[id] : undefined
  if (id != null && skippedSeed != null) {
    const plaintext = openMessage(skippedSeed, ciphertext, aad)
    const skipped = { ...state.skipped }
    delete skipped[id]
    return { state: { ...state, skipped }, plaintext }
  }

  let next = state
  if (state.dhRemote == null || !bytesEqual(header.dh, state.dhRemote)) {
    if (state.previousRemoteKeys.includes(hex(header.dh))) throw new DuplicateMessageError('this message key was already used or discarded')
    next = skipMessageKeys(next, header.pn)
    try {
      next = dhRatchet(next, header.dh)
    } catch (err) {
      throw new DecryptionFailedError('the header ratchet key is unusable', { cause: err })
    }
  } else if (header.n < state.recvCount) {
    throw new DuplicateMessageError('this message key was already used or discarded')
  }
  next = skipMessageKeys(next, header.n)
  if (next.recvChainKey == null) throw new DecryptionFailedError('no receiving chain')
  const { chainKey, messageKeySeed } = kdfChainKey(next.recvChainKey)
  const plaintext = openMessage(messageKeySeed, ciphertext, aad)
  return { state: { ...next, recvChainKey: chainKey, recvCount: next.recvCount + 1, skipped: capSkippedKeys(next.skipped) }, plaintext }
}

/** Whether a record has any key, without listing them (most states have no skipped keys). */
function hasAny (record: object): boolean {
  for (const _ in record) return true
  return false
}
