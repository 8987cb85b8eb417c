import { randomBytes } from 'node:crypto'

/** Lower-case hex of some bytes. */
export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes from lower-case hex; throws on anything else. */
export function fromHex (hex: string): Uint8Array<ArrayBuffer> {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new TypeError('not hex')
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Fresh random bytes (node:crypto CSPRNG). */
export function random (length: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(length))
}

/** UTF-8 length of a string, without encoding it twice. */
export function utf8Length (text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
