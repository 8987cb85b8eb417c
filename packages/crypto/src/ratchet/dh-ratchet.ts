import { x25519, x25519Generate } from '../primitives.js'
import { hex } from './bytes.js'
import { MAX_PREVIOUS_REMOTE_KEYS } from './constants.js'
import { kdfRootKey } from './kdf.js'
import type { RatchetState } from './state.js'

/**
 * DHRatchet: the other side has a new ratchet key. Derive the new receiving chain from it, then
 * a new key pair of ours and the new sending chain.
 *
 * @throws TypeError when `theirRatchetKey` is low-order
 */
export function dhRatchet (state: RatchetState, theirRatchetKey: Uint8Array): RatchetState {
  const previousRemoteKeys = state.dhRemote == null
    ? state.previousRemoteKeys
    : [...state.previousRemoteKeys, hex(state.dhRemote)].slice(-MAX_PREVIOUS_REMOTE_KEYS)
  const receiving = kdfRootKey(state.rootKey, x25519(state.dhSelf.privateKey, theirRatchetKey))
  const dhSelf = x25519Generate()
  const sending = kdfRootKey(receiving.rootKey, x25519(dhSelf.privateKey, theirRatchetKey))
  return {
    ...state,
    rootKey: sending.rootKey,
    dhSelf,
    dhRemote: theirRatchetKey.slice(),
    sendChainKey: sending.chainKey,
    recvChainKey: receiving.chainKey,
    sendCount: 0,
    recvCount: 0,
    previousSendCount: state.sendCount,
    previousRemoteKeys
  }
}
