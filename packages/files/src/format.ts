import { createCipheriv, createDecipheriv } from 'node:crypto'
import { FileCorruptError } from '@kith/core'
import { AAD_LABEL, CHUNK_BYTES, CHUNK_STRIDE, FILES_LIMITS, KEY_BYTES, TAG_BYTES } from './constants.js'

/** Chunks of a file of `size` plaintext bytes (0 for an empty file). */
export function chunkCount (size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('file size must be a non-negative integer')
  const n = Math.ceil(size / CHUNK_BYTES)
  if (n > FILES_LIMITS.maxChunks) throw new RangeError('file too large')
  return n
}

/** Plaintext bytes of chunk `i` of a file of `size` bytes. */
export function plainLength (i: number, size: number): number {
  return Math.min(CHUNK_BYTES, size - i * CHUNK_BYTES)
}

/** Ciphertext bytes of chunk `i` (plaintext and tag). */
export function sealedLength (i: number, size: number): number {
  return plainLength(i, size) + TAG_BYTES
}

/** Where chunk `i` starts in a `.blob` file. */
export const blobOffset = (i: number): number => i * CHUNK_STRIDE

/** Plaintext bytes of the chunks set in `have`. */
export function verifiedBytes (have: Uint8Array | undefined, size: number, complete: boolean): number {
  if (complete) return size
  if (have === undefined) return 0
  const n = chunkCount(size)
  let bytes = 0
  for (let i = 0; i < n; i++) if (hasBit(have, i)) bytes += plainLength(i, size)
  return bytes
}

export function nonce (i: number): Buffer {
  const iv = Buffer.alloc(12)
  iv.writeBigUInt64BE(BigInt(i), 4)
  return iv
}

export function aad (i: number, n: number): Buffer {
  const label = Buffer.from(AAD_LABEL, 'ascii')
  const out = Buffer.alloc(label.length + 16)
  label.copy(out)
  out.writeBigUInt64BE(BigInt(i), label.length)
  out.writeBigUInt64BE(BigInt(n), label.length + 8)
  return out
}

function checkKey (key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new RangeError('a file key is 32 bytes')
}

/**
 * Cipher output comes in pieces of this size. Whole-chunk calls would allocate a fresh 1 MiB
 * buffer per chunk; glibc then serves such buffers from its heap (its mmap threshold rises after
 * the first is freed) and holds on to the memory, so a long transfer's RSS creeps up.
 */
const PIECE_BYTES = 64 * 1024

/** Run `data` through a cipher into `out`, a piece at a time; returns the bytes written. */
function pump (cipher: { update: (data: Uint8Array) => Buffer }, data: Uint8Array, out: Uint8Array): number {
  let written = 0
  for (let at = 0; at < data.length; at += PIECE_BYTES) {
    const piece = cipher.update(data.subarray(at, Math.min(at + PIECE_BYTES, data.length)))
    out.set(piece, written)
    written += piece.length
  }
  return written
}

/** Seal chunk `i` of `n` (ciphertext || tag) into `out` (at least `plain.length + TAG_BYTES` long); returns the sealed bytes, a view of `out`. */
export function sealChunk (key: Uint8Array, i: number, n: number, plain: Uint8Array, out: Buffer = Buffer.allocUnsafe(plain.length + TAG_BYTES)): Buffer {
  checkKey(key)
  const cipher = createCipheriv('aes-256-gcm', key, nonce(i))
  cipher.setAAD(aad(i, n))
  let written = pump(cipher, plain, out)
  const rest = cipher.final()
  out.set(rest, written)
  written += rest.length
  cipher.getAuthTag().copy(out, written)
  return out.subarray(0, written + TAG_BYTES)
}

/**
 * Open chunk `i` of `n` (ciphertext || tag) into `out` (at least the plaintext's length);
 * returns the plaintext, a view of `out`.
 *
 * @throws {FileCorruptError} when it fails authentication (`out` then holds unverified bytes)
 */
export function openChunk (key: Uint8Array, i: number, n: number, sealed: Uint8Array, out: Buffer = Buffer.allocUnsafe(Math.max(0, sealed.length - TAG_BYTES))): Buffer {
  checkKey(key)
  if (sealed.length < TAG_BYTES) throw new FileCorruptError(`chunk ${i} is truncated`)
  const body = sealed.subarray(0, sealed.length - TAG_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(i))
  decipher.setAAD(aad(i, n))
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
  const written = pump(decipher, body, out)
  try {
    decipher.final()
  } catch (err) {
    throw new FileCorruptError(`chunk ${i} failed authentication`, { cause: err })
  }
  return out.subarray(0, written)
}

/** Bitfields: bit i is byte i >> 3, mask 1 << (i & 7). */
export const bitfield = (n: number): Uint8Array => new Uint8Array(Math.ceil(n / 8))
export const hasBit = (bits: Uint8Array, i: number): boolean => ((bits[i >> 3] ?? 0) & (1 << (i & 7))) !== 0
export function setBit (bits: Uint8Array, i: number): void {
  bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7))
}
export function countBits (bits: Uint8Array, n: number): number {
  let count = 0
  for (let i = 0; i < n; i++) if (hasBit(bits, i)) count++
  return count
}
