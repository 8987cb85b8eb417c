import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Libp2pRecord } from '@libp2p/record'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { toString as toBase32 } from 'uint8arrays/to-string'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DHT_STORE_LIMITS, DhtRecordStore, openPresence, presenceKey, signPresence } from '../src/index.js'
import { fieldsOf, makeUser } from './helpers.js'
import type { DhtRecordStoreInit, DhtStoreRefusal } from '../src/index.js'
import type { User } from './helpers.js'

let alice: User
const now = Date.now()
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

beforeAll(async () => { alice = await makeUser() })

/** What kad-dht writes for a record it keeps: its key in base32 under `/dht/record/`, the record with the time received. */
const dsKey = (key: Uint8Array): Key => new Key(`/dht/record/${toBase32(key, 'base32')}`, false)
const stored = (key: Uint8Array, value: Uint8Array): Uint8Array => new Libp2pRecord(key, value, new Date()).serialize()
/** Alice's record (the store reads only the seq), stored under `key`: any identity's key will do. */
const presence = (seq: number): Uint8Array => signPresence(alice.identityKey, fieldsOf(alice, { seq }))
const freshKey = (): Uint8Array => Buffer.concat([Buffer.from('/kith-presence/'), randomBytes(32)])

async function open (init: DhtRecordStoreInit = {}): Promise<DhtRecordStore & { refusals: DhtStoreRefusal[] }> {
  const refusals: DhtStoreRefusal[] = []
  const store = new DhtRecordStore({ ...init, onRefused: (reason) => { refusals.push(reason); init.onRefused?.(reason) } })
  await store.open()
  cleanups.push(async () => { await store.close() })
  return Object.assign(store, { refusals })
}

async function put (store: DhtRecordStore, key: Uint8Array, value: Uint8Array): Promise<string> {
  try {
    await store.put(dsKey(key), stored(key, value))
    return 'kept'
  } catch (err: any) {
    if (err?.name !== 'DhtStoreRefusedError') throw err
    return err.reason
  }
}

const seqIn = async (store: DhtRecordStore, key: Uint8Array): Promise<number> =>
  openPresence(Libp2pRecord.deserialize(await store.get(dsKey(key))).value).seq

describe('DhtRecordStore', () => {
  it('keeps presence records, and refuses one older than it holds for the identity (rollback)', async () => {
    const store = await open()
    const key = presenceKey(alice.identityKey.publicKey)
    expect(await put(store, key, presence(now - 1000))).toBe('kept')
    expect(await put(store, key, presence(now))).toBe('kept')
    expect(await put(store, key, presence(now))).toBe('kept') // the same again: a republish
    expect(await put(store, key, presence(now - 1000))).toBe('rollback')
    expect(await seqIn(store, key)).toBe(now)
    expect(store.stats()).toMatchObject({ presence: 1, refused: { rollback: 1 } })
    expect(store.refusals).toEqual(['rollback'])
  })

  it('remembers the seq after kad-dht drops an expired record', async () => {
    const store = await open()
    const key = presenceKey(alice.identityKey.publicKey)
    await put(store, key, presence(now))
    await store.delete(dsKey(key))
    expect(await store.has(dsKey(key))).toBe(false)
    expect(store.stats()).toMatchObject({ presence: 1, bytes: 0 })
    expect(await put(store, key, presence(now - 1))).toBe('rollback')
    expect(await put(store, key, presence(now + 1))).toBe('kept')
  })

  it('keeps records and their seq across a restart on LevelDB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kith-dht-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const key = presenceKey(alice.identityKey.publicKey)
    const first = new DhtRecordStore({ store: new LevelDatastore(dir) })
    await first.beforeStart()
    await put(first, key, presence(now))
    const other = freshKey()
    await put(first, other, presence(now))
    await first.delete(dsKey(other)) // expired: only its seq is left
    await first.afterStop()

    const again = await open({ store: new LevelDatastore(dir) })
    expect(again.stats()).toMatchObject({ presence: 2, bytes: (await again.get(dsKey(key))).byteLength })
    expect(await seqIn(again, key)).toBe(now)
    expect(await put(again, key, presence(now - 1))).toBe('rollback')
    expect(await put(again, other, presence(now - 1))).toBe('rollback')
  })

  it('refuses new identities past the cap, still takes updates of held ones, and a flood cannot flush their seq', async () => {
    const store = await open({ limits: { maxPresenceRecords: 3 } })
    const known = presenceKey(alice.identityKey.publicKey)
    expect(await put(store, known, presence(now - 1000))).toBe('kept')
    expect(await put(store, freshKey(), presence(now))).toBe('kept')
    expect(await put(store, freshKey(), presence(now))).toBe('kept')
    const flood = await Promise.all(Array.from({ length: 50 }, async () => await put(store, freshKey(), presence(now))))
    expect(new Set(flood)).toEqual(new Set(['full']))
    expect(store.stats()).toMatchObject({ presence: 3, refused: { full: 50 } })
    expect(await put(store, known, presence(now))).toBe('kept')
    expect(await put(store, known, presence(now - 1000))).toBe('rollback')
  })

  it('caps the bytes: a new record that does not fit is refused; an update that grows past it still advances the seq', async () => {
    const record = stored(freshKey(), presence(now))
    const store = await open({ limits: { maxBytes: record.byteLength * 2 + 10 } })
    const known = presenceKey(alice.identityKey.publicKey)
    expect(await put(store, known, presence(now - 1000))).toBe('kept')
    expect(await put(store, freshKey(), presence(now))).toBe('kept')
    expect(await put(store, freshKey(), presence(now))).toBe('full')
    expect(store.stats().bytes).toBeLessThanOrEqual(record.byteLength * 2 + 10)
    // Alice's next record is larger (more addresses): no room for it, but its seq is remembered
    // and the older record, out of date now, is dropped rather than served.
    const larger = signPresence(alice.identityKey, fieldsOf(alice, { seq: now, prekeys: new Uint8Array(1500).fill(1) }))
    expect(await put(store, known, larger)).toBe('full')
    expect(await store.has(dsKey(known))).toBe(false)
    expect(await put(store, known, presence(now - 1000))).toBe('rollback')
    // A record of the old size fits again.
    expect(await put(store, known, presence(now + 1))).toBe('kept')
  })

  it('checks the size before decoding, and keeps only presence and /pk/ records', async () => {
    const store = await open({ limits: { maxPublicKeyRecords: 2 } })
    expect(await put(store, freshKey(), new Uint8Array(DHT_STORE_LIMITS.maxRecordBytes))).toBe('oversized')
    await expect(store.put(dsKey(freshKey()), new Uint8Array(DHT_STORE_LIMITS.maxRecordBytes + 1).fill(0xff))).rejects.toMatchObject({ name: 'DhtStoreRefusedError', reason: 'oversized' })
    await expect(store.put(dsKey(freshKey()), new Uint8Array([0xff, 0xff, 0xff]))).rejects.toMatchObject({ reason: 'malformed' })
    expect(await put(store, freshKey(), new Uint8Array([1, 2, 3]))).toBe('malformed')
    expect(await put(store, Buffer.from('/ipns/whatever'), new Uint8Array(10))).toBe('namespace')
    // kad-dht's provider records (Kith does not use them), and the store's own index.
    await expect(store.put(new Key('/dht/provider/abc/def'), new Uint8Array(8))).rejects.toMatchObject({ reason: 'namespace' })
    await expect(store.put(new Key('/kith-dht/abc'), new Uint8Array(21))).rejects.toMatchObject({ reason: 'namespace' })
    const pk = (): Uint8Array => Buffer.concat([Buffer.from('/pk/'), randomBytes(34)])
    expect([await put(store, pk(), new Uint8Array(36)), await put(store, pk(), new Uint8Array(36)), await put(store, pk(), new Uint8Array(36))]).toEqual(['kept', 'kept', 'full'])
    expect(store.stats()).toMatchObject({ presence: 0, publicKeys: 2 })
  })

  it('makes room by dropping records not received again for evictAfterMs, least recently received first', async () => {
    let clock = now
    const store = await open({ limits: { maxPresenceRecords: 2, evictAfterMs: 1000 }, now: () => clock })
    const [a, b, c] = [freshKey(), freshKey(), freshKey()]
    await put(store, a, presence(now))
    clock += 10
    await put(store, b, presence(now))
    clock += 995 // a was received 1005 ms ago, b 995 ms ago
    await put(store, b, presence(now + 1)) // b again: received just now
    expect(await put(store, c, presence(now))).toBe('kept')
    expect(await store.has(dsKey(a))).toBe(false)
    expect(await store.has(dsKey(b))).toBe(true)
    expect(store.stats()).toMatchObject({ presence: 2, evicted: 1 })
    // b and c are recent: nothing to drop.
    expect(await put(store, freshKey(), presence(now))).toBe('full')
  })

  it('always keeps pinned keys (our own record)', async () => {
    const own = presenceKey(alice.identityKey.publicKey)
    const store = await open({ limits: { maxPresenceRecords: 1 }, pinned: [own] })
    expect(await put(store, freshKey(), presence(now))).toBe('kept')
    expect(await put(store, own, presence(now))).toBe('kept')
    expect(await put(store, own, presence(now - 1))).toBe('rollback')
  })

  it("sends everything outside /dht/ (libp2p's peer store) to the other store, queries by prefix", async () => {
    const others = new MemoryDatastore()
    const store = await open({ others })
    await store.put(new Key('/peers/abc'), new Uint8Array([1]))
    expect(await others.has(new Key('/peers/abc'))).toBe(true)
    await put(store, freshKey(), presence(now))
    const peers = []
    for await (const pair of store.query({ prefix: '/peers/' })) peers.push(pair.key.toString())
    expect(peers).toEqual(['/peers/abc'])
    const records = []
    for await (const key of store.queryKeys({ prefix: '/dht/record/' })) records.push(key.toString())
    expect(records).toHaveLength(1)
    await store.delete(new Key('/peers/abc'))
    expect(await others.has(new Key('/peers/abc'))).toBe(false)
  })
})
