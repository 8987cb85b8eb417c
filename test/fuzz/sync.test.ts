import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { MemorySyncStorage, Reconciler, SYNC_DEFAULTS } from '@kith/sync'
import type { SyncItem } from '@kith/sync'
import { SIZE_WORDS, huge, inputs, params, throwsOnly, timeoutFor } from './helpers.js'

// @kith/sync's messages come from the other side of a history sync (our own devices) and of a
// group catch-up (any member): the reconciler decodes each one before it answers it.

const idOf = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(label).digest().subarray(0, 16))
const items = (prefix: string, count: number, start = 1_700_000_000_000): SyncItem[] =>
  Array.from({ length: count }, (_, i) => ({ ts: start + i * 997, id: idOf(`${prefix}${i}`) }))

const responderItems = items('r', 300)
const initiatorItems = [...responderItems.slice(0, 250), ...items('i', 40, 1_700_100_000_000)]

/** Messages of a real exchange, first to last: the valid inputs to mutate. */
function exchangeMessages (): Uint8Array[] {
  const initiator = new Reconciler(new MemorySyncStorage(initiatorItems))
  const responder = new Reconciler(new MemorySyncStorage(responderItems))
  const out: Uint8Array[] = []
  let next: Uint8Array | undefined = initiator.initiate()
  while (next != null) {
    out.push(next)
    const reply = responder.reconcile(next).reply
    if (reply == null) break
    out.push(reply)
    next = initiator.reconcile(reply).reply
  }
  return out
}

describe('fuzz: set reconciliation', () => {
  it('Reconciler.reconcile throws only SyncProtocolError, refuses 10 MB by its size, and the exchange still completes afterwards', () => {
    const valid = exchangeMessages()
    const message = fc.nat().map(i => valid[i % valid.length] as Uint8Array)
    const responder = new Reconciler(new MemorySyncStorage(responderItems))
    fc.assert(fc.property(inputs(message, 4096), input => {
      throwsOnly(m => responder.reconcile(m), input, ['SyncProtocolError'])
      // A fresh responder (no exchange under way) takes the same input the same way.
      throwsOnly(m => new Reconciler(new MemorySyncStorage(responderItems)).reconcile(m), input, ['SyncProtocolError'])
    }), params())
    expect(throwsOnly(m => responder.reconcile(m), huge(valid[0]), ['SyncProtocolError'])?.message).toMatch(SIZE_WORDS)
    expect(SYNC_DEFAULTS.maxMessageBytes).toBeLessThan(10 * 1024 * 1024)

    // After all that junk, a whole exchange with a fresh reconciler still finds the difference.
    const initiator = new Reconciler(new MemorySyncStorage(initiatorItems))
    const fresh = new Reconciler(new MemorySyncStorage(responderItems))
    const need: string[] = []
    let next: Uint8Array | undefined = initiator.initiate()
    for (let round = 0; next != null && round < 20; round++) {
      const reply = fresh.reconcile(next).reply
      if (reply == null) break
      const result = initiator.reconcile(reply)
      need.push(...result.need.map(id => Buffer.from(id).toString('hex')))
      next = result.reply
    }
    expect(need.sort()).toEqual(responderItems.slice(250).map(i => Buffer.from(i.id).toString('hex')).sort())
  }, timeoutFor(10))
})
