import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { toHex } from '@kith/core'
import { idOf } from './helpers.js'
import type { SyncBound, SyncItem } from '../src/item.js'
import type { SyncStorage } from '../src/storage.js'

/**
 * The fingerprint of a list of items as the SyncStorage contract defines it, written again
 * from the definition with bigints, independently of src/fingerprint.ts.
 */
export function referenceFingerprint (items: SyncItem[]): string {
  let sum = 0n
  for (const item of items) {
    const ts = Buffer.alloc(8)
    ts.writeBigUInt64BE(BigInt(item.ts))
    const h = createHash('sha256').update(ts).update(item.id).digest()
    sum = (sum + BigInt('0x' + Buffer.from(h).reverse().toString('hex'))) % (1n << 256n)
  }
  const le = Buffer.from(sum.toString(16).padStart(64, '0'), 'hex').reverse()
  const count = Buffer.alloc(8)
  count.writeBigUInt64BE(BigInt(items.length))
  return createHash('sha256').update(le).update(count).digest().subarray(0, 16).toString('hex')
}

/** Items that exercise the order: equal timestamps, ids of all lengths, shared prefixes. */
function sample (): SyncItem[] {
  const out: SyncItem[] = []
  for (let i = 0; i < 120; i++) out.push({ ts: 1000 + (i % 7) * 10, id: idOf(`suite${i}`, 16 + (i % 17)) })
  for (let i = 0; i < 8; i++) out.push({ ts: 1000, id: Uint8Array.from({ length: 16 + i }, (_, j) => j < 15 ? 0xab : i) })
  return out
}

const sorted = (items: SyncItem[]): SyncItem[] =>
  [...items].sort((a, b) => a.ts - b.ts || Buffer.compare(a.id, b.id))

/**
 * The behaviour every SyncStorage must have: run it on each implementation, so the
 * reconciler can rely on any of them.
 */
export function describeSyncStorage (name: string, create: (items: SyncItem[]) => SyncStorage): void {
  describe(`${name} (SyncStorage contract)`, () => {
    const items = sample()
    const expected = sorted(items)
    const storage = create([...items].reverse())

    it('holds the items in (ts, id) order', () => {
      expect(storage.size()).toBe(expected.length)
      for (let i = 0; i < expected.length; i++) {
        expect(storage.itemAt(i).ts).toBe(expected[i]!.ts)
        expect(toHex(storage.itemAt(i).id)).toBe(toHex(expected[i]!.id))
      }
    })

    it('finds the first item not below a bound', () => {
      const bounds: SyncBound[] = [
        { ts: 0, id: new Uint8Array(0) },
        { ts: 1000, id: new Uint8Array(0) },
        { ts: 1000, id: Uint8Array.of(0xab) },
        { ts: 1000, id: Uint8Array.of(0xff, 0xff) },
        { ts: 1031, id: new Uint8Array(0) },
        { ts: 1060, id: new Uint8Array(32).fill(0xff) },
        { ts: Number.MAX_SAFE_INTEGER, id: new Uint8Array(0) },
        { ts: Number.POSITIVE_INFINITY, id: new Uint8Array(0) },
        ...expected
      ]
      for (const bound of bounds) {
        const index = expected.findIndex(item => item.ts > bound.ts || (item.ts === bound.ts && Buffer.compare(item.id, bound.id) >= 0))
        expect(storage.findLowerBound(bound)).toBe(index === -1 ? expected.length : index)
      }
    })

    it('fingerprints every range as the definition says', () => {
      for (let from = 0; from <= expected.length; from += 7) {
        for (let to = from; to <= expected.length; to += 11) {
          expect(toHex(storage.fingerprint(from, to))).toBe(referenceFingerprint(expected.slice(from, to)))
        }
      }
      expect(toHex(storage.fingerprint(0, expected.length))).toBe(referenceFingerprint(expected))
    })

    it('gives equal sets equal fingerprints, and different sets different ones', () => {
      const again = create(expected)
      expect(toHex(again.fingerprint(0, again.size()))).toBe(toHex(storage.fingerprint(0, storage.size())))
      const fewer = create(expected.slice(1))
      expect(toHex(fewer.fingerprint(0, fewer.size()))).not.toBe(toHex(storage.fingerprint(0, storage.size())))
    })

    it('handles the empty set', () => {
      const empty = create([])
      expect(empty.size()).toBe(0)
      expect(empty.findLowerBound({ ts: 5, id: new Uint8Array(0) })).toBe(0)
      expect(toHex(empty.fingerprint(0, 0))).toBe(referenceFingerprint([]))
    })
  })
}
