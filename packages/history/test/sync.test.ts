import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { HISTORY_PROTOCOL } from '../src/index.js'
import { cleanup, device, historyOf, idsOf, messages, write } from './helpers.js'
import type { Device } from './helpers.js'

const running: Device[] = []
async function start (own: Set<string>, tuning?: Parameters<typeof device>[1]): Promise<Device> {
  const d = await device(own, tuning)
  running.push(d)
  return d
}
afterEach(async () => { await Promise.all(running.splice(0).map(async d => { await d.node.stop() })) })
afterAll(cleanup)

async function connect (a: Device, b: Device): Promise<void> {
  await a.node.dial(b.node.getMultiaddrs())
}

describe('history sync between two devices of one user', () => {
  it('gives a new device the whole history, every field as it was, with progress', async () => {
    const own = new Set<string>()
    const [laptop, phone] = [await start(own), await start(own)]
    await write(laptop.store, messages(laptop.id, 1500))
    await connect(phone, laptop)
    const progress: Array<{ peer: string, fetched: number, total: number }> = []
    phone.history.addEventListener('history:progress', (evt) => progress.push(evt.detail))

    const started = Date.now()
    const result = await phone.history.sync(laptop.node.peerId)
    const elapsed = Date.now() - started

    expect(result).toMatchObject({ fetched: 1500, needed: 1500, known: 0, unavailable: 0, skipped: 0 })
    expect(await historyOf(phone.store, true)).toEqual(await historyOf(laptop.store, true))
    // One batch, written in time order: the phone's conversations read in time order.
    expect(await historyOf(phone.store)).toEqual(await historyOf(phone.store, true))
    expect(progress.at(-1)).toEqual({ peer: laptop.id, fetched: 1500, total: 1500 })
    expect(progress.every(p => p.total === 1500 && p.fetched <= 1500)).toBe(true)
    // At most 4 a second, and the last one.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1)
    expect(phone.history.metrics).toMatchObject({ fetched: 1500, synced: 1, invalid: 0 })
    expect(laptop.history.metrics).toMatchObject({ served: 1500, servedSyncs: 1, refused: 0, invalid: 0 })
  })

  it('moves only the difference the next time, both ways of history kept', async () => {
    const own = new Set<string>()
    const [laptop, phone] = [await start(own), await start(own)]
    await laptop.store.importHistory(messages(laptop.id, 3000))
    await connect(phone, laptop)
    const full = await phone.history.sync(laptop.node.peerId)

    const newer = messages(laptop.id, 10, 1_800_000_000_000)
    await write(laptop.store, newer)
    const mine = messages(phone.id, 5, 1_800_000_100_000)
    await write(phone.store, mine)
    const next = await phone.history.sync(laptop.node.peerId)

    expect(next).toMatchObject({ fetched: 10, needed: 10 })
    expect(next.bytes).toBeLessThan(full.bytes / 50)
    const ids = await idsOf(phone.store)
    expect(ids).toEqual([...await idsOf(laptop.store), ...mine.map(m => m.id)].sort())
    expect((await phone.history.sync(laptop.node.peerId)).fetched).toBe(0)
  })

  it('fetches only messages from `since` on', async () => {
    const own = new Set<string>()
    const [laptop, phone] = [await start(own), await start(own)]
    const list = messages(laptop.id, 400, 1_000_000, 1000)
    await laptop.store.importHistory(list)
    await connect(phone, laptop)
    const since = 1_000_000 + 300 * 1000
    const result = await phone.history.sync(laptop.node.peerId, { since })
    expect(result.fetched).toBe(100)
    expect(await idsOf(phone.store)).toEqual(list.filter(m => m.ts >= since).map(m => m.id).sort())
    // The rest comes with a sync of everything.
    expect((await phone.history.sync(laptop.node.peerId)).fetched).toBe(300)
  })

  it('refuses a peer that is not one of our devices, and does not pull from one', async () => {
    const [own, theirs] = [new Set<string>(), new Set<string>()]
    const laptop = await start(own)
    await write(laptop.store, messages(laptop.id, 20))
    const stranger = await start(theirs)
    // The stranger believes the laptop is its own: the laptop does not agree.
    theirs.add(laptop.id)
    await connect(stranger, laptop)
    await expect(stranger.history.sync(laptop.node.peerId)).rejects.toMatchObject({ name: 'HistorySyncRefusedError' })
    expect(laptop.history.metrics).toMatchObject({ refused: 1, served: 0 })
    expect(await idsOf(stranger.store)).toEqual([])
    // And the laptop does not pull from the stranger.
    await expect(laptop.history.sync(stranger.node.peerId)).rejects.toMatchObject({ name: 'HistorySyncRefusedError' })
    expect(stranger.history.metrics.refused).toBe(0)
  })

  it('resumes an interrupted sync without duplicates', async () => {
    const own = new Set<string>()
    const [laptop, phone] = [await start(own), await start(own, { batchSize: 500, window: 1 })]
    const list = messages(laptop.id, 20_000)
    for (let i = 0; i < list.length; i += 5000) await laptop.store.importHistory(list.slice(i, i + 5000))
    await connect(phone, laptop)
    const controller = new AbortController()
    let batches = 0
    phone.store.importHistory = new Proxy(phone.store.importHistory, {
      apply: async (target, self, args) => {
        const result = await Reflect.apply(target, self, args)
        if (++batches === 3) controller.abort()
        return result
      }
    })
    await expect(phone.history.sync(laptop.node.peerId, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    const kept = (await idsOf(phone.store)).length
    expect(kept).toBeGreaterThanOrEqual(1500)
    expect(kept).toBeLessThan(20_000)

    const resumed = await phone.history.sync(laptop.node.peerId)
    expect(resumed.fetched).toBe(20_000 - kept)
    expect(resumed.known).toBe(0)
    expect(await historyOf(phone.store, true)).toEqual(await historyOf(laptop.store, true))
    // Every record once.
    for (const records of Object.values(await historyOf(phone.store))) expect(new Set(records.map(r => r.id)).size).toBe(records.length)
  })

  it('says so when the other device goes away mid-sync, and keeps what came', async () => {
    const own = new Set<string>()
    const [laptop, phone] = [await start(own), await start(own, { batchSize: 500, window: 1 })]
    await laptop.store.importHistory(messages(laptop.id, 5000))
    await connect(phone, laptop)
    let batches = 0
    phone.store.importHistory = new Proxy(phone.store.importHistory, {
      apply: async (target, self, args) => {
        if (++batches === 2) await laptop.node.stop()
        return await Reflect.apply(target, self, args)
      }
    })
    await expect(phone.history.sync(laptop.node.peerId)).rejects.toMatchObject({ name: 'HistorySyncError' })
    expect((await idsOf(phone.store)).length).toBeGreaterThan(0)
  })

  it('serves over the protocol id it names', () => {
    expect(HISTORY_PROTOCOL).toBe('/kith/history/1.0.0')
  })
})
