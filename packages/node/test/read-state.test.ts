import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { memoryStore } from '@kith/store'
import { READ_TOPIC, ReadState } from '../src/read-state.js'
import type { KithStore, StoreOp } from '@kith/store'

const BOB = '12D3KooWBob'
type Handler = (from: string, payload: Uint8Array) => Promise<{ ops: StoreOp[] }>

/** One of our devices: a store, its read state, and the marks it sent to the other. */
interface Device { store: KithStore, reading: ReadState, sent: Uint8Array[], handler: () => Handler }

const stores: KithStore[] = []
afterEach(async () => { await Promise.all(stores.splice(0).map(async s => { await s.close() })) })

async function device (others = ['other']): Promise<Device> {
  const store = await memoryStore()
  stores.push(store)
  const sent: Uint8Array[] = []
  let handler: Handler | undefined
  const messaging: any = {
    handleControl: (topic: string, h: Handler) => { if (topic === READ_TOPIC) handler = h },
    sendControl: async (_device: string, _topic: string, payload: Uint8Array) => { sent.push(payload) }
  }
  const reading = new ReadState({ store, messaging: () => messaging, others: () => others, isOwnDevice: (peer) => peer === 'other', log: Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as any })
  await reading.start()
  return { store, reading, sent, handler: () => handler as Handler }
}

/** A message from bob reaching `d` now (after what it already has); its `ts` is bob's clock. */
async function arrives (d: Device, n: number, ts = 1000 + n): Promise<void> {
  await d.store.importHistory([{ id: n.toString(16).padStart(32, '0'), conversation: BOB, from: BOB, text: `m${n}`, ts, status: 'received' }])
}

/** Hand the marks `from` sent to `to`, as the control channel would. */
async function deliver (from: Device, to: Device): Promise<void> {
  for (const payload of from.sent.splice(0)) {
    const { ops } = await to.handler()('other', payload)
    if (ops.length > 0) await to.store.commit(ops)
  }
}

describe('read state across our devices', () => {
  it('a mark read on one device reads the same messages on another that got them in another order', async () => {
    const a = await device()
    const b = await device()
    for (const n of [1, 2, 3]) await arrives(a, n)
    for (const n of [3, 1, 2]) await arrives(b, n) // message 2 came last here: the newest on a is not the newest on b
    await a.reading.markRead(BOB)
    await deliver(a, b)
    expect(await b.reading.unread(BOB)).toBe(0)
    await arrives(b, 4)
    expect(await b.reading.unread(BOB)).toBe(1)
  })

  it('messages read elsewhere that reach this device after the mark are read when they arrive; later ones are not', async () => {
    const a = await device()
    const b = await device()
    for (const n of [1, 2, 3]) await arrives(a, n)
    await arrives(b, 1)
    await a.reading.markRead(BOB)
    await deliver(a, b)
    expect(await b.reading.unread(BOB)).toBe(0)
    await arrives(b, 3)
    await arrives(b, 2)
    expect(await b.reading.unread(BOB)).toBe(0)
    await arrives(b, 5)
    expect(await b.reading.unread(BOB)).toBe(1)
  })

  it('marks only move forward, whatever order they come in, and a contact\'s timestamps do not count', async () => {
    const a = await device()
    const b = await device()
    // Bob's clock jumps about: arrival order is what counts.
    for (const [n, ts] of [[1, 9e12], [2, 5], [3, 7e12]] as const) { await arrives(a, n, ts); await arrives(b, n, ts) }
    await a.reading.markRead(BOB)
    const early = [...a.sent]
    await b.reading.markRead(BOB)
    await arrives(a, 4, 1)
    await arrives(b, 4, 1)
    await a.reading.markRead(BOB)
    await deliver(a, b)
    expect(await b.reading.unread(BOB)).toBe(0)
    // An old mark arriving late changes nothing.
    for (const payload of early) expect((await b.handler()('other', payload)).ops).toEqual([])
    expect(await b.reading.unread(BOB)).toBe(0)
  })

  it('refuses marks from others and ignores malformed ones', async () => {
    const b = await device()
    await arrives(b, 1)
    const payload = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
    await expect(b.handler()('stranger', payload({ [BOB]: { upTo: 1, ids: [] } }))).rejects.toThrow(/only from our own devices/)
    for (const bad of [{ upTo: -1, ids: [] }, { upTo: 1, ids: ['not hex'] }, { upTo: 1, ids: Array(17).fill('0'.repeat(32)) }, 5, null]) {
      expect((await b.handler()('other', payload({ [BOB]: bad }))).ops).toEqual([])
    }
    expect(await b.reading.unread(BOB)).toBe(1)
  })

  it('takes any payload from our own device without harm: what is malformed is dropped, and unread never rises', async () => {
    const b = await device()
    for (const n of [1, 2, 3]) await arrives(b, n)
    const ids = [1, 2, 3, 9].map(n => n.toString(16).padStart(32, '0'))
    const mark = fc.record({ upTo: fc.oneof(fc.integer({ min: -5, max: Number.MAX_SAFE_INTEGER }), fc.double()), ids: fc.array(fc.oneof(fc.constantFrom(...ids), fc.string()), { maxLength: 20 }) })
    const payload = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(BOB, '', 'x'.repeat(200), 'other'), fc.oneof(mark, fc.jsonValue())))
    await fc.assert(fc.asyncProperty(fc.oneof(payload.map(p => new TextEncoder().encode(JSON.stringify(p) ?? 'null')), fc.uint8Array({ maxLength: 64 })), async (bytes) => {
      const before = await b.reading.unread(BOB)
      try {
        const { ops } = await b.handler()('other', bytes)
        if (ops.length > 0) await b.store.commit(ops)
      } catch (err: any) {
        // Refused whole (the control channel counts it as invalid): not JSON, or not an object.
        expect(err.name === 'SyntaxError' || /malformed/.test(err.message)).toBe(true)
      }
      expect(await b.reading.unread(BOB)).toBeLessThanOrEqual(before)
    }), { numRuns: 300 })
  })

  it('reads a mark stored as a sender timestamp by an earlier version', async () => {
    const b = await device()
    for (const n of [1, 2, 3]) await arrives(b, n)
    await b.store.commit([b.store.putSecret(`read/${BOB}`, 1002)])
    expect(await b.reading.unread(BOB)).toBe(1)
    await b.reading.markRead(BOB)
    expect(await b.reading.unread(BOB)).toBe(0)
  })
})
