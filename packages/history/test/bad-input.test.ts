import { randomBytes } from 'node:crypto'
import { MemorySyncStorage, Reconciler } from '@kith/sync'
import { lpStream } from '@libp2p/utils'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { HISTORY_LIMITS, HISTORY_PROTOCOL } from '../src/index.js'
import { FrameKind, HistoryFrame, HistoryRecord, HistoryStatus } from '../src/proto/history.js'
import { bareNode, cleanup, device, idsOf, messages } from './helpers.js'
import type { Device } from './helpers.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const running: Array<{ node: Libp2p<any> }> = []
afterEach(async () => { await Promise.all(running.splice(0).map(async d => { await d.node.stop() })) })
afterAll(cleanup)

async function start (own: Set<string>): Promise<Device> {
  const d = await device(own)
  running.push(d)
  return d
}

async function fake (services: Record<string, any> = {}): Promise<Libp2p<any>> {
  const node = await bareNode(services)
  running.push({ node })
  return node
}

const frame = (f: Partial<HistoryFrame>): Uint8Array => HistoryFrame.encode(f)

function varint (value: number): Uint8Array {
  const out: number[] = []
  for (; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80)
  out.push(value)
  return new Uint8Array(out)
}

/** Read until the stream ends; true when it ended with an error (reset) rather than a clean close. */
async function endedByError (stream: Stream): Promise<boolean> {
  const lp = lpStream(stream, { maxDataLength: HISTORY_LIMITS.maxFrameBytes })
  try {
    while (true) await lp.read({ signal: AbortSignal.timeout(10_000) })
  } catch (err: any) {
    return err?.name !== 'UnexpectedEOFError'
  }
}

describe('a server given bad frames by one of our devices', () => {
  const cases: Array<[string, (lp: ReturnType<typeof lpStream>, stream: Stream) => Promise<void>]> = [
    ['bytes that are not a frame', async (lp) => { await lp.write(randomBytes(200)) }],
    ['a length over the frame limit', async (_lp, stream) => {
      stream.send(varint(HISTORY_LIMITS.maxFrameBytes + 1))
      stream.send(new Uint8Array(64 * 1024))
    }],
    ['a WANT before HELLO', async (lp) => { await lp.write(frame({ kind: FrameKind.WANT, ids: [randomBytes(16)] })) }],
    ['another version', async (lp) => { await lp.write(frame({ kind: FrameKind.HELLO, version: 2, recon: new Reconciler(new MemorySyncStorage([])).initiate() as Uint8Array<ArrayBuffer> })) }],
    ['an unknown field', async (lp) => {
      const hello = frame({ kind: FrameKind.HELLO, version: 1, recon: new Reconciler(new MemorySyncStorage([])).initiate() as Uint8Array<ArrayBuffer> })
      await lp.write(new Uint8Array([...hello, 0x78, 0x01])) // field 15, varint 1
    }],
    ['a broken reconciliation message', async (lp) => { await lp.write(frame({ kind: FrameKind.HELLO, version: 1, recon: randomBytes(40) })) }],
    ['a WANT of a 15-byte id', async (lp) => {
      await lp.write(frame({ kind: FrameKind.HELLO, version: 1, recon: new Reconciler(new MemorySyncStorage([])).initiate() as Uint8Array<ArrayBuffer> }))
      await lp.read()
      await lp.write(frame({ kind: FrameKind.WANT, ids: [randomBytes(15)] }))
    }],
    ['a WANT of too many ids', async (lp) => {
      await lp.write(frame({ kind: FrameKind.HELLO, version: 1, recon: new Reconciler(new MemorySyncStorage([])).initiate() as Uint8Array<ArrayBuffer> }))
      await lp.read()
      await lp.write(frame({ kind: FrameKind.WANT, ids: Array.from({ length: HISTORY_LIMITS.maxWantIds + 1 }, () => randomBytes(16)) }))
    }]
  ]

  it('ends each stream with an error, counts it, and keeps serving', async () => {
    const own = new Set<string>()
    const laptop = await start(own)
    await laptop.store.importHistory(messages(laptop.id, 300))
    const intruder = await fake()
    own.add(intruder.peerId.toString())
    for (const [what, send] of cases) {
      const stream = await intruder.dialProtocol(laptop.node.getMultiaddrs(), HISTORY_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: HISTORY_LIMITS.maxFrameBytes })
      await send(lp, stream)
      expect(await endedByError(stream), what).toBe(true)
    }
    expect(laptop.history.metrics.invalid).toBe(cases.length)
    expect(laptop.history.metrics.served).toBe(0)

    const phone = await start(own)
    await phone.node.dial(laptop.node.getMultiaddrs())
    expect((await phone.history.sync(laptop.node.peerId)).fetched).toBe(300)
  })
})

/**
 * A device that reconciles honestly over `items`, then answers each WANT with what `answer`
 * makes of the ids asked for.
 */
async function fakeResponder (items: Array<{ ts: number, id: Uint8Array }>, answer: (ids: Uint8Array[]) => Uint8Array): Promise<Libp2p<any>> {
  const node = await fake()
  await node.handle(HISTORY_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: HISTORY_LIMITS.maxFrameBytes })
    const reconciler = new Reconciler(new MemorySyncStorage(items), { maxMessageBytes: HISTORY_LIMITS.maxReconBytes })
    try {
      for (let f = HistoryFrame.decode(await lp.read()); ; f = HistoryFrame.decode(await lp.read())) {
        if (f.kind === FrameKind.HELLO || f.kind === FrameKind.RECON) await lp.write(frame({ kind: FrameKind.RECON, recon: reconciler.reconcile(f.recon).reply as Uint8Array<ArrayBuffer> }))
        else if (f.kind === FrameKind.WANT) await lp.write(answer(f.ids))
        else break
      }
      await stream.close()
    } catch (err: any) {
      stream.abort(err)
    }
  })
  return node
}

const NAMES = ['12D3KooWContactAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']
function record (id: Uint8Array, fields: Partial<HistoryRecord> = {}): Uint8Array {
  return HistoryRecord.encode({ id: id as Uint8Array<ArrayBuffer>, conversation: 0, from: 0, text: utf8('hello'), ts: 1_700_000_000_000, status: HistoryStatus.RECEIVED, ...fields })
}
const utf8 = (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(text))
const items = Array.from({ length: 50 }, (_, i) => ({ ts: 1_700_000_000_000 + i, id: randomBytes(16) }))

describe('a requester given bad answers by one of our devices', () => {
  async function syncFrom (answer: (ids: Uint8Array[]) => Uint8Array): Promise<{ phone: Device, result: Promise<unknown> }> {
    const own = new Set<string>()
    const phone = await start(own)
    const liar = await fakeResponder(items, answer)
    own.add(liar.peerId.toString())
    await phone.node.dial(liar.getMultiaddrs())
    return { phone, result: phone.history.sync(liar.peerId) }
  }

  it('refuses a record that was not asked for, and writes nothing of that frame', async () => {
    const { phone, result } = await syncFrom((ids) => frame({ kind: FrameKind.RECORDS, names: NAMES, answered: ids.length, records: [record(ids[0] as Uint8Array), record(randomBytes(16))] as Array<Uint8Array<ArrayBuffer>> }))
    await expect(result).rejects.toMatchObject({ name: 'HistorySyncError', message: expect.stringContaining('not asked for') })
    expect(phone.history.metrics.invalid).toBe(1)
    expect(await idsOf(phone.store)).toEqual([])
  })

  it('refuses the same record twice', async () => {
    const { result } = await syncFrom((ids) => frame({ kind: FrameKind.RECORDS, names: NAMES, answered: ids.length, records: [record(ids[0] as Uint8Array), record(ids[0] as Uint8Array)] as Array<Uint8Array<ArrayBuffer>> }))
    await expect(result).rejects.toMatchObject({ name: 'HistorySyncError' })
  })

  it('refuses an answer to more ids than were asked for', async () => {
    const { result } = await syncFrom((ids) => frame({ kind: FrameKind.RECORDS, names: NAMES, answered: ids.length + 1, records: [] }))
    await expect(result).rejects.toMatchObject({ name: 'HistorySyncError' })
  })

  it('leaves out records whose fields are out of their limits or not UTF-8, counts them, and writes the rest', async () => {
    const { phone, result } = await syncFrom((ids) => frame({
      kind: FrameKind.RECORDS,
      names: NAMES,
      answered: ids.length,
      records: ids.map((id, i) => i === 0
        ? record(id, { text: utf8('x'.repeat(HISTORY_LIMITS.maxTextBytes + 1)) })
        : i === 1 ? record(id, { conversation: 7 }) : i === 2 ? record(id, { fileHash: new Uint8Array(32) }) : i === 3 ? record(id, { text: new Uint8Array([0x68, 0xff, 0x69]) }) : record(id)) as Array<Uint8Array<ArrayBuffer>>
    }))
    await expect(result).resolves.toMatchObject({ fetched: 46, skipped: 4, needed: 50 })
    expect(phone.history.metrics.invalid).toBe(4)
    expect((await idsOf(phone.store)).length).toBe(46)
  })

  it('ends the sync on a malformed or oversized frame', async () => {
    await expect((await syncFrom(() => randomBytes(100))).result).rejects.toMatchObject({ name: 'HistorySyncError' })
    await expect((await syncFrom(() => frame({ kind: FrameKind.RECORDS, names: ['bad!name'], answered: 1 }))).result).rejects.toMatchObject({ name: 'HistorySyncError' })
    const huge = frame({ kind: FrameKind.RECORDS, names: NAMES, answered: 1, records: Array.from({ length: 300 }, () => record(randomBytes(16), { text: utf8('y'.repeat(15_000)) })) as Array<Uint8Array<ArrayBuffer>> })
    expect(huge.length).toBeGreaterThan(HISTORY_LIMITS.maxFrameBytes)
    await expect((await syncFrom(() => huge)).result).rejects.toMatchObject({ name: 'HistorySyncError', message: expect.stringContaining('too large') })
  })
})
