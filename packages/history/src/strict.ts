/**
 * A check that encoded protobuf bytes are in the one form protons writes, without decoding
 * and encoding them again: every field known, with its wire type, in increasing field order,
 * each at most once; varints minimal and at most 10 bytes; lengths inside the buffer; and a
 * non-optional (proto3) field never present with its default value. This is what a decode
 * followed by a re-encode and a comparison would refuse (unknown fields, repeats, varints cut
 * short), at a fraction of the cost for the many small records of a history frame.
 */

const VARINT = 0
const LENGTH = 2

/** Per field number: its wire type, and whether it is `optional` (may carry its default). */
export type FieldShapes = ReadonlyArray<{ type: typeof VARINT | typeof LENGTH, optional: boolean } | undefined>

/** @returns whether `bytes` is canonical for a message of these fields */
export function isCanonical (bytes: Uint8Array, fields: FieldShapes): boolean {
  let pos = 0
  let last = 0
  while (pos < bytes.length) {
    const tag = bytes[pos++] as number
    // Field numbers below 16 fit in one tag byte; larger ones are not in our messages.
    if (tag >= 0x80) return false
    const field = tag >> 3
    const shape = fields[field]
    if (shape === undefined || field <= last || (tag & 7) !== shape.type) return false
    last = field
    const start = pos
    let value = 0
    let scale = 1
    while (true) {
      if (pos >= bytes.length || pos - start >= 10) return false
      const byte = bytes[pos++] as number
      value += (byte & 0x7f) * scale
      scale *= 128
      if (byte < 0x80) {
        if (byte === 0 && pos - start > 1) return false // not minimal
        break
      }
    }
    if (shape.type === LENGTH) {
      if (value > bytes.length - pos) return false
      pos += value
    }
    if (value === 0 && !shape.optional) return false // a default value is written only for optional fields
  }
  return true
}

/** The fields of a HistoryRecord (proto/history.proto). */
export const RECORD_FIELDS: FieldShapes = [
  undefined,
  { type: LENGTH, optional: false }, // id
  { type: VARINT, optional: false }, // conversation
  { type: VARINT, optional: false }, // from
  { type: LENGTH, optional: false }, // text
  { type: VARINT, optional: false }, // ts
  { type: VARINT, optional: false }, // status
  { type: VARINT, optional: true }, // mailboxes
  { type: VARINT, optional: true }, // epoch
  { type: LENGTH, optional: true }, // signature
  { type: LENGTH, optional: true }, // fileHash
  { type: LENGTH, optional: true }, // fileKey
  { type: VARINT, optional: true }, // fileSize
  { type: LENGTH, optional: true }, // fileName
  { type: LENGTH, optional: true } // fileType
]
