import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SYNC_DEFAULTS } from '../src/constants.js'
import { hexSet, minus, run } from './helpers.js'
import type { SyncItem } from '../src/item.js'
import type { ReconcilerOptions } from '../src/options.js'

/** Ids of 16 to 32 bytes; half of them from a two-letter alphabet, to share long prefixes. */
const id = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 32 }),
  fc.uint8Array({ minLength: 16, maxLength: 18, min: 0, max: 1 })
)

/** Distinct items, often with equal timestamps, each in A only (0), B only (1) or both (2). */
function pools (minItems: number, maxItems: number): fc.Arbitrary<{ a: SyncItem[], b: SyncItem[] }> {
  const item = fc.record({ ts: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 })), id })
  return fc.uniqueArray(fc.tuple(item, fc.integer({ min: 0, max: 2 })), {
    minLength: minItems,
    maxLength: maxItems,
    size: 'max',
    selector: ([item]) => Buffer.from(item.id).toString('hex')
  }).map(entries => ({
    a: entries.filter(([, side]) => side !== 1).map(([item]) => item),
    b: entries.filter(([, side]) => side !== 0).map(([item]) => item)
  }))
}

// 1600 bytes is above the smallest limit every combination below allows.
const options: fc.Arbitrary<ReconcilerOptions> = fc.record({
  branching: fc.constantFrom(2, 4, 16),
  maxMessageBytes: fc.constantFrom(1600, 4096, SYNC_DEFAULTS.maxMessageBytes)
}).chain(({ branching, maxMessageBytes }) => fc.record({
  branching: fc.constant(branching),
  idListThreshold: fc.integer({ min: branching, max: 40 }),
  maxMessageBytes: fc.constant(maxMessageBytes)
}))

/** The documented outcome: the initiator learns exactly the difference, the responder a part. */
function checkOutcome ({ a, b }: { a: SyncItem[], b: SyncItem[] }, settings: ReconcilerOptions): void {
  const outcome = run(a, b, settings, 500)
  const { initiator, responder } = outcome
  expect(hexSet(initiator.need)).toEqual(minus(b, a))
  expect(hexSet(initiator.have)).toEqual(minus(a, b))
  // hexSet keeps duplicates, minus does not: equal lists mean no id came twice.
  const responderHave = hexSet(responder.have)
  const responderNeed = hexSet(responder.need)
  expect(new Set(responderHave).size).toBe(responderHave.length)
  expect(new Set(responderNeed).size).toBe(responderNeed.length)
  const initiatorNeed = new Set(hexSet(initiator.need))
  const initiatorHave = new Set(hexSet(initiator.have))
  for (const id of responderHave) expect(initiatorNeed.has(id)).toBe(true)
  for (const id of responderNeed) expect(initiatorHave.has(id)).toBe(true)
  expect(outcome.largest).toBeLessThanOrEqual(settings.maxMessageBytes ?? SYNC_DEFAULTS.maxMessageBytes)
}

describe('Reconciler properties', () => {
  it('finds exactly B∖A and A∖B on the initiator, for small random sets', () => {
    fc.assert(fc.property(pools(0, 200), options, checkOutcome), { numRuns: 300 })
  })

  it('finds exactly B∖A and A∖B on the initiator, for larger random sets and small messages', () => {
    fc.assert(fc.property(pools(500, 3000), options, checkOutcome), { numRuns: 25 })
  })

  it('finds a few differences among many shared items', () => {
    const sets = fc.record({
      shared: fc.uniqueArray(fc.record({ ts: fc.integer({ min: 0, max: 1000 }), id }), {
        minLength: 500, maxLength: 3000, size: 'max', selector: item => Buffer.from(item.id).toString('hex')
      }),
      onlyA: fc.nat({ max: 5 }),
      onlyB: fc.nat({ max: 5 })
    }).map(({ shared, onlyA, onlyB }) => ({
      // The items unique to a side are taken from the shared pool, so no id is on both.
      a: shared.slice(onlyB),
      b: [...shared.slice(0, onlyB), ...shared.slice(onlyB + onlyA)]
    }))
    fc.assert(fc.property(sets, options, checkOutcome), { numRuns: 40 })
  })
})
