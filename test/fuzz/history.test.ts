import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { HISTORY_LIMITS, HISTORY_PROTOCOL, historySync } from '@kith/history'
import { memoryStore } from '@kith/store'
import { MemorySyncStorage, Reconciler } from '@kith/sync'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { FrameKind, HistoryFrame, HistoryRecord, decodeFrame, importedOf } from '../../packages/history/src/wire.js'
import { RECORD_FIELDS, isCanonical } from '../../packages/history/src/strict.js'
import { HistoryStatus } from '../../packages/history/src/proto/history.js'
import { SIZE_WORDS, bytes, huge, inputs, params, rejectsOnly, throwsOnly, timeoutFor } from './helpers.js'
import { exchange, firstFrame, streamInput } from './net.js'
import type { HistorySync } from '@kith/history'
import type { ImportedMessage, KithStore } from '@kith/store'
import type { Libp2p } from '@libp2p/interface'

// /kith/history, between a user's own devices: frames a device serves to (and reads from)
// another of its devices, and the records in them. Only our own devices get past the door,
// so the fuzzer is one of them.

const MAX_FRAME = HISTORY_LIMITS.maxFrameBytes
const NAMES = ['12D3KooWAlice', '12D3KooWBob', 'group-1']

const record = fc.record({
  id: fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), bytes(20)),
  conversation: fc.nat({ max: 3 }),
  from: fc.nat({ max: 3 }),
  text: fc.oneof(fc.string({ maxLength: 40 }).map(s => Buffer.from(s)), bytes(40)),
  ts: fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }), fc.constant(1_700_000_000_000)),
  status: fc.constantFrom(HistoryStatus.QUEUED, HistoryStatus.DELIVERED, HistoryStatus.RECEIVED, HistoryStatus.UNKNOWN_STATUS),
  mailboxes: fc.option(fc.nat({ max: 10 }), { nil: undefined }),
  epoch: fc.option(fc.nat(), { nil: undefined }),
  signature: fc.option(bytes(80), { nil: undefined }),
  fileHash: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
  fileKey: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
  fileSize: fc.option(fc.nat(), { nil: undefined }),
  fileName: fc.option(bytes(20), { nil: undefined }),
  fileType: fc.option(bytes(10), { nil: undefined })
}).map(r => HistoryRecord.encode(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as any))

const recon = fc.constant(null).map(() => new Reconciler(new MemorySyncStorage([])).initiate())
const frame = fc.oneof(
  fc.record({ kind: fc.constant(FrameKind.HELLO), version: fc.constantFrom(1, 1, 2), since: fc.nat(), recon: fc.oneof(recon, bytes(60)) }),
  fc.record({ kind: fc.constant(FrameKind.RECON), recon: fc.oneof(recon, bytes(60)) }),
  fc.record({ kind: fc.constant(FrameKind.WANT), ids: fc.array(fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), bytes(20)), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant(FrameKind.RECORDS), names: fc.constant(NAMES), records: fc.array(record, { maxLength: 3 }), answered: fc.nat({ max: 4 }) }),
  fc.record({ kind: fc.constantFrom(FrameKind.END, FrameKind.REFUSED, FrameKind.UNKNOWN_KIND) })
).map(f => HistoryFrame.encode(f as Partial<HistoryFrame>))

interface Device { node: Libp2p<{ history: HistorySync }>, store: KithStore }
const running: Device[] = []
afterEach(async () => { await Promise.all(running.splice(0).map(async d => { await d.node.stop(); await d.store.close() })) })

/** A device: libp2p on the in-memory transport with the history service; `own` lists the user's devices. */
async function device (own: Set<string>): Promise<Device> {
  const store = await memoryStore()
  const node = await createLibp2p({
    addresses: { listen: [`/memory/history-fuzz-${randomBytes(6).toString('hex')}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { history: historySync({ store, isOwnDevice: peer => own.has(peer.toString()), tuning: { frameTimeoutMs: 5_000 } }) }
  })
  own.add(node.peerId.toString())
  const d = { node, store }
  running.push(d)
  return d
}

function messages (count: number): ImportedMessage[] {
  return Array.from({ length: count }, (_, i) => ({ id: randomBytes(16).toString('hex'), conversation: NAMES[i % 2] as string, from: NAMES[(i + 1) % 2] as string, text: `m${i}`, ts: 1_700_000_000_000 + i, status: 'received' as const }))
}

describe('fuzz: history sync', () => {
  it('decodeFrame throws only HistorySyncError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(frame), input => {
      throwsOnly(decodeFrame, input, ['HistorySyncError'])
    }), params())
    expect(throwsOnly(decodeFrame, huge(), ['HistorySyncError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(3))

  it('importedOf throws only HistorySyncError, refuses 10 MB by its size, and imports only records in canonical form', () => {
    fc.assert(fc.property(inputs(record), fc.nat({ max: 2_000_000_000_000 }), (input, since) => {
      const refused = throwsOnly(r => importedOf(r, NAMES, since), input, ['HistorySyncError'])
      // strict.ts checks canonical form without a decode: a record it lets through to be
      // imported is one a decode and an encode give back byte for byte, and it refuses none
      // of those. (Unknown enum values it leaves to the field checks after it.)
      let roundTrips = false
      try { roundTrips = Buffer.from(HistoryRecord.encode(HistoryRecord.decode(input))).equals(input) } catch {}
      if (refused == null) expect(roundTrips).toBe(true)
      if (roundTrips) expect(isCanonical(input, RECORD_FIELDS)).toBe(true)
    }), params())
    expect(throwsOnly(r => importedOf(r, NAMES, 0), huge(), ['HistorySyncError'])?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(3))

  it('a device serving history ends streams of junk from another of our devices, counts them, and still serves a sync', async () => {
    const own = new Set<string>()
    const laptop = await device(own)
    await laptop.store.importHistory(messages(50))
    const phone = await device(own)
    await phone.node.peerStore.merge(laptop.node.peerId, { multiaddrs: laptop.node.getMultiaddrs() })
    const metrics = (): { invalid: number } => laptop.node.services.history.metrics
    const before = metrics().invalid
    let bad = 0
    let runs = 0
    await fc.assert(fc.asyncProperty(streamInput(inputs(frame, 600), MAX_FRAME, 3), async chunks => {
      runs++
      const { connectionLost } = await exchange(phone.node, laptop.node.peerId, HISTORY_PROTOCOL, chunks)
      if (connectionLost) return
      // The first frame must be a HELLO: anything else that is not a REFUSED is bad input, and counted.
      const first = firstFrame(chunks, MAX_FRAME)
      if (first.kind === 'oversized') bad++
      if (first.kind === 'frame') {
        const err = throwsOnly(decodeFrame, first.frame, ['HistorySyncError'])
        if (err != null || ![FrameKind.HELLO, FrameKind.REFUSED].includes(decodeFrame(first.frame).kind)) bad++
      }
    }), params(0.5))
    const counted = metrics().invalid - before
    expect(bad).toBeGreaterThan(0)
    expect(counted).toBeGreaterThanOrEqual(bad)
    expect(counted).toBeLessThanOrEqual(runs)

    const result = await phone.node.services.history.sync(laptop.node.peerId)
    expect(result.fetched).toBe(50)
  }, timeoutFor(60, 0.5))

  it('a device pulling history from a device that answers junk rejects with HistorySyncError only, and counts it', async () => {
    const own = new Set<string>()
    const phone = await device(own)
    const liar = await device(own)
    await liar.node.unhandle(HISTORY_PROTOCOL)
    let answers: Uint8Array[][] = []
    await liar.node.handle(HISTORY_PROTOCOL, async (stream) => {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
      try {
        await lp.read({ signal: AbortSignal.timeout(5_000) })
        for (const chunk of answers.shift() ?? []) stream.send(chunk)
        await stream.close()
      } catch (err: any) {
        stream.abort(err)
      }
    })
    await phone.node.peerStore.merge(liar.node.peerId, { multiaddrs: liar.node.getMultiaddrs() })
    await fc.assert(fc.asyncProperty(streamInput(inputs(frame, 600), MAX_FRAME, 3), async chunks => {
      answers = [chunks]
      await rejectsOnly(async () => await phone.node.services.history.sync(liar.node.peerId), undefined, ['HistorySyncError', 'HistorySyncRefusedError'])
    }), params(0.25))
    expect(phone.node.services.history.metrics.invalid).toBeGreaterThan(0)
  }, timeoutFor(60, 0.25))
})
