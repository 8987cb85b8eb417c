import { describe, expect, it } from 'vitest'
import { MemorySyncStorage } from '../src/memory-storage.js'
import { Reconciler } from '../src/reconciler.js'
import { hexSet, idOf, items, minus, run } from './helpers.js'
import type { SyncItem } from '../src/item.js'

/** Runs the exchange and checks the initiator learned exactly the difference. */
function reconcileBoth (a: SyncItem[], b: SyncItem[]): ReturnType<typeof run> {
  const outcome = run(a, b)
  expect(hexSet(outcome.initiator.need)).toEqual(minus(b, a))
  expect(hexSet(outcome.initiator.have)).toEqual(minus(a, b))
  return outcome
}

describe('Reconciler', () => {
  it('finishes identical sets in one round trip with nothing to exchange', () => {
    const set = items('same', 5000)
    const outcome = reconcileBoth(set, [...set].reverse())
    expect(outcome.rounds).toBe(1)
    expect(outcome.initiator).toEqual({ have: [], need: [] })
    expect(outcome.responder).toEqual({ have: [], need: [] })
    expect(outcome.bytes).toBeLessThan(64)
  })

  it('finishes two empty sets in one round trip', () => {
    expect(reconcileBoth([], []).rounds).toBe(1)
  })

  it('finds everything on both sides of disjoint sets', () => {
    const outcome = reconcileBoth(items('left', 700), items('right', 900))
    expect(outcome.initiator.need).toHaveLength(900)
    expect(outcome.initiator.have).toHaveLength(700)
  })

  it('lists everything when the initiator is empty', () => {
    const outcome = reconcileBoth([], items('all', 2000))
    expect(outcome.initiator.need).toHaveLength(2000)
    expect(outcome.rounds).toBeLessThanOrEqual(3)
  })

  it('lists everything when the responder is empty', () => {
    const outcome = reconcileBoth(items('all', 2000), [])
    expect(outcome.initiator.have).toHaveLength(2000)
    expect(outcome.rounds).toBeLessThanOrEqual(3)
  })

  it('tells apart items with equal timestamps and ids of different lengths', () => {
    const shared = Array.from({ length: 300 }, (_, i) => ({ ts: 42 + (i % 3), id: idOf(`s${i}`, 16 + (i % 17)) }))
    // Ids that share long prefixes force long bounds.
    const near = (last: number): SyncItem => ({ ts: 43, id: Uint8Array.from({ length: 32 }, (_, i) => i === 31 ? last : 7) })
    const a = [...shared, near(1), near(3), { ts: 43, id: new Uint8Array(16).fill(7) }]
    const b = [...shared, near(2), near(3), { ts: 43, id: new Uint8Array(17).fill(7) }]
    reconcileBoth(a, b)
  })

  for (const [where, index] of [['start', 0], ['middle', 2500], ['end', 4999]] as const) {
    it(`finds a single difference at the ${where}`, () => {
      const set = items('one', 5000)
      const without = set.filter((_, i) => i !== index)
      const missing = reconcileBoth(without, set)
      expect(hexSet(missing.initiator.need)).toEqual(hexSet([set[index]!.id]))
      const extra = reconcileBoth(set, without)
      expect(hexSet(extra.initiator.have)).toEqual(hexSet([set[index]!.id]))
      expect(missing.rounds).toBeLessThanOrEqual(5)
      expect(missing.bytes).toBeLessThan(3000)
    })
  }

  it('lets the responder learn the ranges the initiator listed, and nothing twice', () => {
    const set = items('r', 1000)
    // A small initiator answers the responder's first split with its ids.
    const a = [...set.filter((_, i) => i % 50 === 0 && i !== 500), ...items('only-a', 3, 1_700_000_500_000)]
    const outcome = reconcileBoth(a, set)
    expect(outcome.responder.have).toHaveLength(981)
    expect(hexSet(outcome.responder.have)).toEqual(hexSet(outcome.initiator.need))
    expect(hexSet(outcome.responder.need)).toEqual(hexSet(outcome.initiator.have))
  })

  it('keeps every message under a small size limit and still finishes', () => {
    const maxMessageBytes = 2048
    const outcome = run([], items('big', 3000), { maxMessageBytes })
    expect(hexSet(outcome.initiator.need)).toEqual(minus(items('big', 3000), []))
    expect(outcome.largest).toBeLessThanOrEqual(maxMessageBytes)
    expect(outcome.rounds).toBeGreaterThan(10)
  })

  it('refuses options out of range', () => {
    const storage = new MemorySyncStorage([])
    expect(() => new Reconciler(storage, { branching: 1 })).toThrow(RangeError)
    expect(() => new Reconciler(storage, { branching: 16, idListThreshold: 8 })).toThrow(RangeError)
    expect(() => new Reconciler(storage, { maxMessageBytes: 1000 })).toThrow(RangeError)
    expect(() => new Reconciler(storage, { branching: 2.5 })).toThrow(RangeError)
  })

  it('refuses to initiate twice, or after answering', () => {
    const initiator = new Reconciler(new MemorySyncStorage([]))
    const first = initiator.initiate()
    expect(() => initiator.initiate()).toThrow(/first call/)
    const responder = new Reconciler(new MemorySyncStorage([]))
    responder.reconcile(first)
    expect(() => responder.initiate()).toThrow(/first call/)
  })
})
