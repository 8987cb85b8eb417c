import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toHex } from '@kith/core'
import { decodeSyncMessage } from '../src/decode.js'
import { compareKeys, INFINITY_BOUND } from '../src/item.js'
import { encodeIds, MessageBuilder } from '../src/message-builder.js'
import { Mode } from '../src/wire.js'
import type { SyncBound } from '../src/item.js'

type Content = { mode: 0 } | { mode: 1, fingerprint: Uint8Array } | { mode: 2, ids: Uint8Array[] }

const bound = fc.record({
  ts: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }),
  id: fc.uint8Array({ maxLength: 32 })
})
const content: fc.Arbitrary<Content> = fc.oneof(
  fc.constant({ mode: Mode.Skip }),
  fc.record({ mode: fc.constant(Mode.Fingerprint), fingerprint: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.record({ mode: fc.constant(Mode.IdList), ids: fc.uniqueArray(fc.uint8Array({ minLength: 16, maxLength: 32 }), { maxLength: 40, selector: toHex }) })
)
/** Ranges with increasing bounds, the last one sometimes +infinity; ids unique across ranges. */
const ranges = fc.tuple(fc.uniqueArray(bound, { maxLength: 30, selector: b => `${b.ts}:${toHex(b.id)}` }), fc.boolean())
  .chain(([bounds, infinite]) => {
    const sorted: SyncBound[] = [...bounds].sort(compareKeys)
    if (infinite) sorted.push(INFINITY_BOUND)
    return fc.tuple(...sorted.map(b => content.map(c => ({ bound: b, ...c }))))
  })
  .filter(list => new Set(list.flatMap(r => r.mode === Mode.IdList ? r.ids.map(toHex) : [])).size ===
    list.reduce((n, r) => n + (r.mode === Mode.IdList ? r.ids.length : 0), 0))

describe('SyncMessage encoding', () => {
  it('round-trips any valid list of ranges, with the size counted exactly', () => {
    fc.assert(fc.property(ranges, list => {
      const out = new MessageBuilder()
      for (const range of list) {
        const payload = range.mode === Mode.Fingerprint ? range.fingerprint : range.mode === Mode.IdList ? encodeIds(range.ids) : new Uint8Array(0)
        out.add(range.bound, range.mode, payload)
      }
      const bytes = out.encode()
      expect(bytes.length).toBe(out.bytes)
      const decoded = decodeSyncMessage(bytes, bytes.length)
      expect(decoded.map(r => ({ ...r, bound: { ts: r.bound.ts, id: toHex(r.bound.id) } })))
        .toEqual(list.map(r => ({ ...r, bound: { ts: r.bound.ts, id: toHex(r.bound.id) } })))
    }), { numRuns: 300 })
  })
})
