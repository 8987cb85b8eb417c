import { toHex } from '@kith/core'
import { addSum, fingerprintOfSum, itemHash, SUM_BYTES, subtractSum } from './fingerprint.js'
import { assertValidItem, compareKeys } from './item.js'
import type { SyncBound, SyncItem } from './item.js'
import type { SyncStorage } from './storage.js'

/**
 * A {@link SyncStorage} held in memory: items sorted once, with prefix sums of their hashes so
 * that any range's fingerprint costs one subtraction and one hash. Immutable: build a new one
 * when the set changes (and do not modify the items `itemAt` returns).
 */
export class MemorySyncStorage implements SyncStorage {
  readonly #items: SyncItem[]
  /** (n + 1) sums of 32 bytes: sum i covers items 0 ≤ j < i. */
  readonly #sums: Buffer

  /**
   * Sorts the items and drops exact duplicates; ids and timestamps are copied.
   *
   * @throws {TypeError} on an invalid item, or one id given with two timestamps
   */
  constructor (items: Iterable<SyncItem>) {
    const copies: SyncItem[] = []
    for (const item of items) {
      assertValidItem(item)
      copies.push({ ts: item.ts, id: new Uint8Array(item.id) })
    }
    copies.sort(compareKeys)
    this.#items = []
    const timestamps = new Map<string, number>()
    for (const item of copies) {
      const key = toHex(item.id)
      const seen = timestamps.get(key)
      if (seen === item.ts) continue
      // One id at two timestamps would be listed twice in a range's ids.
      if (seen !== undefined) throw new TypeError(`id ${key} appears with two timestamps`)
      timestamps.set(key, item.ts)
      this.#items.push(item)
    }
    this.#sums = Buffer.alloc((this.#items.length + 1) * SUM_BYTES)
    this.#items.forEach((item, i) => {
      addSum(this.#sums, (i + 1) * SUM_BYTES, this.#sums, i * SUM_BYTES, itemHash(item))
    })
  }

  size (): number {
    return this.#items.length
  }

  findLowerBound (bound: SyncBound): number {
    let lo = 0
    let hi = this.#items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareKeys(this.itemAt(mid), bound) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  itemAt (index: number): SyncItem {
    const item = this.#items[index]
    if (item === undefined) throw new RangeError(`no item at index ${index}`)
    return item
  }

  fingerprint (from: number, to: number): Uint8Array {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > this.#items.length) {
      throw new RangeError(`bad range [${from}, ${to}) of ${this.#items.length} items`)
    }
    return fingerprintOfSum(subtractSum(this.#sums, to * SUM_BYTES, this.#sums, from * SUM_BYTES), to - from)
  }
}
