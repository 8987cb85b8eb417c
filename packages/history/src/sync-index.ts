import { createHash, hash as oneShot } from 'node:crypto'
import type { HistoryRef, HistorySyncEntries, KithStore } from '@kith/store'
import type { SyncBound, SyncItem, SyncStorage } from '@kith/sync'

const ID_BYTES = 16
const WORDS = 8
const TWO_32 = 2 ** 32

/** SHA-256 of one buffer: the one-shot form where Node has it (20.12+), else a Hash. */
const sha256: (data: Uint8Array) => Buffer = typeof oneShot === 'function'
  ? (data) => oneShot('sha256', data, 'buffer') as unknown as Buffer
  : (data) => createHash('sha256').update(data).digest()

/**
 * A store's history records with ts >= since, sorted by (ts, id), as the set @kith/sync
 * reconciles. Fingerprints are those of @kith/sync's `SyncStorage` contract (a range's sum of
 * SHA-256(ts as 8 bytes big-endian || id), then SHA-256(sum || count)), kept as prefix sums in
 * one typed array, so building costs one hash per record and any range costs one subtraction.
 * Immutable: take a new one when history changes.
 */
export class HistorySyncIndex implements SyncStorage {
  readonly #entries: HistorySyncEntries
  /** Entry index of the item at each sorted position. */
  readonly #order: Uint32Array
  readonly #ts: Float64Array
  readonly #ids: Uint8Array
  /** (size + 1) sums of 8 little-endian 32-bit words: sum i covers the items before i. */
  readonly #sums: Uint32Array
  #byId: Map<string, number> | undefined

  constructor (entries: HistorySyncEntries, since = 0) {
    this.#entries = entries
    const picked: number[] = []
    for (let i = 0; i < entries.count; i++) if ((entries.ts[i] as number) >= since) picked.push(i)
    picked.sort((a, b) => compareEntries(entries, a, b))
    // The same record twice (same ts and id) would be listed twice in an id list.
    const order = picked.filter((e, i) => i === 0 || compareEntries(entries, picked[i - 1] as number, e) !== 0)
    const size = order.length
    this.#order = Uint32Array.from(order)
    this.#ts = new Float64Array(size)
    this.#ids = new Uint8Array(size * ID_BYTES)
    this.#sums = new Uint32Array((size + 1) * WORDS)
    const input = Buffer.alloc(8 + ID_BYTES)
    for (let i = 0; i < size; i++) {
      const e = order[i] as number
      const ts = entries.ts[e] as number
      const id = entries.ids.subarray(e * ID_BYTES, (e + 1) * ID_BYTES)
      this.#ts[i] = ts
      this.#ids.set(id, i * ID_BYTES)
      input.writeUInt32BE(Math.floor(ts / TWO_32), 0)
      input.writeUInt32BE(ts % TWO_32, 4)
      input.set(id, 8)
      addWords(this.#sums, (i + 1) * WORDS, i * WORDS, sha256(input))
    }
  }

  size (): number {
    return this.#ts.length
  }

  findLowerBound (bound: SyncBound): number {
    let lo = 0
    let hi = this.#ts.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#compareTo(mid, bound) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  itemAt (index: number): SyncItem {
    if (!Number.isInteger(index) || index < 0 || index >= this.#ts.length) throw new RangeError(`no item at index ${index}`)
    return { ts: this.#ts[index] as number, id: this.#ids.subarray(index * ID_BYTES, (index + 1) * ID_BYTES) }
  }

  fingerprint (from: number, to: number): Uint8Array {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > this.#ts.length) {
      throw new RangeError(`bad range [${from}, ${to}) of ${this.#ts.length} items`)
    }
    const sum = Buffer.allocUnsafe(WORDS * 4 + 8)
    let borrow = 0
    for (let w = 0; w < WORDS; w++) {
      const d = (this.#sums[to * WORDS + w] as number) - (this.#sums[from * WORDS + w] as number) - borrow
      borrow = d < 0 ? 1 : 0
      sum.writeUInt32LE(d + borrow * TWO_32, 4 * w)
    }
    const count = to - from
    sum.writeUInt32BE(Math.floor(count / TWO_32), WORDS * 4)
    sum.writeUInt32BE(count % TWO_32, WORDS * 4 + 4)
    return new Uint8Array(sha256(sum).subarray(0, 16))
  }

  /** The sorted position of the item with this id, if there is one (a map built on first use). */
  indexOf (id: Uint8Array): number | undefined {
    if (this.#byId == null) {
      this.#byId = new Map()
      for (let i = 0; i < this.#ts.length; i++) this.#byId.set(keyOf(this.#ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES)), i)
    }
    return this.#byId.get(keyOf(id))
  }

  /** Where the item at sorted position `index` is kept. */
  refAt (index: number): HistoryRef {
    const e = this.#order[index]
    if (e === undefined) throw new RangeError(`no item at index ${index}`)
    return { conversation: this.#entries.conversations[this.#entries.conversation[e] as number] as string, seq: this.#entries.seq[e] as number }
  }

  /** Compare the item at `index` with a bound, as @kith/sync orders them. */
  #compareTo (index: number, bound: SyncBound): number {
    const ts = this.#ts[index] as number
    if (ts !== bound.ts) return ts < bound.ts ? -1 : 1
    return Buffer.compare(this.#ids.subarray(index * ID_BYTES, (index + 1) * ID_BYTES), bound.id)
  }
}

function compareEntries (entries: HistorySyncEntries, a: number, b: number): number {
  const ta = entries.ts[a] as number
  const tb = entries.ts[b] as number
  if (ta !== tb) return ta < tb ? -1 : 1
  const { ids } = entries
  for (let k = 0; k < ID_BYTES; k++) {
    const d = (ids[a * ID_BYTES + k] as number) - (ids[b * ID_BYTES + k] as number)
    if (d !== 0) return d
  }
  return 0
}

/** sums[out..] = sums[from..] + h (little-endian words), modulo 2^256. */
function addWords (sums: Uint32Array, out: number, from: number, h: Buffer): void {
  let carry = 0
  for (let w = 0; w < WORDS; w++) {
    const s = (sums[from + w] as number) + h.readUInt32LE(4 * w) + carry
    carry = s >= TWO_32 ? 1 : 0
    sums[out + w] = s - carry * TWO_32
  }
}

/** A compact map key for an id. */
export function keyOf (id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1')
}

/**
 * The indexes of one store's history, reused while the store returns the same entries (it
 * does while no conversation was written): a sync that finds nothing new costs no hashing.
 */
export class IndexCache {
  #entries: HistorySyncEntries | undefined
  readonly #bySince = new Map<number, HistorySyncIndex>()

  constructor (private readonly store: KithStore) {}

  async get (since: number): Promise<HistorySyncIndex> {
    const entries = await this.store.historySyncEntries()
    if (entries !== this.#entries) {
      this.#entries = entries
      this.#bySince.clear()
    }
    let index = this.#bySince.get(since)
    if (index === undefined) {
      // A few `since` values at most are in use at once (0, and what recent syncs asked for).
      if (this.#bySince.size >= 4) this.#bySince.clear()
      index = new HistorySyncIndex(entries, since)
      this.#bySince.set(since, index)
    }
    return index
  }
}
