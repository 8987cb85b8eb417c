import type { HistorySyncEntries } from './types.js'

/**
 * The sync index of {@link KithStore}'s history, as bytes: per conversation, segments of items
 * of 32 bytes, each a record's seq (8 bytes, big-endian), ts (8, big-endian) and id (16). A
 * segment's value is a version byte and its items; its key is the conversation's seqKey of
 * its first item. Pure functions: the store does the reading and writing.
 */

/** First byte of every segment. */
export const SEGMENT_VERSION = 1
/** Bytes of one item. */
export const ITEM_BYTES = 32
/** Most items in one segment (128 KiB): compaction writes segments this full. */
export const SEGMENT_MAX_ITEMS = 4096
/** A conversation with more segments under half full than this is compacted. */
export const MAX_SMALL_SEGMENTS = 8
/** The high word of ts of a record history sync cannot carry (id or time out of range): indexed so it is not read again, never synced. */
const UNSYNCABLE = 0xffffffff
const TWO_32 = 2 ** 32
const HEX_ID = /^[0-9a-f]{32}$/

/** One conversation's part of the index: its segment keys, how many are under half full, and its items sorted by seq. */
export interface IndexedConversation {
  keys: string[]
  small: number
  items: Buffer
}

/** Write the item of a record at `offset`; one sync cannot carry gets the UNSYNCABLE mark and a zero id. */
export function writeItem (out: Buffer, offset: number, seq: number, ts: number, id: string): void {
  out.writeUInt32BE(Math.floor(seq / TWO_32), offset)
  out.writeUInt32BE(seq % TWO_32, offset + 4)
  const syncable = Number.isSafeInteger(ts) && ts >= 0 && ts < Number.MAX_SAFE_INTEGER && typeof id === 'string' && HEX_ID.test(id)
  out.writeUInt32BE(syncable ? Math.floor(ts / TWO_32) : UNSYNCABLE, offset + 8)
  out.writeUInt32BE(syncable ? ts % TWO_32 : UNSYNCABLE, offset + 12)
  if (syncable) out.write(id, offset + 16, 'hex')
  else out.fill(0, offset + 16, offset + ITEM_BYTES)
}

/** The seq of item `i`. */
export function seqAt (items: Buffer, i: number): number {
  return items.readUInt32BE(i * ITEM_BYTES) * TWO_32 + items.readUInt32BE(i * ITEM_BYTES + 4)
}

/** How many items. */
export function countOf (items: Buffer): number {
  return items.length / ITEM_BYTES
}

/** The items sorted by seq (the same buffer when they already are). */
export function sortItems (items: Buffer): Buffer {
  const n = countOf(items)
  let sorted = true
  for (let i = 1; i < n && sorted; i++) sorted = seqAt(items, i - 1) <= seqAt(items, i)
  if (sorted) return items
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => seqAt(items, a) - seqAt(items, b))
  const out = Buffer.allocUnsafe(items.length)
  order.forEach((from, to) => items.copy(out, to * ITEM_BYTES, from * ITEM_BYTES, (from + 1) * ITEM_BYTES))
  return out
}

/** A segment's value. */
export function encodeSegment (items: Buffer): Uint8Array {
  return Buffer.concat([Buffer.of(SEGMENT_VERSION), items])
}

/** A segment's items, or undefined for one of another version or a broken length. */
export function decodeSegment (value: Uint8Array): Buffer | undefined {
  if (value[0] !== SEGMENT_VERSION || (value.length - 1) % ITEM_BYTES !== 0) return undefined
  return Buffer.from(value.buffer, value.byteOffset + 1, value.length - 1)
}

/** Sorted items cut into segments of at most SEGMENT_MAX_ITEMS, each with the seq of its first item. */
export function segmentsOf (items: Buffer): Array<{ first: number, items: Buffer }> {
  const out: Array<{ first: number, items: Buffer }> = []
  const step = SEGMENT_MAX_ITEMS * ITEM_BYTES
  for (let at = 0; at < items.length; at += step) {
    const part = items.subarray(at, Math.min(items.length, at + step))
    out.push({ first: seqAt(part, 0), items: part })
  }
  return out
}

/**
 * Compare sorted items with the seqs present in history (ascending): the items whose record
 * is still there (`kept`, sorted, each seq once), the seqs not indexed (`missing`), and
 * whether anything had to be dropped (`stale`: a record gone, or a seq indexed twice).
 */
export function compareWithHistory (items: Buffer, present: number[]): { kept: Buffer, missing: number[], stale: boolean } {
  const n = countOf(items)
  const keep: number[] = []
  const missing: number[] = []
  let j = 0
  for (const seq of present) {
    while (j < n && seqAt(items, j) < seq) j++
    if (j < n && seqAt(items, j) === seq) {
      keep.push(j++)
      while (j < n && seqAt(items, j) === seq) j++
    } else {
      missing.push(seq)
    }
  }
  if (keep.length === n) return { kept: items, missing, stale: false }
  const kept = Buffer.allocUnsafe(keep.length * ITEM_BYTES)
  keep.forEach((from, to) => items.copy(kept, to * ITEM_BYTES, from * ITEM_BYTES, (from + 1) * ITEM_BYTES))
  return { kept, missing, stale: true }
}

/** The syncable items of every conversation, as {@link HistorySyncEntries}. */
export function entriesOf (byConversation: Map<string, Buffer>): HistorySyncEntries {
  let total = 0
  for (const items of byConversation.values()) total += countOf(items)
  const conversations: string[] = []
  const conversation = new Uint32Array(total)
  const seq = new Float64Array(total)
  const ts = new Float64Array(total)
  const ids = new Uint8Array(total * 16)
  let count = 0
  for (const [name, items] of byConversation) {
    const c = conversations.push(name) - 1
    for (let i = 0, at = 0; at < items.length; i++, at += ITEM_BYTES) {
      const high = items.readUInt32BE(at + 8)
      if (high === UNSYNCABLE) continue
      conversation[count] = c
      seq[count] = seqAt(items, i)
      ts[count] = high * TWO_32 + items.readUInt32BE(at + 12)
      ids.set(items.subarray(at + 16, at + ITEM_BYTES), count * 16)
      count++
    }
  }
  return { count, conversations, conversation: conversation.subarray(0, count), seq: seq.subarray(0, count), ts: ts.subarray(0, count), ids: ids.subarray(0, count * 16) }
}
