import { createHash } from 'node:crypto'
import { FINGERPRINT_BYTES } from './constants.js'
import type { SyncItem } from './item.js'

/**
 * Range fingerprints. Each item hashes to h = SHA-256(ts as 8 bytes big-endian || id); a range's
 * sum is the sum of its h read as 256-bit little-endian integers, modulo 2^256. Addition
 * commutes, so sums can be kept as prefix sums and any range's sum is one subtraction; the
 * fingerprint hashes the sum with the item count, so a forged range needs a SHA-256 collision.
 */

/** Bytes of one 256-bit sum. */
export const SUM_BYTES = 32

const WORDS = SUM_BYTES / 4
const TWO_32 = 2 ** 32

/** h of one item. */
export function itemHash (item: SyncItem): Buffer {
  const ts = Buffer.allocUnsafe(8)
  ts.writeUInt32BE(Math.floor(item.ts / TWO_32), 0)
  ts.writeUInt32BE(item.ts % TWO_32, 4)
  return createHash('sha256').update(ts).update(item.id).digest()
}

/** out[outOffset..] = a[aOffset..] + b (all 32-byte little-endian), modulo 2^256. */
export function addSum (out: Buffer, outOffset: number, a: Buffer, aOffset: number, b: Buffer): void {
  let carry = 0
  for (let w = 0; w < WORDS; w++) {
    const s = a.readUInt32LE(aOffset + 4 * w) + b.readUInt32LE(4 * w) + carry
    carry = s >= TWO_32 ? 1 : 0
    out.writeUInt32LE(s - carry * TWO_32, outOffset + 4 * w)
  }
}

/** a[aOffset..] - b[bOffset..] (32-byte little-endian), modulo 2^256, as a new buffer. */
export function subtractSum (a: Buffer, aOffset: number, b: Buffer, bOffset: number): Buffer {
  const out = Buffer.allocUnsafe(SUM_BYTES)
  let borrow = 0
  for (let w = 0; w < WORDS; w++) {
    const d = a.readUInt32LE(aOffset + 4 * w) - b.readUInt32LE(bOffset + 4 * w) - borrow
    borrow = d < 0 ? 1 : 0
    out.writeUInt32LE(d + borrow * TWO_32, 4 * w)
  }
  return out
}

/** The fingerprint of a range with this sum and item count. */
export function fingerprintOfSum (sum: Buffer, count: number): Uint8Array {
  const n = Buffer.allocUnsafe(8)
  n.writeUInt32BE(Math.floor(count / TWO_32), 0)
  n.writeUInt32BE(count % TWO_32, 4)
  const digest = createHash('sha256').update(sum).update(n).digest()
  return new Uint8Array(digest.subarray(0, FINGERPRINT_BYTES))
}
