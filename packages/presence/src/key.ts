import { identityFingerprint } from '@kith/crypto'
import { PRESENCE_NAMESPACE } from './constants.js'
import type { PublicKey } from '@libp2p/interface'

/**
 * DHT keys of presence records: the bytes of `/kith-presence/` followed by the 32 raw bytes of
 * SHA-256 over the identity key's libp2p protobuf encoding (the bytes its fingerprint is the
 * hex of), 47 bytes in all.
 *
 * kad-dht picks a record's validator and selector by decoding the whole key as UTF-8 and
 * taking what lies between the first and the second `/`, so the namespace must open the key,
 * between slashes, and the rest may be any bytes (IPNS keys, `/ipns/` + a binary multihash,
 * do the same): whatever the hash holds, even a `/` or bytes that are not UTF-8, the namespace
 * reads `kith-presence`. Raw bytes rather than text keep the key short; the DHT routes on
 * SHA-256 of the whole key either way.
 */

const PREFIX = new TextEncoder().encode(`/${PRESENCE_NAMESPACE}/`)
const HASH_BYTES = 32

/** Length of a presence key, in bytes. */
export const PRESENCE_KEY_BYTES = PREFIX.byteLength + HASH_BYTES

/** The DHT key under which `identity`'s presence record is stored. */
export function presenceKey (identity: PublicKey): Uint8Array {
  return new Uint8Array(Buffer.concat([PREFIX, Buffer.from(identityFingerprint(identity), 'hex')]))
}

/** The fingerprint of the identity whose presence `key` is, or undefined when it is not a presence key. */
export function presenceKeyFingerprint (key: Uint8Array): string | undefined {
  if (key.byteLength !== PRESENCE_KEY_BYTES || !Buffer.from(key.subarray(0, PREFIX.byteLength)).equals(PREFIX)) return undefined
  return Buffer.from(key.subarray(PREFIX.byteLength)).toString('hex')
}
