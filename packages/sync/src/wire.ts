import { MAX_ID_BYTES } from './constants.js'
import type { SyncBound } from './item.js'

/** What a range asks of the receiver. Numbers as on the wire. */
export const Mode = {
  /** Nothing to do: the sender found this range equal. */
  Skip: 0,
  /** Compare this fingerprint with yours. */
  Fingerprint: 1,
  /** All of the sender's ids in this range. */
  IdList: 2
} as const

/** One decoded range: its upper bound (the lower one is the previous range's) and content. */
export type WireRange =
  | { bound: SyncBound, mode: typeof Mode.Skip }
  | { bound: SyncBound, mode: typeof Mode.Fingerprint, fingerprint: Uint8Array }
  | { bound: SyncBound, mode: typeof Mode.IdList, ids: Uint8Array[] }

/** Bytes of a protobuf varint. */
export function varintLength (value: number): number {
  let bytes = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    bytes++
  }
  return bytes
}

// Worst-case encoded sizes, used to keep replies under the size limit. Every field is
// repeated, so each range pays one tag byte per field.
/** A bound: ts delta (tag + up to 10 bytes) and id prefix (tag + length + up to 32 bytes). */
export const MAX_BOUND_BYTES = 11 + 2 + MAX_ID_BYTES
/** A Skip range: bound, mode (tag + 1) and an empty payload (tag + 0). */
export const MAX_SKIP_RANGE_BYTES = MAX_BOUND_BYTES + 2 + 2
/** A Fingerprint range. */
export const MAX_FINGERPRINT_RANGE_BYTES = MAX_BOUND_BYTES + 2 + 2 + 16
/** A Fingerprint range up to +infinity: ts 0, empty id, mode, 16-byte payload. */
export const FINAL_RANGE_BYTES = 2 + 2 + 2 + 18
/** An IdList range without its ids: bound, mode, payload tag and length (< 2^35). */
export const MAX_ID_LIST_OVERHEAD_BYTES = MAX_BOUND_BYTES + 2 + 1 + 5
/** The version field. */
export const VERSION_BYTES = 2
