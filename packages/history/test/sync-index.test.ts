import { randomBytes } from 'node:crypto'
import { MemorySyncStorage, Reconciler } from '@kith/sync'
import { describe, expect, it } from 'vitest'
import { HistorySyncIndex } from '../src/sync-index.js'
import type { HistorySyncEntries } from '@kith/store'

/** Entries as a store returns them, for `items` spread over two conversations. */
function entriesOf (items: Array<{ ts: number, id: Uint8Array }>): HistorySyncEntries {
  return {
    count: items.length,
    conversations: ['alice', 'bob'],
    conversation: Uint32Array.from(items.map((_, i) => i % 2)),
    seq: Float64Array.from(items.map((_, i) => Math.floor(i / 2) + 1)),
    ts: Float64Array.from(items.map(i => i.ts)),
    ids: Buffer.concat(items.map(i => i.id))
  }
}

// Few distinct times, so many items share one and order by id.
const items = Array.from({ length: 1000 }, () => ({ ts: 1_700_000_000_000 + Math.floor(Math.random() * 300), id: new Uint8Array(randomBytes(16)) }))

describe('HistorySyncIndex', () => {
  it('orders, bounds and fingerprints exactly as @kith/sync does', () => {
    const ours = new HistorySyncIndex(entriesOf(items))
    const reference = new MemorySyncStorage(items)
    expect(ours.size()).toBe(reference.size())
    for (let i = 0; i < ours.size(); i += 37) expect(ours.itemAt(i)).toEqual(reference.itemAt(i))
    for (const [from, to] of [[0, 1000], [0, 0], [3, 700], [999, 1000], [250, 251]] as const) expect(ours.fingerprint(from, to)).toEqual(reference.fingerprint(from, to))
    for (const item of items.slice(0, 50)) {
      const bound = { ts: item.ts, id: item.id.subarray(0, 3) }
      expect(ours.findLowerBound(bound)).toBe(reference.findLowerBound(bound))
    }
    expect(ours.findLowerBound({ ts: Number.POSITIVE_INFINITY, id: new Uint8Array(0) })).toBe(1000)
  })

  it('reconciles with a MemorySyncStorage peer', () => {
    const mine = new Reconciler(new HistorySyncIndex(entriesOf(items.slice(0, 900))))
    const theirs = new Reconciler(new MemorySyncStorage(items.slice(100)))
    const need: Uint8Array[] = []
    let message: Uint8Array | undefined = mine.initiate()
    while (message !== undefined) {
      const result = mine.reconcile(theirs.reconcile(message).reply as Uint8Array)
      need.push(...result.need)
      message = result.reply
    }
    expect(need.map(id => Buffer.from(id).toString('hex')).sort()).toEqual(items.slice(900).map(i => Buffer.from(i.id).toString('hex')).sort())
  })

  it('keeps only items from `since` on, and finds each by id with where it is kept', () => {
    const index = new HistorySyncIndex(entriesOf(items), 1_700_000_000_150)
    expect(index.size()).toBe(items.filter(i => i.ts >= 1_700_000_000_150).length)
    const i = items.findIndex(it => it.ts >= 1_700_000_000_150)
    const at = index.indexOf(items[i]?.id as Uint8Array) as number
    expect(index.itemAt(at).id).toEqual(items[i]?.id)
    expect(index.refAt(at)).toEqual({ conversation: i % 2 === 0 ? 'alice' : 'bob', seq: Math.floor(i / 2) + 1 })
    expect(index.indexOf(randomBytes(16))).toBeUndefined()
  })
})
