import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDataKey, openRecord, sealRecord } from '@kith/crypto'
import { openStore } from '@kith/store'
import { afterEach, describe, expect, it } from 'vitest'
import { ALICE, BOB, ME, envelopeFor, incoming, newId, outgoing } from './helpers.js'
import type { HistorySyncEntries, ImportedMessage, KithStore, MessageRecord, RecordCipher } from '@kith/store'

/** A cipher that counts what it opens, by table (the first letter of the record's key). */
function countingCipher (): RecordCipher & { opened: Map<string, number> } {
  const dataKey = generateDataKey()
  const opened = new Map<string, number>()
  return {
    opened,
    seal: (aad, plaintext) => sealRecord(dataKey, aad, plaintext),
    open: (aad, sealed) => {
      opened.set(aad[0] as string, (opened.get(aad[0] as string) ?? 0) + 1)
      return openRecord(dataKey, aad, sealed)
    }
  }
}

const dirs: string[] = []
const stores: KithStore[] = []
async function sealedStore (cipher: RecordCipher = countingCipher()): Promise<{ store: KithStore, reopen: () => Promise<KithStore> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-history-store-'))
  dirs.push(dir)
  let store = await openStore(join(dir, 'db'), cipher)
  stores.push(store)
  return {
    store,
    reopen: async () => {
      await store.close()
      store = await openStore(join(dir, 'db'), cipher)
      stores.push(store)
      return store
    }
  }
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map(async s => { await s.close().catch(() => {}) }))
  await Promise.all(dirs.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
})

/** The entries as (conversation, seq, ts, id hex) rows, sorted. */
function rows (entries: HistorySyncEntries): Array<[string, number, number, string]> {
  const out: Array<[string, number, number, string]> = []
  for (let i = 0; i < entries.count; i++) {
    out.push([entries.conversations[entries.conversation[i] as number] as string, entries.seq[i] as number, entries.ts[i] as number, Buffer.from(entries.ids.subarray(16 * i, 16 * i + 16)).toString('hex')])
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])
}

function rowsOf (records: MessageRecord[]): Array<[string, number, number, string]> {
  return records.map(r => [r.conversation, r.seq, r.ts, r.id] as [string, number, number, string]).sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1])
}

function imported (conversation: string, ts: number, text = `text at ${ts}`): ImportedMessage {
  return { id: newId(), conversation, from: conversation, text, ts, status: 'received' }
}

describe('history sync entries', () => {
  it('list every history record, incoming and outgoing, and no control ids', async () => {
    const { store } = await sealedStore()
    const sent = await store.appendOutgoing(outgoing(ALICE, 'hi alice'), envelopeFor('hi'))
    const received = await store.appendIncomingMany([incoming(ALICE, 'hi'), incoming(BOB, 'hello')])
    await store.queueControl(BOB, { id: newId(), envelope: envelopeFor('control') })
    await store.commit([store.seenIdOp(newId(), ALICE)])
    const all = [sent.record, ...received as MessageRecord[]]
    expect(rows(await store.historySyncEntries())).toEqual(rowsOf(all))
  })

  it('open each record once: later calls read the sealed index and the keys only, also after a reopen', async () => {
    const cipher = countingCipher()
    const { store, reopen } = await sealedStore(cipher)
    const records = await store.appendIncomingMany(Array.from({ length: 300 }, (_, i) => incoming(i % 2 === 0 ? ALICE : BOB, `m${i}`)))
    const first = await store.historySyncEntries()
    expect(cipher.opened.get('m')).toBe(300)
    cipher.opened.clear()
    expect(rows(await store.historySyncEntries())).toEqual(rows(first))
    const again = await reopen()
    expect(rows(await again.historySyncEntries())).toEqual(rowsOf(records as MessageRecord[]))
    expect(cipher.opened.get('m') ?? 0).toBe(0)
    // A new message is read once, then indexed too.
    const late = await again.appendIncoming(incoming(BOB, 'late'))
    expect(rows(await again.historySyncEntries())).toContainEqual(rowsOf([late as MessageRecord])[0])
    expect(cipher.opened.get('m')).toBe(1)
  })

  it('leave out records history sync cannot carry, without reading them again', async () => {
    const cipher = countingCipher()
    const { store } = await sealedStore(cipher)
    await store.appendIncomingMany([{ ...incoming(ALICE, 'no time'), ts: -5 }, { ...incoming(ALICE, 'odd id'), id: 'not-hex' }, incoming(ALICE, 'fine')])
    expect((await store.historySyncEntries()).count).toBe(1)
    cipher.opened.clear()
    expect((await store.historySyncEntries()).count).toBe(1)
    expect(cipher.opened.get('m') ?? 0).toBe(0)
  })
})

describe('importing history', () => {
  it('appends at the end of each conversation in (ts, id) order, keeping every field but seq', async () => {
    const { store } = await sealedStore()
    const own = await store.appendIncoming(incoming(ALICE, 'already here'))
    const file = { hash: 'ab'.repeat(32), key: 'cd'.repeat(32), size: 1234, name: 'talk.pdf', type: 'application/pdf' }
    const batch: ImportedMessage[] = [
      { id: newId(), conversation: ALICE, from: ME, text: 'later', ts: 3000, status: 'stored', mailboxes: 2 },
      { id: newId(), conversation: ALICE, from: ALICE, text: '', file, ts: 1000, status: 'received' },
      { id: newId(), conversation: 'ab'.repeat(32), from: BOB, text: 'group text', ts: 2000, status: 'received', epoch: 7, signature: 'ee'.repeat(64) }
    ]
    const { records, known } = await store.importHistory(batch)
    expect(known).toBe(0)
    expect(records.map(r => r.text)).toEqual(['', 'group text', 'later'])
    const history = await store.history(ALICE)
    expect(history.map(r => [r.seq, r.text])).toEqual([[1, 'already here'], [2, ''], [3, 'later']])
    expect(history[1]).toEqual({ ...batch[1], seq: 2 })
    expect(history[2]).toEqual({ ...batch[0], seq: 3 })
    expect(await store.history('ab'.repeat(32))).toEqual([{ ...batch[2], seq: 1 }])
    expect(await store.getMessage(batch[0]?.id as string)).toEqual({ ...batch[0], seq: 3 })
    // The seq counter moved on: a message after the import goes after it.
    const next = await store.appendIncoming(incoming(ALICE, 'next'))
    expect(next?.seq).toBe(4)
    expect(own?.seq).toBe(1)
  })

  it('skips ids it knows: in history, control ids, and repeats within the batch', async () => {
    const { store } = await sealedStore()
    const here = await store.appendIncoming(incoming(ALICE, 'here'))
    const control = newId()
    await store.commit([store.seenIdOp(control, ALICE)])
    const fresh = imported(ALICE, 5)
    const { records, known } = await store.importHistory([
      { ...imported(ALICE, 1), id: (here as MessageRecord).id },
      { ...imported(ALICE, 2), id: control },
      fresh,
      { ...fresh, text: 'the same id again' }
    ])
    expect(known).toBe(3)
    expect(records.map(r => r.id)).toEqual([fresh.id])
    expect((await store.history(ALICE)).map(r => r.text)).toEqual(['here', fresh.text])
    // A second import of the same batch writes nothing.
    expect((await store.importHistory([fresh])).records).toEqual([])
  })

  it('indexes what it imports in the same batch: the next entries read no record', async () => {
    const cipher = countingCipher()
    const { store, reopen } = await sealedStore(cipher)
    const batch = Array.from({ length: 500 }, (_, i) => imported(i % 3 === 0 ? ALICE : BOB, 1000 + i))
    const { records } = await store.importHistory(batch)
    cipher.opened.clear()
    const reopened = await reopen()
    expect(rows(await reopened.historySyncEntries())).toEqual(rowsOf(records))
    expect(cipher.opened.get('m') ?? 0).toBe(0)
  })

  it('compacts the index segments that many small imports leave', async () => {
    const cipher = countingCipher()
    const { store, reopen } = await sealedStore(cipher)
    for (let i = 0; i < 30; i++) await store.importHistory([imported(ALICE, 2 * i), imported(BOB, 2 * i + 1)])
    cipher.opened.clear()
    await store.historySyncEntries()
    expect(cipher.opened.get('h')).toBe(60)
    cipher.opened.clear()
    const entries = await (await reopen()).historySyncEntries()
    expect(entries.count).toBe(60)
    // One segment per conversation now.
    expect(cipher.opened.get('h')).toBe(2)
  })

  it('keeps the entries in memory while no conversation moves, and sees what moves it', async () => {
    const cipher = countingCipher()
    const { store } = await sealedStore(cipher)
    await store.importHistory([imported(ALICE, 1), imported(BOB, 2)])
    const first = await store.historySyncEntries()
    expect(await store.historySyncEntries()).toBe(first)
    const { records } = await store.importHistory([imported(BOB, 3)])
    const sent = await store.appendOutgoing(outgoing(ALICE, 'new'), envelopeFor('new'))
    cipher.opened.clear()
    const next = await store.historySyncEntries()
    expect(rows(next)).toEqual([...rows(first), ...rowsOf([...records, sent.record])].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]))
    // Only the message written outside an import was read.
    expect(cipher.opened.get('m')).toBe(1)
  })

  it('writes nothing when its batch fails: no record, no index entry, no seq', async () => {
    const { store } = await sealedStore()
    const db = (store as unknown as { db: { batch: (...args: unknown[]) => Promise<void> } }).db
    const batch = db.batch.bind(db)
    db.batch = async () => { throw new Error('disk on fire') }
    const lost = imported(ALICE, 10)
    await expect(store.importHistory([lost, imported(BOB, 11)])).rejects.toThrow('disk on fire')
    db.batch = batch
    expect(await store.history(ALICE)).toEqual([])
    expect(await store.knownIds([lost.id])).toEqual(new Set())
    expect((await store.historySyncEntries()).count).toBe(0)
    // Nothing was half written: the same records import whole.
    expect((await store.importHistory([lost])).records).toHaveLength(1)
  })

  it('refuses records the store could not key', async () => {
    const { store } = await sealedStore()
    await expect(store.importHistory([{ ...imported(ALICE, 1), conversation: 'a!b' }])).rejects.toThrow(RangeError)
    await expect(store.importHistory([{ ...imported(ALICE, 1), id: 'XYZ' }])).rejects.toThrow(RangeError)
  })
})

describe('reading records for history sync', () => {
  it('reads records by conversation and seq, undefined where there is none', async () => {
    const { store } = await sealedStore()
    const [a, b] = await store.appendIncomingMany([incoming(ALICE, 'a'), incoming(BOB, 'b')]) as MessageRecord[]
    expect(await store.historyRecordsAt([{ conversation: BOB, seq: 1 }, { conversation: ALICE, seq: 9 }, { conversation: ALICE, seq: 1 }])).toEqual([b, undefined, a])
  })
})
