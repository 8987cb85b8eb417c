import { x25519, x25519Generate } from '../primitives.js'
import type { X25519KeyPair } from '../primitives.js'
import { isKey32 } from './bytes.js'
import { kdfRootKey } from './kdf.js'

/**
 * One side of a Double Ratchet session (https://signal.org/docs/specifications/doubleratchet/,
 * section 3.2), as plain data: byte arrays, numbers, strings and one string-keyed record, so a
 * store can persist it with the message it belongs to in one batch.
 *
 * A state is a value: the ratchet functions return a new state and never modify the one they are
 * given (the new state may share unchanged byte arrays with the old), so callers must not modify
 * it either. It holds private keys: never log it.
 */
export interface RatchetState {
  /** Format of this object, for stored states. */
  readonly version: 1
  /** RK, the root key. */
  readonly rootKey: Uint8Array
  /** DHs, our current ratchet key pair. */
  readonly dhSelf: Readonly<X25519KeyPair>
  /** DHr, the other side's current ratchet public key; null until the responder first receives. */
  readonly dhRemote: Uint8Array | null
  /** CKs; null until the responder first receives. */
  readonly sendChainKey: Uint8Array | null
  /** CKr; null until we first receive. */
  readonly recvChainKey: Uint8Array | null
  /** Ns, messages sent in the current sending chain. */
  readonly sendCount: number
  /** Nr, messages received in the current receiving chain. */
  readonly recvCount: number
  /** PN, messages sent in the previous sending chain. */
  readonly previousSendCount: number
  /**
   * MKSKIPPED: message key seeds of messages not received yet, keyed by
   * `hex(ratchet public key) + ':' + n`, oldest first (the order the session-wide cap evicts in).
   */
  readonly skipped: Readonly<Record<string, Uint8Array>>
  /** Hex of the last few earlier DHr values, newest last, to recognise late replays. */
  readonly previousRemoteKeys: readonly string[]
}

/**
 * The initiator's state (Alice, who ran X3DH `initiate`): she can send at once.
 *
 * @param sharedSecret - SK from X3DH (32 bytes)
 * @param theirRatchetPublicKey - the responder's first ratchet public key: its signed prekey
 */
export function initSender (sharedSecret: Uint8Array, theirRatchetPublicKey: Uint8Array): RatchetState {
  if (!isKey32(sharedSecret)) throw new TypeError('the shared secret is 32 bytes')
  if (!isKey32(theirRatchetPublicKey)) throw new TypeError('a ratchet public key is 32 bytes')
  const dhSelf = x25519Generate()
  const { rootKey, chainKey } = kdfRootKey(sharedSecret, x25519(dhSelf.privateKey, theirRatchetPublicKey))
  return {
    version: 1,
    rootKey,
    dhSelf,
    dhRemote: theirRatchetPublicKey.slice(),
    sendChainKey: chainKey,
    recvChainKey: null,
    sendCount: 0,
    recvCount: 0,
    previousSendCount: 0,
    skipped: {},
    previousRemoteKeys: []
  }
}

/**
 * The responder's state (Bob, who ran X3DH `respond`): he can send once he has received.
 *
 * @param sharedSecret - SK from X3DH (32 bytes)
 * @param ourRatchetKeyPair - the key pair whose public key the initiator used: the signed prekey
 */
export function initReceiver (sharedSecret: Uint8Array, ourRatchetKeyPair: X25519KeyPair): RatchetState {
  if (!isKey32(sharedSecret)) throw new TypeError('the shared secret is 32 bytes')
  if (!isKey32(ourRatchetKeyPair.privateKey) || !isKey32(ourRatchetKeyPair.publicKey)) throw new TypeError('a ratchet key is 32 bytes')
  return {
    version: 1,
    rootKey: sharedSecret.slice(),
    dhSelf: { privateKey: ourRatchetKeyPair.privateKey.slice(), publicKey: ourRatchetKeyPair.publicKey.slice() },
    dhRemote: null,
    sendChainKey: null,
    recvChainKey: null,
    sendCount: 0,
    recvCount: 0,
    previousSendCount: 0,
    skipped: {},
    previousRemoteKeys: []
  }
}
