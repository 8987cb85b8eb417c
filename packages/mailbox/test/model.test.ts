import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MemoryLevel } from 'memory-level'
import { MailboxStore } from '../src/index.js'
import { envelopeFor, randomPeer } from './helpers.js'
import type { DepositResult, Depositor } from '../src/index.js'
import type { Peer } from './helpers.js'

const TTL = 1000
const LIMITS = { maxEnvelopeBytes: 1200, perRecipient: { envelopes: 5, bytes: 4000 }, perDepositor: { envelopes: 6, bytes: 1_000_000 }, depositorShare: 0.6, strangersShare: 0.8, ttlMs: TTL }
/** What those shares come to: one depositor's part of a recipient's mailbox, and all strangers' part. */
const SHARE = { envelopes: 3, bytes: 2400 }
const STRANGERS = { envelopes: 4, bytes: 3200 }
/** Depositors 0 and 1 are known to the mailbox's node, 2 and 3 are strangers. */
const isStranger = (d: number): boolean => d >= 2

interface Held { id: string, depositor: number, size: number, at: number }

/** What the store should hold, kept the simplest way. */
class Model {
  live = new Map<number, Held[]>()
  acked = new Map<number, Map<string, number>>()

  deposit (depositor: number, items: Array<{ r: number, id: string, size: number }>, now: number): DepositResult[] {
    const seen = new Set<string>()
    return items.map(({ r, id, size }) => {
      if (size > LIMITS.maxEnvelopeBytes) return 'oversized'
      const held = this.live.get(r)
      if (held == null) return 'unknown-recipient'
      if (held.some(h => h.id === id) || this.acked.get(r)?.has(id) === true || seen.has(`${r}/${id}`)) return 'duplicate'
      const mine = [...this.live.values()].flat().filter(h => h.depositor === depositor)
      const over = (list: Held[], quota: { envelopes: number, bytes: number }): boolean => list.length + 1 > quota.envelopes || list.reduce((s, h) => s + h.size, 0) + size > quota.bytes
      if (over(held, LIMITS.perRecipient)) return 'quota'
      if (isStranger(depositor) && over(held.filter(h => isStranger(h.depositor)), STRANGERS)) return 'quota-strangers'
      if (over(held.filter(h => h.depositor === depositor), SHARE)) return 'quota-depositor'
      if (mine.length + 1 > LIMITS.perDepositor.envelopes) return 'quota'
      seen.add(`${r}/${id}`)
      held.push({ id, depositor, size, at: now })
      return 'stored'
    })
  }

  ack (r: number, ids: string[], now: number): number {
    const held = this.live.get(r)
    if (held == null) return 0
    const gone = held.filter(h => ids.includes(h.id))
    this.live.set(r, held.filter(h => !ids.includes(h.id)))
    for (const h of gone) this.acked.get(r)?.set(h.id, now)
    return gone.length
  }

  expire (now: number): number {
    let count = 0
    for (const [r, held] of this.live) {
      const kept = held.filter(h => h.at > now - TTL)
      count += held.length - kept.length
      this.live.set(r, kept)
      for (const [id, at] of this.acked.get(r) ?? []) if (at <= now - TTL) this.acked.get(r)?.delete(id)
    }
    return count
  }

  visible (r: number, now: number): string[] {
    return (this.live.get(r) ?? []).filter(h => h.at > now - TTL).map(h => h.id)
  }
}

// Round sizes and times, so that quotas fill exactly and envelopes expire on the boundary.
const op = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('register' as const), r: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unregister' as const), r: fc.nat(2) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deposit' as const), d: fc.nat(3), items: fc.array(fc.record({ r: fc.nat(3), id: fc.nat(19), size: fc.constantFrom(10, 300, 600, 1000, 1300) }), { maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ack' as const), r: fc.nat(2), ids: fc.array(fc.nat(19), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(0, 100, 250, 500, 1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const) }) }
)

describe('MailboxStore against a model', () => {
  it('agrees with the model on every result, listing and counter, and stays consistent', async () => {
    const peers = Array.from({ length: 4 }, () => randomPeer()) // the 4th is never registered
    const depositors = Array.from({ length: 4 }, (_, d) => ({ id: randomPeer().id, stranger: isStranger(d) }))
    const ids = Array.from({ length: 20 }, (_, i) => new Uint8Array(16).fill(i + 1))
    const hex = ids.map(id => Buffer.from(id).toString('hex'))
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
      const db = new MemoryLevel<string, any>()
      let store = new MailboxStore(db, LIMITS)
      await store.open()
      const model = new Model()
      let now = 10_000
      for (const o of ops) {
        switch (o.kind) {
          case 'register':
            await store.register((peers[o.r] as Peer).id, now)
            if (!model.live.has(o.r)) { model.live.set(o.r, []); model.acked.set(o.r, new Map()) }
            break
          case 'unregister':
            await store.unregister((peers[o.r] as Peer).id)
            model.live.delete(o.r)
            model.acked.delete(o.r)
            break
          case 'deposit': {
            const envelopes = o.items.map(it => envelopeFor(peers[it.r] as Peer, { id: ids[it.id] as Uint8Array<ArrayBuffer>, bodyBytes: it.size, timestamp: 1n }))
            const results = await store.deposit(depositors[o.d] as Depositor, envelopes, now)
            const expected = model.deposit(o.d, o.items.map((it, k) => ({ r: it.r, id: hex[it.id] as string, size: (envelopes[k] as Uint8Array).length })), now)
            expect(results).toEqual(expected)
            break
          }
          case 'ack':
            expect(await store.ack((peers[o.r] as Peer).id, o.ids.map(i => hex[i] as string), now)).toBe(model.ack(o.r, o.ids.map(i => hex[i] as string), now))
            break
          case 'tick':
            now += o.ms
            break
          case 'expire':
            expect(await store.expire(now)).toBe(model.expire(now))
            break
        }
        for (const [r, peer] of peers.entries()) {
          expect((await store.fetch(peer.id, { limit: 100, now })).map(e => e.id)).toEqual(model.visible(r, now))
        }
        for (const [d, depositor] of depositors.entries()) {
          expect(store.depositorUsage(depositor).envelopes).toBe([...model.live.values()].flat().filter(h => h.depositor === d).length)
        }
      }
      expect(await store.check()).toEqual([])
      const stats = store.stats()
      await store.close()
      store = new MailboxStore(db, LIMITS)
      await store.open()
      expect(store.stats()).toEqual(stats)
      expect(await store.check()).toEqual([])
    }), { numRuns: 150 })
  })
})
