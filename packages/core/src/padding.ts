/** Encodings are padded to multiples of this many bytes, so sizes say little. */
export const PAD_TO = 256

/**
 * The padding that, added as one more length-delimited protobuf field to an encoding of
 * `length` bytes, brings it to a multiple of 256 bytes. The field costs a tag byte and one or
 * two length bytes besides the padding itself.
 */
export function paddingFor (length: number): Uint8Array {
  const fieldBytes = (p: number): number => p === 0 ? 0 : 1 + (p < 128 ? 1 : 2) + p
  for (let target = Math.ceil(length / PAD_TO) * PAD_TO; ; target += PAD_TO) {
    const room = target - length
    // Some sizes can't be hit exactly (one byte, or the step from one length byte to two).
    for (const p of [room - 2, room - 3, room]) {
      if (p >= 0 && fieldBytes(p) === room) return new Uint8Array(p)
    }
  }
}

/**
 * A protobuf encoding (without its padding) with its padding field appended, so the whole is a
 * multiple of 256 bytes: the bytes protons gives for the same message with that padding when
 * `field`, a `bytes` field, is the last one it writes, without encoding the message twice.
 */
export function padded (encoded: Uint8Array, field: number): Uint8Array {
  const padding = paddingFor(encoded.length).length
  if (padding === 0) return encoded
  const lengthBytes = padding < 128 ? [padding] : [(padding & 0x7f) | 0x80, padding >> 7]
  const out = new Uint8Array(encoded.length + 1 + lengthBytes.length + padding)
  out.set(encoded)
  out.set([(field << 3) | 2, ...lengthBytes], encoded.length)
  return out
}
