import { beforeAll, describe, expect, it } from 'vitest'
import { SYNC_DEFAULTS } from '../src/constants.js'
import { hexSet, items, minus, run } from './helpers.js'
import type { SyncItem } from '../src/item.js'
import type { Outcome } from './helpers.js'

/**
 * `shared` items on both sides, plus 5 only on each, spread over the history: a spacing of
 * one prime step scatters them without a random generator.
 */
function tenDifferences (shared: number): { a: SyncItem[], b: SyncItem[] } {
  const all = items(`cost${shared}-`, shared + 10, 1_700_000_000_000, (shared + 10) * 60_000)
  const step = Math.floor((shared + 10) / 10)
  const different = new Set(Array.from({ length: 10 }, (_, i) => i * step + (i * 7919) % step))
  const a = all.filter((_, i) => !different.has(i) || [...different].indexOf(i) % 2 === 0)
  const b = all.filter((_, i) => !different.has(i) || [...different].indexOf(i) % 2 === 1)
  return { a, b }
}

function exchange (shared: number): Outcome {
  const { a, b } = tenDifferences(shared)
  const outcome = run(a, b)
  expect(hexSet(outcome.initiator.need)).toEqual(minus(b, a))
  expect(hexSet(outcome.initiator.have)).toEqual(minus(a, b))
  expect(outcome.initiator.need).toHaveLength(5)
  expect(outcome.initiator.have).toHaveLength(5)
  return outcome
}

describe('Reconciliation cost', () => {
  let small: Outcome
  let large: Outcome
  beforeAll(() => {
    small = exchange(1000)
    large = exchange(100_000)
  })

  it('stays small for 10 differences among 100,000 shared items', () => {
    expect(large.bytes).toBeLessThan(30_000)
    expect(large.rounds).toBeLessThanOrEqual(Math.ceil(Math.log(100_000) / Math.log(16)) + 3)
  })

  it('grows with the difference, not with the history', () => {
    expect(small.rounds).toBeLessThanOrEqual(Math.ceil(Math.log(1000) / Math.log(16)) + 3)
    expect(large.bytes).toBeLessThan(4 * small.bytes)
  })

  it('sends a whole history at about one id length per item, a full message at a time', () => {
    const history = items('history', 100_000)
    const outcome = run([], history)
    expect(outcome.initiator.need).toHaveLength(100_000)
    // 16-byte ids plus a length byte each, and little else.
    expect(outcome.bytes).toBeLessThan(100_000 * 17 * 1.02)
    expect(outcome.largest).toBeLessThanOrEqual(SYNC_DEFAULTS.maxMessageBytes)
    expect(outcome.rounds).toBeLessThanOrEqual(Math.ceil(outcome.bytes / SYNC_DEFAULTS.maxMessageBytes) + 2)
    // The other way round, the empty side lists its nothing at once.
    expect(run(history, []).rounds).toBe(1)
  })
})
