import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DecryptionFailedError, DuplicateMessageError, MAX_SKIP, MAX_SKIPPED_KEYS, ratchetDecrypt, ratchetEncrypt, TooManySkippedMessagesError
} from '../../src/ratchet/index.js'
import type { RatchetHeader, RatchetState } from '../../src/ratchet/index.js'
import { newSession, text, untext } from './session.js'

type Party = 'alice' | 'bob'
const other = (p: Party): Party => p === 'alice' ? 'bob' : 'alice'
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

interface Sent { id: number, header: RatchetHeader, ciphertext: Uint8Array, plaintext: string }

// How far the network may reorder: a delivery takes one of the first WINDOW messages in flight.
const WINDOW = 8
const party = fc.constantFrom<Party>('alice', 'bob')
const op = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), from: party, count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), to: party, pick: fc.nat({ max: WINDOW - 1 }), fate: fc.constantFrom('deliver', 'deliver', 'deliver', 'lose', 'duplicate') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), to: party, pick: fc.nat() }) }
)

describe('Double Ratchet properties', () => {
  it('every message that is not lost decrypts exactly once, whatever the order; duplicates fail', async () => {
    const { alice, bob, ad } = await newSession()
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 80 }), async ops => {
      // One session per run, started from the same fresh pair (states are values).
      const states: Record<Party, RatchetState> = { alice, bob }
      const inFlight: Record<Party, Sent[]> = { alice: [], bob: [] }
      const received: Record<Party, Sent[]> = { alice: [], bob: [] }
      const decrypted = new Map<number, number>()
      const lost = new Set<number>()
      let nextId = 0

      const deliver = (to: Party, msg: Sent): void => {
        const state = states[to]
        if (decrypted.has(msg.id)) {
          // A duplicate: refused, state untouched. It is named a duplicate while its chain is one
          // the session still remembers (the current one or one of the last few).
          const known = state.dhRemote != null && hex(state.dhRemote) === hex(msg.header.dh)
          const remembered = known || state.previousRemoteKeys.includes(hex(msg.header.dh))
          const before = structuredClone(state)
          expect(() => ratchetDecrypt(state, msg.header, msg.ciphertext, ad)).toThrow(remembered ? DuplicateMessageError : DecryptionFailedError)
          expect(state).toEqual(before)
          return
        }
        const out = ratchetDecrypt(state, msg.header, msg.ciphertext, ad)
        expect(untext(out.plaintext)).toBe(msg.plaintext)
        expect(Object.keys(out.state.skipped).length).toBeLessThanOrEqual(MAX_SKIPPED_KEYS)
        states[to] = out.state
        decrypted.set(msg.id, (decrypted.get(msg.id) ?? 0) + 1)
        received[to].push(msg)
      }

      for (const o of ops) {
        if (o.kind === 'send') {
          // The responder can't send before it has received (no sending chain yet).
          if (states[o.from].sendChainKey == null) continue
          for (let i = 0; i < o.count; i++) {
            const id = nextId++
            const plaintext = `${o.from} #${id}`
            const out = ratchetEncrypt(states[o.from], text(plaintext), ad)
            states[o.from] = out.state
            inFlight[other(o.from)].push({ id, header: out.header, ciphertext: out.ciphertext, plaintext })
          }
        } else if (o.kind === 'deliver') {
          const queue = inFlight[o.to]
          if (queue.length === 0) continue
          const [msg] = queue.splice(o.pick % Math.min(WINDOW, queue.length), 1) as [Sent]
          if (o.fate === 'lose' && !decrypted.has(msg.id)) {
            lost.add(msg.id)
            continue
          }
          deliver(o.to, msg)
          if (o.fate === 'duplicate') queue.push(msg)
        } else {
          const done = received[o.to]
          if (done.length > 0) deliver(o.to, done[o.pick % done.length] as Sent)
        }
      }
      // The network settles: everything still in flight arrives.
      for (const to of ['alice', 'bob'] as const) {
        for (const msg of inFlight[to].splice(0)) deliver(to, msg)
      }
      for (let id = 0; id < nextId; id++) expect(decrypted.get(id)).toBe(lost.has(id) ? undefined : 1)
    }), { numRuns: 150 })
  })

  it(`a gap of more than MAX_SKIP in either chain throws TooManySkippedMessagesError and changes nothing`, async () => {
    const gap = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: MAX_SKIP - 1, max: MAX_SKIP + 2 }))
    await fc.assert(fc.asyncProperty(gap, gap, async (oldChainGap, newChainGap) => {
      let { alice, bob, ad } = await newSession()
      const sendMany = (count: number): Array<{ header: RatchetHeader, ciphertext: Uint8Array }> => {
        const out = []
        for (let i = 0; i < count; i++) {
          const sent = ratchetEncrypt(alice, text(`m${i}`), ad)
          alice = sent.state
          out.push(sent)
        }
        return out
      }
      // Chain 1: Bob gets the first message only; the next oldChainGap never arrive.
      const first = sendMany(1 + oldChainGap)[0] as { header: RatchetHeader, ciphertext: Uint8Array }
      bob = ratchetDecrypt(bob, first.header, first.ciphertext, ad).state
      const reply = ratchetEncrypt(bob, text('reply'), ad)
      bob = reply.state
      alice = ratchetDecrypt(alice, reply.header, reply.ciphertext, ad).state
      // Chain 2: only the message after newChainGap lost ones arrives; its pn names chain 1's length.
      const last = sendMany(newChainGap + 1)[newChainGap] as { header: RatchetHeader, ciphertext: Uint8Array }
      if (oldChainGap > MAX_SKIP || newChainGap > MAX_SKIP) {
        const before = structuredClone(bob)
        expect(() => ratchetDecrypt(bob, last.header, last.ciphertext, ad)).toThrow(TooManySkippedMessagesError)
        expect(bob).toEqual(before)
      } else {
        const out = ratchetDecrypt(bob, last.header, last.ciphertext, ad)
        expect(untext(out.plaintext)).toBe(`m${newChainGap}`)
        expect(Object.keys(out.state.skipped)).toHaveLength(oldChainGap + newChainGap)
      }
    }), { numRuns: 12 })
  })

  it('a forged counter more than MAX_SKIP ahead is refused before any decryption', async () => {
    const { alice, bob, ad } = await newSession()
    const sent = ratchetEncrypt(alice, text('hi'), ad)
    await fc.assert(fc.property(fc.integer({ min: MAX_SKIP + 1, max: 0xffffffff }), n => {
      expect(() => ratchetDecrypt(bob, { ...sent.header, n }, sent.ciphertext, ad)).toThrow(TooManySkippedMessagesError)
      expect(() => ratchetDecrypt(bob, { ...sent.header, pn: n }, sent.ciphertext, ad)).toThrow(TooManySkippedMessagesError)
    }), { numRuns: 50 })
  })
})
