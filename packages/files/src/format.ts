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

/** Seal chunk `i` of `n`: ciphertext || tag. */
export function sealChunk (key: Uint8Array, i: number, n: number, plain: Uint8Array): Buffer {
  checkKey(key)
  const cipher = createCipheriv('aes-256-gcm', key, nonce(i))
  cipher.setAAD(aad(i, n))
  const out = Buffer.allocUnsafe(plain.length + TAG_BYTES)
  const body = cipher.update(plain)
  body.copy(out)
  const rest = cipher.final()
  rest.copy(out, body.length)
  cipher.getAuthTag().copy(out, plain.length)
  return out
}

/**
 * Open chunk `i` of `n` (ciphertext || tag).
 *
 * @throws {FileCorruptError} when the tag does not verify
 */
export function openChunk (key: Uint8Array, i: number, n: number, sealed: Uint8Array): Buffer {
  checkKey(key)
  if (sealed.length < TAG_BYTES) throw new FileCorruptError(`chunk ${i} is truncated`)
  const body = sealed.subarray(0, sealed.length - TAG_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(i))
  decipher.setAAD(aad(i, n))
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
  const plain = decipher.update(body)
  try {
    decipher.final()
  } catch (err) {
    throw new FileCorruptError(`chunk ${i} failed authentication`, { cause: err })
  }
  return plain
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
