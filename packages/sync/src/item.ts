import { MAX_ID_BYTES, MIN_ID_BYTES } from './constants.js'

/** One element of a reconciled set: a message id and its timestamp. */
export interface SyncItem {
  /**
   * Milliseconds since the epoch: an integer from 0 to `Number.MAX_SAFE_INTEGER - 1` (the top
   * value is left out so that every timestamp delta plus one stays a safe integer on the wire).
   */
  ts: number
  /** 16 to 32 bytes, unique within the set. */
  id: Uint8Array
}

/**
 * A point in the (ts, id) order that separates ranges. `id` is an id prefix (0 to 32 bytes):
 * an item is below the bound when its ts is smaller, or its ts is equal and its id sorts before
 * the prefix. `ts: Infinity` is the bound above every item.
 */
export interface SyncBound {
  ts: number
  id: Uint8Array
}

const EMPTY = new Uint8Array(0)

/** The bound above every item. */
export const INFINITY_BOUND: SyncBound = Object.freeze({ ts: Number.POSITIVE_INFINITY, id: EMPTY })

/** Order items and bounds alike: by ts, then id bytewise (a prefix sorts first). */
export function compareKeys (a: SyncBound, b: SyncBound): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1
  return Buffer.compare(a.id, b.id)
}

/** Whether `ts` is a timestamp items may have. */
export function isValidTs (ts: number): boolean {
  return Number.isSafeInteger(ts) && ts >= 0 && ts < Number.MAX_SAFE_INTEGER
}

/** Whether `id` has a length items may have. */
export function isValidIdLength (length: number): boolean {
  return length >= MIN_ID_BYTES && length <= MAX_ID_BYTES
}

/** @throws {TypeError} when the item is not a valid {@link SyncItem} */
export function assertValidItem (item: SyncItem): void {
  if (!isValidTs(item.ts)) throw new TypeError(`item ts must be an integer from 0 to 2^53 - 2, got ${item.ts}`)
  if (!(item.id instanceof Uint8Array) || !isValidIdLength(item.id.length)) {
    throw new TypeError(`item id must be ${MIN_ID_BYTES} to ${MAX_ID_BYTES} bytes`)
  }
}

/**
 * The shortest bound that is above `prev` and not above `next` (prev < next). Shorter bounds
 * mean smaller messages: with different timestamps no id bytes are needed at all.
 */
export function minimalBound (prev: SyncItem, next: SyncItem): SyncBound {
  if (prev.ts !== next.ts) return { ts: next.ts, id: EMPTY }
  let common = 0
  while (common < prev.id.length && prev.id[common] === next.id[common]) common++
  // next is not a prefix of prev (it sorts after it), so next has a byte at `common`.
  return { ts: next.ts, id: next.id.slice(0, common + 1) }
}
