import { createHash } from 'node:crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { identityFingerprint } from './identity-key.js'
import type { PublicKey } from '@libp2p/interface'

/**
 * Safety numbers, after Signal's numeric fingerprints: two people read (or scan) one number
 * over a channel they trust; if both screens show the same digits, each holds the other's
 * real identity key and no one sits in the middle.
 *
 * Each side contributes 30 digits derived from its own identity key alone:
 *   h = version | key | id;  repeated 5200 times: h = SHA-512(h | key)
 * where version is "kith/safety-number/v1", key the libp2p protobuf encoding of the identity
 * key and id the user's stable id (today the identity fingerprint, as Kith users have no id
 * but their key; it is kept so the construction holds if they ever get one). The first 30
 * bytes of h, read as six 40-bit big-endian numbers, each mod 100000, give six groups of five
 * digits. The two halves are put in sorted order, so both people see the same 60 digits.
 *
 * 30 digits are about 100 bits: to impersonate someone, an attacker must find a key whose half
 * matches theirs, a second preimage. The 5200 iterations (Signal's count, kept) make each
 * guess 5200 hashes dearer, about 12 more bits. It costs us ~20 ms per safety number with
 * node:crypto, paid only when someone opens the screen, so there was no reason to use fewer.
 */

const VERSION = new TextEncoder().encode('kith/safety-number/v1')
const ITERATIONS = 5200
const GROUPS_PER_KEY = 6
const GROUP_BYTES = 5
const GROUP_MODULUS = 100_000

/**
 * The safety number of a conversation between two users, given their identity keys: 60
 * digits in 12 groups of 5, `"12345 67890 …"`. Both people get the same string whichever of
 * them computes it; it changes when either identity key does.
 *
 * @throws {TypeError} when a key is not Ed25519
 */
export function safetyNumber (ourIdentity: PublicKey, theirIdentity: PublicKey): string {
  const halves = [digits(ourIdentity), digits(theirIdentity)].sort()
  return halves.join('').replace(/(\d{5})(?!$)/g, '$1 ')
}

/** The 30 digits one identity key contributes. */
function digits (key: PublicKey): string {
  if (key.type !== 'Ed25519') throw new TypeError('identity keys are Ed25519')
  const encoded = publicKeyToProtobuf(key)
  let hash: Buffer = Buffer.concat([VERSION, encoded, Buffer.from(identityFingerprint(key))])
  for (let i = 0; i < ITERATIONS; i++) hash = createHash('sha512').update(hash).update(encoded).digest()
  let out = ''
  for (let group = 0; group < GROUPS_PER_KEY; group++) {
    // 2^40 is 10^5 × ~1.1e7, so the remainder's bias is below one part in ten million.
    const value = hash.readUIntBE(group * GROUP_BYTES, GROUP_BYTES) % GROUP_MODULUS
    out += value.toString().padStart(5, '0')
  }
  return out
}
