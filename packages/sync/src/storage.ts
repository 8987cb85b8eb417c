import type { SyncBound, SyncItem } from './item.js'

/**
 * A sorted set of items, as the reconciler reads it. Items are ordered by (ts, id) and indexed
 * from 0. Every method is synchronous because the reconciler calls them many times per
 * message: a LevelDB-backed store keeps this index (timestamps, ids and fingerprint sums) in
 * memory or in a synchronously readable cache, and loads it before a sync starts.
 */
export interface SyncStorage {
  /** Number of items. */
  size(): number
  /** Index of the first item not below `bound`, or `size()` when every item is below it. */
  findLowerBound(bound: SyncBound): number
  /** The item at `index`, 0 ≤ index < size(). */
  itemAt(index: number): SyncItem
  /**
   * The 16-byte fingerprint of the items at indexes from ≤ i < to: the first 16 bytes of
   * SHA-256(sum || count as 8 bytes big-endian), where sum is the sum modulo 2^256 of
   * SHA-256(ts as 8 bytes big-endian || id) over those items, each read and the sum written as
   * a 256-bit little-endian integer. Equal sets give equal fingerprints whatever the storage.
   */
  fingerprint(from: number, to: number): Uint8Array
}
