/**
 * A compliance suite for KithStore, in the abstract-level style: every backing database runs
 * the same tests. `open` gives a fresh, empty store; `reopen` (when the backend is durable)
 * closes it and opens the same database again, returning the new handle.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KithStore, MessageRecord } from '@kith/store'
import type { StoreHarness } from './helpers.js'
export type { StoreHarness }
import { reopenSuite } from './compliance-reopen.js'
import { ALICE, BOB, ME, contact, envelopeFor, incoming, newId, outgoing, send, sendMany, texts } from './helpers.js'

/** What the backend supports beyond the basics; `reopen` runs the durability tests. */
export interface StoreFeatures { reopen?: boolean }

export function storeSuite (name: string, open: () => Promise<StoreHarness>, features: StoreFeatures = {}): void {
  describe(`KithStore compliance: ${name}`, () => {
    let h: StoreHarness
    let store: KithStore
    beforeEach(async () => { h = await open(); store = h.store })
    afterEach(async () => { await h.cleanup() })

    describe('appendOutgoing', () => {
      it('writes a queued record and an outbox entry holding the exact envelope', async () => {
        const message = outgoing(ALICE, 'hello')
        const envelope = Uint8Array.from({ length: 256 }, (_, i) => i)
        const { record, entry } = await store.appendOutgoing(message, envelope)
        expect(record).toMatchObject({ ...message, status: 'queued' })
        expect(await store.getMessage(message.id)).toEqual(record)
        expect(entry).toEqual({ id: message.id, peer: ALICE, seq: record.seq, envelope })
        expect(await store.pendingOutbox(ALICE)).toEqual([entry])
      })

      it('assigns increasing seqs per conversation, independently of other conversations', async () => {
        const a1 = (await send(store, ALICE, 'a1')).record
        const b1 = (await send(store, BOB, 'b1')).record
        const a2 = (await send(store, ALICE, 'a2')).record
        const b2 = (await send(store, BOB, 'b2')).record
        const a3 = (await send(store, ALICE, 'a3')).record
        expect(a1.seq).toBeLessThan(a2.seq)
        expect(a2.seq).toBeLessThan(a3.seq)
        expect(b1.seq).toBeLessThan(b2.seq)
        // Bob's conversation starts where Alice's did: it does not share her counter.
        expect(b1.seq).toBe(a1.seq)
        expect(texts(await store.history(ALICE))).toEqual(['a1', 'a2', 'a3'])
        expect(texts(await store.history(BOB))).toEqual(['b1', 'b2'])
      })

      it('keeps conversations whose ids share a prefix apart', async () => {
        await send(store, ALICE, 'short')
        await send(store, ALICE + '1', 'long')
        expect(texts(await store.history(ALICE))).toEqual(['short'])
        expect((await store.pendingOutbox(ALICE)).map(e => e.peer)).toEqual([ALICE])
      })

      it('gives 50 concurrent appends 50 distinct seqs, all in history and the outbox', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => await send(store, ALICE, `c${i}`)))
        const seqs = results.map(r => r.record.seq)
        expect(new Set(seqs).size).toBe(50)
        const history = await store.history(ALICE)
        expect(history).toHaveLength(50)
        expect(history.map(r => r.seq)).toEqual([...seqs].sort((a, b) => a - b))
        const outbox = await store.pendingOutbox(ALICE)
        expect(outbox.map(e => e.seq)).toEqual(history.map(r => r.seq))
        expect(outbox.map(e => e.id)).toEqual(history.map(r => r.id))
      })
    })

    describe('history', () => {
      it('returns messages oldest first, and [] for an unknown conversation', async () => {
        await sendMany(store, ALICE, 5)
        const history = await store.history(ALICE)
        expect(texts(history)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5'])
        for (let i = 1; i < history.length; i++) expect(history[i]!.seq).toBeGreaterThan(history[i - 1]!.seq)
        expect(await store.history(BOB)).toEqual([])
      })

      it('with limit, returns the latest N, still oldest first', async () => {
        await sendMany(store, ALICE, 8)
        expect(texts(await store.history(ALICE, { limit: 3 }))).toEqual(['m6', 'm7', 'm8'])
        expect(texts(await store.history(ALICE, { limit: 100 }))).toHaveLength(8)
      })

      it('pages backwards with before: a 25-message walk in pages of 10 has no gap or overlap', async () => {
        const sent = await sendMany(store, ALICE, 25)
        const pages: MessageRecord[][] = []
        let before: number | undefined
        for (;;) {
          const page = await store.history(ALICE, before == null ? { limit: 10 } : { limit: 10, before })
          if (page.length === 0) break
          pages.push(page)
          before = page[0]!.seq
          expect(pages.length).toBeLessThan(10)
        }
        expect(pages.map(p => p.length)).toEqual([10, 10, 5])
        expect(texts(pages.reverse().flat())).toEqual(texts(sent))
      })

      it('includes incoming and outgoing messages in the order they were written', async () => {
        await send(store, ALICE, 'out1')
        await store.appendIncoming(incoming(ALICE, 'in1'))
        await send(store, ALICE, 'out2')
        const history = await store.history(ALICE)
        expect(history.map(r => [r.text, r.status])).toEqual([['out1', 'queued'], ['in1', 'received'], ['out2', 'queued']])
      })
    })

    describe('appendIncoming', () => {
      it('stores a message once: the same id again returns undefined', async () => {
        const message = incoming(ALICE, 'hi from Alice')
        const stored = await store.appendIncoming(message)
        expect(stored).toMatchObject({ ...message, status: 'received' })
        expect(await store.appendIncoming({ ...message, text: 'again' })).toBeUndefined()
        expect(texts(await store.history(ALICE))).toEqual(['hi from Alice'])
        expect(await store.pendingOutbox()).toEqual([])
      })

      it('stores one of two racing copies', async () => {
        const message = incoming(ALICE, 'raced')
        const results = await Promise.all([store.appendIncoming(message), store.appendIncoming({ ...message })])
        expect(results.filter(r => r != null)).toHaveLength(1)
        expect(texts(await store.history(ALICE))).toEqual(['raced'])
      })
    })

    describe('status changes', () => {
      it('markSent moves queued to sent, once', async () => {
        const { record } = await send(store, ALICE, 'x')
        const changed = await store.markSent([record.id])
        expect(changed.map(r => [r.id, r.status])).toEqual([[record.id, 'sent']])
        expect((await store.getMessage(record.id))?.status).toBe('sent')
        expect(await store.markSent([record.id, newId()])).toEqual([])
        expect(await store.pendingOutbox(ALICE)).toHaveLength(1)
      })

      for (const status of ['delivered', 'refused'] as const) {
        it(`settle(${status}) sets the status and removes only that entry from the outbox`, async () => {
          const first = await send(store, ALICE, 'first')
          const second = await send(store, ALICE, 'second')
          const changed = await store.settle([first.entry], status)
          expect(changed.map(r => [r.id, r.status])).toEqual([[first.record.id, status]])
          expect((await store.getMessage(first.record.id))?.status).toBe(status)
          expect((await store.getMessage(second.record.id))?.status).toBe('queued')
          expect((await store.pendingOutbox(ALICE)).map(e => e.id)).toEqual([second.record.id])
        })
      }

      it('never moves backwards: markSent after delivered leaves delivered', async () => {
        const { record, entry } = await send(store, ALICE, 'x')
        await store.settle([entry], 'delivered')
        expect(await store.markSent([record.id])).toEqual([])
        expect((await store.getMessage(record.id))?.status).toBe('delivered')
      })

      it('never moves backwards when markSent and settle race, in either order', async () => {
        const a = await send(store, ALICE, 'a')
        const b = await send(store, ALICE, 'b')
        await Promise.all([store.markSent([a.record.id]), store.settle([a.entry], 'delivered')])
        await Promise.all([store.settle([b.entry], 'refused'), store.markSent([b.record.id])])
        expect((await store.getMessage(a.record.id))?.status).toBe('delivered')
        expect((await store.getMessage(b.record.id))?.status).toBe('refused')
        expect(await store.pendingOutbox(ALICE)).toEqual([])
      })
    })

    describe('pendingOutbox', () => {
      it('lists each peer’s entries in seq order, and all of them without a peer', async () => {
        const a = [await send(store, ALICE, 'a1'), await send(store, BOB, 'b1'), await send(store, ALICE, 'a2'), await send(store, ALICE, 'a3')]
        await store.settle([a[2]!.entry], 'delivered')
        const forAlice = await store.pendingOutbox(ALICE)
        expect(forAlice.map(e => e.id)).toEqual([a[0]!.record.id, a[3]!.record.id])
        expect(forAlice.map(e => new TextDecoder().decode(e.envelope))).toEqual(['envelope:a1', 'envelope:a3'])
        expect((await store.pendingOutbox(BOB)).map(e => e.id)).toEqual([a[1]!.record.id])
        const all = await store.pendingOutbox()
        expect(all).toHaveLength(3)
        expect(all.filter(e => e.peer === ALICE).map(e => e.seq)).toEqual(forAlice.map(e => e.seq))
      })
    })

    describe('contacts and invites', () => {
      it('put, get, list, and find by name or peer id', async () => {
        await store.putContact(contact(ALICE, 'alice'))
        await store.putContact(contact(BOB, 'bob'))
        expect(await store.getContact(ALICE)).toEqual(contact(ALICE, 'alice'))
        expect(await store.getContact(ME)).toBeUndefined()
        expect((await store.listContacts()).map(c => c.name).sort()).toEqual(['alice', 'bob'])
        expect((await store.findContact('bob'))?.peerId).toBe(BOB)
        expect((await store.findContact(ALICE))?.name).toBe('alice')
        expect(await store.findContact('carol')).toBeUndefined()
      })

      it('putContact replaces a contact with the same peer id', async () => {
        await store.putContact(contact(ALICE, 'alice'))
        await store.putContact(contact(ALICE, 'ally'))
        expect(await store.listContacts()).toHaveLength(1)
        expect((await store.findContact('ally'))?.peerId).toBe(ALICE)
        expect(await store.findContact('alice')).toBeUndefined()
      })

      it('redeemInvite spends the token and adds the contact', async () => {
        const token = newId()
        const other = newId()
        await store.putInvite({ token, expires: 1_800_000_000_000 })
        await store.putInvite({ token: other, expires: 1_800_000_000_000 })
        expect(await store.getInvite(token)).toEqual({ token, expires: 1_800_000_000_000 })
        expect(await store.getInvite(newId())).toBeUndefined()
        await store.redeemInvite(token, contact(BOB, 'bob'))
        expect(await store.getInvite(token)).toBeUndefined()
        expect(await store.getInvite(other)).toBeDefined()
        expect(await store.getContact(BOB)).toEqual(contact(BOB, 'bob'))
      })

      it('addContactWithIntro queues an intro that is not in history, drains first, and settles away', async () => {
        const intro = { id: newId(), envelope: envelopeFor('intro') }
        const entry = await store.addContactWithIntro(contact(ALICE, 'alice'), intro)
        expect(entry).toMatchObject({ id: intro.id, peer: ALICE, envelope: intro.envelope })
        expect(await store.getContact(ALICE)).toEqual(contact(ALICE, 'alice'))
        expect(await store.pendingOutbox(ALICE)).toEqual([entry])
        expect(await store.history(ALICE)).toEqual([])
        expect(await store.getMessage(intro.id)).toBeUndefined()

        const { record } = await send(store, ALICE, 'first message')
        expect((await store.pendingOutbox(ALICE)).map(e => e.id)).toEqual([intro.id, record.id])
        expect(await store.settle([entry], 'delivered')).toEqual([])
        expect((await store.pendingOutbox(ALICE)).map(e => e.id)).toEqual([record.id])
        expect(await store.history(ALICE)).toEqual([record])
      })
    })

    if (features.reopen === true) reopenSuite(open)
  })
}
