/** Bytes joined end to end. */
export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Equal length and bytes. Not constant time: only for public values (ratchet public keys). */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

/** Lower-case hex, for map keys. */
export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** A 32-byte Uint8Array (an X25519 key or a symmetric key). */
export function isKey32 (value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === 32
}

/** An integer that fits an unsigned 32-bit field. */
export function isUint32 (value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xffffffff
}
