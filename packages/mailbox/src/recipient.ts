import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'

/** Peer id types whose string form is plain base58btc (no characters our keys use as separators). */
const KEY_TYPES = new Set(['Ed25519', 'secp256k1', 'RSA'])

/** A varint at `pos`: [value, next position], or undefined when cut short or longer than 4 bytes. */
function varint (bytes: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0
  for (let i = 0; i < 4; i++) {
    const byte = bytes[pos + i]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return [value, pos + i + 1]
  }
  return undefined
}

function accept (peer: PeerId, bytes?: Uint8Array): string | undefined {
  if (!KEY_TYPES.has(peer.type)) return undefined
  if (bytes !== undefined && !Buffer.from(peer.toMultihash().bytes).equals(bytes)) return undefined
  return peer.toString()
}

/**
 * The peer id string of a recipient given as multihash bytes (an Envelope's `recipient`), or
 * undefined unless the bytes are exactly the multihash of a key-based peer id.
 */
export function recipientOf (input: Uint8Array): string | undefined {
  const bytes = new Uint8Array(input)
  const code = varint(bytes, 0)
  if (code === undefined) return undefined
  const size = varint(bytes, code[1])
  if (size === undefined || size[1] + size[0] !== bytes.length) return undefined
  const digest = bytes.subarray(size[1])
  try {
    return accept(peerIdFromMultihash({ code: code[0], size: size[0], digest, bytes }), bytes)
  } catch {
    return undefined
  }
}

/** A peer id string as given, when it is the canonical string of a key-based peer id. */
export function isPeerIdString (peer: string): boolean {
  try {
    return accept(peerIdFromString(peer)) === peer
  } catch {
    return false
  }
}
