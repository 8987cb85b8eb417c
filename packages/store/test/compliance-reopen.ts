/** The durability part of the store compliance suite: run for backends that can be reopened. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KithStore } from '@kith/store'
import { ALICE, BOB, contact, envelopeFor, incoming, newId, send, sendMany, texts } from './helpers.js'
import type { StoreHarness } from './helpers.js'

export function reopenSuite (open: () => Promise<StoreHarness>): void {
  describe('after close and reopen', () => {
    let h: StoreHarness
    let store: KithStore
    beforeEach(async () => { h = await open(); store = h.store })
    afterEach(async () => { await h.cleanup() })

    async function reopen (): Promise<void> {
      if (h.reopen == null) throw new Error('this harness cannot reopen its store')
      store = await h.reopen()
    }

    it('keeps contacts, invites, history, statuses and the outbox', async () => {
      await store.putContact(contact(ALICE, 'alice'))
      await store.putInvite({ token: 'aa'.repeat(16), expires: 1_800_000_000_000 })
      const queued = await send(store, ALICE, 'queued')
      const sent = await send(store, ALICE, 'sent')
      const delivered = await send(store, ALICE, 'delivered')
      const received = await store.appendIncoming(incoming(ALICE, 'received'))
      await store.markSent([sent.record.id, delivered.record.id])
      await store.settle([delivered.entry], 'delivered')
      const history = await store.history(ALICE)
      const outbox = await store.pendingOutbox()

      await reopen()

      expect(await store.getContact(ALICE)).toEqual(contact(ALICE, 'alice'))
      expect(await store.findContact('alice')).toEqual(contact(ALICE, 'alice'))
      expect(await store.getInvite('aa'.repeat(16))).toEqual({ token: 'aa'.repeat(16), expires: 1_800_000_000_000 })
      expect(await store.history(ALICE)).toEqual(history)
      expect(history.map(r => [r.text, r.status])).toEqual([
        ['queued', 'queued'], ['sent', 'sent'], ['delivered', 'delivered'], ['received', 'received']
      ])
      expect(await store.getMessage(queued.record.id)).toEqual({ ...queued.record, status: 'queued' })
      expect(await store.pendingOutbox()).toEqual(outbox)
      expect(outbox.map(e => e.id)).toEqual([queued.record.id, sent.record.id])
      expect(new TextDecoder().decode(outbox[0]!.envelope)).toBe('envelope:queued')
      expect(received).toBeDefined()
    })

    it('still drops a duplicate of a message received before the restart', async () => {
      const message = incoming(ALICE, 'once')
      await store.appendIncoming(message)
      await reopen()
      expect(await store.appendIncoming(message)).toBeUndefined()
      expect(texts(await store.history(ALICE))).toEqual(['once'])
    })

    it('keeps the status order: markSent after a pre-restart delivery changes nothing', async () => {
      const { record, entry } = await send(store, ALICE, 'x')
      await store.settle([entry], 'delivered')
      await reopen()
      expect(await store.markSent([record.id])).toEqual([])
      expect((await store.getMessage(record.id))?.status).toBe('delivered')
    })

    it('continues the seq numbering after the last message, with no reuse', async () => {
      const before = await sendMany(store, ALICE, 3)
      await store.appendIncoming(incoming(BOB, 'from bob'))
      await reopen()
      const next = (await send(store, ALICE, 'after restart')).record
      expect(next.seq).toBeGreaterThan(before[2]!.seq)
      const fromBob = await store.appendIncoming(incoming(BOB, 'again from bob'))
      const bobHistory = await store.history(BOB)
      expect(texts(bobHistory)).toEqual(['from bob', 'again from bob'])
      expect(fromBob!.seq).toBeGreaterThan(bobHistory[0]!.seq)
      expect(texts(await store.history(ALICE))).toEqual(['m1', 'm2', 'm3', 'after restart'])
      expect((await store.getMessage(before[0]!.id))?.text).toBe('m1')
    })

    it('continues after several restarts, concurrent appends included', async () => {
      await sendMany(store, ALICE, 2)
      await reopen()
      await Promise.all([send(store, ALICE, 'p'), send(store, ALICE, 'q')])
      await reopen()
      await send(store, ALICE, 'last')
      const seqs = (await store.history(ALICE)).map(r => r.seq)
      expect(seqs).toHaveLength(5)
      expect(new Set(seqs).size).toBe(5)
      expect(texts(await store.history(ALICE)).at(-1)).toBe('last')
    })

    it('does not reuse the seq of a queued introduction for the first message', async () => {
      const intro = { id: newId(), envelope: envelopeFor('intro') }
      const entry = await store.addContactWithIntro(contact(ALICE, 'alice'), intro)
      await reopen()
      expect(await store.pendingOutbox(ALICE)).toEqual([entry])

      const { record } = await send(store, ALICE, 'first message')
      expect.soft(record.seq).not.toBe(entry.seq)
      // Both envelopes still wait in the outbox, the intro first.
      expect.soft((await store.pendingOutbox(ALICE)).map(e => [e.id, new TextDecoder().decode(e.envelope)]))
        .toEqual([[intro.id, 'envelope:intro'], [record.id, 'envelope:first message']])
      // The intro's id still names no history message: marking it sent touches nothing.
      expect.soft(await store.getMessage(intro.id)).toBeUndefined()
      expect.soft(await store.markSent([intro.id])).toEqual([])
      // The intro's ack settles the intro only: the message still waits for its own ack.
      await store.settle([entry], 'delivered')
      expect.soft((await store.pendingOutbox(ALICE)).map(e => e.id)).toEqual([record.id])
      expect.soft((await store.getMessage(record.id))?.status).toBe('queued')
    })

    it('does not reuse the seq of an introduction settled before the restart', async () => {
      const intro = { id: newId(), envelope: envelopeFor('intro') }
      const entry = await store.addContactWithIntro(contact(ALICE, 'alice'), intro)
      await store.settle([entry], 'delivered')
      await reopen()
      const { record } = await send(store, ALICE, 'first message')
      expect.soft(record.seq).not.toBe(entry.seq)
      expect.soft(await store.getMessage(intro.id)).toBeUndefined()
    })
  })
}
