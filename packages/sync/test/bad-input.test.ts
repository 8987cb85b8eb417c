import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SyncProtocolError } from '../src/errors.js'
import { MemorySyncStorage } from '../src/memory-storage.js'
import { SyncMessage } from '../src/proto/sync.js'
import { Reconciler } from '../src/reconciler.js'
import { hexSet, idOf, items, minus } from './helpers.js'
import type { SyncItem } from '../src/item.js'

const FP = new Uint8Array(16).fill(9)
const ID = idOf('id')

/** A valid message, with fields overridden. */
function message (fields: Partial<SyncMessage>): Uint8Array {
  return SyncMessage.encode({ version: 1, boundTs: [0], boundId: [new Uint8Array(0)], mode: [1], payload: [FP], ...fields })
}

/** An IdList payload from raw (length, bytes) pairs. */
function ids (...list: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(list.map(id => Buffer.concat([Buffer.of(id.length), id]))))
}

const responderItems = items('resp', 400)
const initiatorItems = [...responderItems.slice(0, 350), ...items('init', 30, 1_800_000_000_000)]

/** The responder still completes a whole, valid exchange. */
function expectStillWorks (responder: Reconciler, own: SyncItem[] = initiatorItems): void {
  const initiator = new Reconciler(new MemorySyncStorage(own))
  const need: Uint8Array[] = []
  let next: Uint8Array | undefined = initiator.initiate()
  for (let round = 0; next !== undefined; round++) {
    expect(round).toBeLessThan(20)
    const result = initiator.reconcile(responder.reconcile(next).reply!)
    need.push(...result.need)
    next = result.reply
  }
  expect(hexSet(need)).toEqual(minus(responderItems, own))
}

/** A reply with every kind of range, to cut and damage. */
function richReply (): Uint8Array {
  const responder = new Reconciler(new MemorySyncStorage(responderItems))
  const initiator = new Reconciler(new MemorySyncStorage(initiatorItems))
  const first = responder.reconcile(initiator.initiate()).reply!
  return responder.reconcile(initiator.reconcile(first).reply!).reply!
}

describe('Reconciler on bad input', () => {
  const responder = new Reconciler(new MemorySyncStorage(responderItems))

  const cases: Array<[string, Uint8Array]> = [
    ['wrong version', message({ version: 2 })],
    ['no version', message({ version: 0 })],
    ['more bounds than modes', message({ boundTs: [1, 0], boundId: [new Uint8Array(0), new Uint8Array(0)] })],
    ['fewer payloads than modes', message({ payload: [] })],
    ['unknown mode', message({ mode: [3] })],
    ['skip with a payload', message({ mode: [0] })],
    ['short fingerprint', message({ payload: [FP.subarray(1)] })],
    ['equal bounds', message({ boundTs: [10, 1, 0], boundId: [Uint8Array.of(5), Uint8Array.of(5), new Uint8Array(0)], mode: [1, 1, 1], payload: [FP, FP, FP] })],
    ['decreasing bounds', message({ boundTs: [10, 1], boundId: [Uint8Array.of(5), Uint8Array.of(4)], mode: [1, 1], payload: [FP, FP] })],
    ['infinite bound before the last', message({ boundTs: [0, 5], boundId: [new Uint8Array(0), new Uint8Array(0)], mode: [1, 1], payload: [FP, FP] })],
    ['infinite bound with an id', message({ boundId: [Uint8Array.of(1)] })],
    ['bound id of 33 bytes', message({ boundTs: [5], boundId: [new Uint8Array(33)] })],
    ['timestamp past 2^53', message({ boundTs: [2 ** 52, 2 ** 52 + 2, 0], boundId: [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)], mode: [1, 1, 1], payload: [FP, FP, FP] })],
    ['id of 15 bytes', message({ mode: [2], payload: [ids(ID.subarray(1))] })],
    ['id of 33 bytes', message({ mode: [2], payload: [ids(new Uint8Array(33))] })],
    ['id cut short', message({ mode: [2], payload: [ids(ID).subarray(0, 10)] })],
    ['id listed twice', message({ mode: [2], payload: [ids(ID, ID)] })],
    ['unknown field', Buffer.concat([message({}), Buffer.of(0x30, 0x01)])],
    ['empty input', new Uint8Array(0)]
  ]
  for (const [name, bytes] of cases) {
    it(`refuses ${name}, and works afterwards`, () => {
      expect(() => responder.reconcile(bytes)).toThrow(SyncProtocolError)
      expectStillWorks(responder)
    })
  }

  it('refuses every truncation of a valid message', () => {
    const reply = richReply()
    expect(reply.length).toBeGreaterThan(200)
    const initiator = new Reconciler(new MemorySyncStorage(initiatorItems))
    initiator.initiate()
    for (let length = 0; length < reply.length; length++) {
      expect(() => initiator.reconcile(reply.subarray(0, length)), `cut to ${length} bytes`).toThrow(SyncProtocolError)
    }
    expect(() => initiator.reconcile(reply)).not.toThrow()
  })

  it('refuses input over the size limit before parsing it', () => {
    const small = new Reconciler(new MemorySyncStorage(responderItems), { maxMessageBytes: 4096 })
    const large = message({ mode: [2], payload: [ids(...Array.from({ length: 300 }, (_, i) => idOf(i)))] })
    expect(large.length).toBeGreaterThan(4096)
    expect(() => small.reconcile(large)).toThrow(/exceeds/)
    expect(() => small.reconcile(new Uint8Array(4097))).toThrow(/exceeds/)
    expectStillWorks(small)
  })

  it('refuses random bytes', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = createHash('sha512').update(`noise${i}`).digest()
      expect(() => responder.reconcile(bytes.subarray(0, 1 + (i % 64)))).toThrow(SyncProtocolError)
    }
    expectStillWorks(responder)
  })

  it('throws nothing but SyncProtocolError on arbitrary input', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), bytes => {
      try {
        responder.reconcile(bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(SyncProtocolError)
      }
    }), { numRuns: 2000 })
    expectStillWorks(responder)
  })

  it('keeps its reply under the limit when every range of a full message differs', () => {
    const many = items('many', 20_000)
    const target = new Reconciler(new MemorySyncStorage(many), { maxMessageBytes: 64 * 1024 })
    // 1,000 ranges of 20 items with a wrong fingerprint each: their id lists would not fit.
    const bounds = many.filter((_, i) => i % 20 === 0 && i > 0)
    const hostile = message({
      boundTs: [...bounds.map((item, i) => item.ts - (bounds[i - 1]?.ts ?? 0) + 1), 0],
      boundId: [...bounds.map(item => new Uint8Array(item.id)), new Uint8Array(0)],
      mode: bounds.map(() => 1).concat(1),
      payload: bounds.map(() => FP).concat(FP)
    })
    expect(hostile.length).toBeLessThan(64 * 1024)
    const reply = target.reconcile(hostile).reply!
    expect(reply.length).toBeLessThanOrEqual(64 * 1024)
    expect(reply.length).toBeGreaterThan(60 * 1024)
    const decoded = SyncMessage.decode(reply)
    // It stopped early and left the rest to one fingerprint up to +infinity.
    expect(decoded.boundTs.at(-1)).toBe(0)
    expect(decoded.mode.at(-1)).toBe(1)
  })

  it('writes the first message as documented', () => {
    const initiator = new Reconciler(new MemorySyncStorage([]))
    // Bound +infinity (ts 0, empty id), mode Fingerprint, the fingerprint of nothing
    // (SHA-256 of 40 zero bytes), then version 1.
    expect(Buffer.from(initiator.initiate()).toString('hex')).toBe('0800' + '1200' + '1801' + '2210' + '2c34ce1df23b838c5abf2a7f6437cca3' + '2801')
  })
})
