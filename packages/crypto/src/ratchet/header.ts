import { InvalidMessageError } from '@kith/core'
import { isKey32, isUint32 } from './bytes.js'
import { HEADER_LENGTH } from './constants.js'

/** A Double Ratchet message header. */
export interface RatchetHeader {
  /** The sender's current ratchet public key (32 bytes). */
  dh: Uint8Array
  /** How many messages the sender sent in its previous sending chain. */
  pn: number
  /** This message's number in the sender's current sending chain. */
  n: number
}

/**
 * A header as fixed-length bytes: dh (32) || pn (uint32 BE) || n (uint32 BE). These bytes are
 * also authenticated as part of the message's associated data.
 */
export function encodeHeader (header: RatchetHeader): Uint8Array {
  if (!isKey32(header.dh)) throw new TypeError('a header ratchet key is 32 bytes')
  if (!isUint32(header.pn) || !isUint32(header.n)) throw new TypeError('header counters are uint32')
  const bytes = new Uint8Array(HEADER_LENGTH)
  bytes.set(header.dh, 0)
  const view = new DataView(bytes.buffer)
  view.setUint32(32, header.pn)
  view.setUint32(36, header.n)
  return bytes
}

/**
 * Parse a header written by {@link encodeHeader}; the length is checked before anything is read.
 *
 * @throws InvalidMessageError when `bytes` is not exactly HEADER_LENGTH bytes
 */
export function decodeHeader (bytes: Uint8Array): RatchetHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_LENGTH) throw new InvalidMessageError(`a ratchet header is ${HEADER_LENGTH} bytes`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { dh: bytes.slice(0, 32), pn: view.getUint32(32), n: view.getUint32(36) }
}
