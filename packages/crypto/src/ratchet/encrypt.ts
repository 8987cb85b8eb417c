import { concatBytes } from './bytes.js'
import { NoSendingChainError } from './errors.js'
import { encodeHeader } from './header.js'
import type { RatchetHeader } from './header.js'
import { kdfChainKey } from './kdf.js'
import { sealMessage } from './message-cipher.js'
import type { RatchetState } from './state.js'

/** What {@link ratchetEncrypt} returns. */
export interface RatchetEncryptResult {
  /** The session state after this message: persist it before the message leaves the device. */
  state: RatchetState
  header: RatchetHeader
  /** {@link encodeHeader} of `header`, as it was authenticated. */
  encodedHeader: Uint8Array
  /** AES-256-GCM ciphertext || tag, authenticated with AD || encodeHeader(header). */
  ciphertext: Uint8Array
}

/**
 * RatchetEncrypt: encrypt one message and step the sending chain. Pure: `state` is not modified.
 *
 * @param associatedData - AD from X3DH (both devices' identity keys), plus anything else to bind
 * @throws NoSendingChainError when the responder has not received its first message yet
 */
export function ratchetEncrypt (state: RatchetState, plaintext: Uint8Array, associatedData: Uint8Array): RatchetEncryptResult {
  if (state.sendChainKey == null) throw new NoSendingChainError('the session can send once it has received a message')
  const { chainKey, messageKeySeed } = kdfChainKey(state.sendChainKey)
  const header: RatchetHeader = { dh: state.dhSelf.publicKey.slice(), pn: state.previousSendCount, n: state.sendCount }
  const encodedHeader = encodeHeader(header)
  const ciphertext = sealMessage(messageKeySeed, plaintext, concatBytes(associatedData, encodedHeader))
  return { state: { ...state, sendChainKey: chainKey, sendCount: state.sendCount + 1 }, header, encodedHeader, ciphertext }
}
