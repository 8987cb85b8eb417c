import { Libp2pRecord } from '@libp2p/record'
import { BaseDatastore, MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { toString as toBase32 } from 'uint8arrays/to-string'
import { DHT_STORE_LIMITS } from './constants.js'
import { DhtStoreRefusedError } from './errors.js'
import { presenceKeyFingerprint } from './key.js'
import { presenceSeq } from './record.js'
import type { DhtStoreLimits } from './constants.js'
import type { DhtStoreRefusal } from './errors.js'
import type { AbortOptions, Startable } from '@libp2p/interface'
import type { Datastore, KeyQuery, Pair, Query } from 'interface-datastore'

/**
 * libp2p's datastore, with bounds on what DHT peers can make this node keep.
 *
 * kad-dht stores every record a peer PUTs that its validator accepts, under
 * `/dht/record/<base32 key>`, replacing whatever it held, and every provider record a peer
 * announces. Given as libp2p's `datastore`, this store sees those writes and keeps:
 * - presence records (one per identity) and `/pk/` records, each key type up to a count, all
 *   together up to a number of bytes, each record up to a size checked before decoding it;
 * - for each identity, the highest `seq` it has accepted, even after kad-dht drops the record:
 *   an older record is refused (`rollback`), after a restart too when the store is persistent;
 * - nothing else under `/dht/` (provider records, other key types).
 * A record for a key it does not hold yet is refused (`full`) when its key type or the bytes
 * are at their cap, unless records not received again for `evictAfterMs` (kad-dht no longer
 * serves those) can be dropped, least recently received first. Updates of records it holds are
 * always judged by `seq` alone: filling the store with fresh identities cannot push a known
 * identity's memory out, so the flood cannot make room for a replay.
 *
 * Everything else libp2p keeps in its datastore (the peer store) goes to `others`.
 */

/** A datastore that may need opening and closing (a LevelDatastore does). */
export type OpenableDatastore = Datastore & { open?: () => Promise<void>, close?: () => Promise<void> }

/** Options for {@link DhtRecordStore}. */
export interface DhtRecordStoreInit {
  /**
   * Where DHT records and the store's index live: a LevelDatastore in the node's home keeps them
   * across restarts. Opened when libp2p starts and closed when it stops. A function is called
   * when the store is first needed, so a node that never starts never opens it (LevelDB opens
   * as soon as it is made). Default: memory.
   */
  store?: OpenableDatastore | (() => OpenableDatastore)
  /** Everything libp2p keeps outside `/dht/` (its peer store). Default: memory. */
  others?: Datastore
  /** Caps; each defaults to {@link DHT_STORE_LIMITS}. */
  limits?: Partial<DhtStoreLimits>
  /** DHT keys kept whatever the caps: our own presence key, so our publish never fails here. */
  pinned?: Uint8Array[]
  /** Called once for each record refused, with the reason. */
  onRefused?: (reason: DhtStoreRefusal) => void
  /** The clock, in ms since the epoch. Default: `Date.now`. */
  now?: () => number
}

/** What a {@link DhtRecordStore} holds, and what it refused since it was made. */
export interface DhtStoreStats {
  /** Identities whose presence record, or only its `seq`, is kept. */
  presence: number
  /** `/pk/` records kept. */
  publicKeys: number
  /** Bytes of the records kept (as kad-dht stores them). */
  bytes: number
  /** Records dropped to make room for new ones. */
  evicted: number
  refused: Record<DhtStoreRefusal, number>
}

type Kind = 'presence' | 'pk'
/** What the store holds under one record key; `bytes` is 0 once kad-dht dropped the record. */
interface Held { kind: Kind, seq: number, at: number, bytes: number }

/** kad-dht's default `datastorePrefix`, and where it keeps the records peers PUT. */
const DHT_PREFIX = '/dht/'
const RECORD_PREFIX = '/dht/record/'
/** The store's own index, one entry per record key: never written from outside. */
const INDEX_PREFIX = '/kith-dht/'
const PK_PREFIX = new TextEncoder().encode('/pk/')

/** See the file comment. Give it to libp2p as `datastore`; libp2p opens and closes it. */
export class DhtRecordStore extends BaseDatastore implements Startable {
  private readonly makeStore: () => OpenableDatastore
  private made: OpenableDatastore | undefined
  private readonly others: Datastore
  private readonly limits: DhtStoreLimits
  private readonly pinned: Set<string>
  private readonly now: () => number
  private readonly onRefused: ((reason: DhtStoreRefusal) => void) | undefined
  /** Record key → what is held, least recently received first. */
  private readonly held = new Map<string, Held>()
  private readonly counts: Record<Kind, number> = { presence: 0, pk: 0 }
  private bytes = 0
  private evicted = 0
  private readonly refused: Record<DhtStoreRefusal, number> = { oversized: 0, malformed: 0, namespace: 0, full: 0, rollback: 0 }
  private opened = false
  /** Writes run one at a time: each checks the caps against what the previous one left. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (init: DhtRecordStoreInit = {}) {
    super()
    const store = init.store ?? new MemoryDatastore()
    this.makeStore = typeof store === 'function' ? store : () => store
    this.others = init.others ?? new MemoryDatastore()
    this.limits = { ...DHT_STORE_LIMITS, ...init.limits }
    this.pinned = new Set((init.pinned ?? []).map(key => RECORD_PREFIX + toBase32(key, 'base32')))
    this.now = init.now ?? Date.now
    this.onRefused = init.onRefused
  }

  // libp2p starts and stops its datastore as it does every component.
  async beforeStart (): Promise<void> { await this.open() }
  start (): void {}
  stop (): void {}
  async afterStop (): Promise<void> { await this.close() }

  /** Open the underlying store and read the index. libp2p calls this before it starts. */
  async open (): Promise<void> {
    if (this.opened) return
    await this.store.open?.()
    this.held.clear()
    this.counts.presence = this.counts.pk = this.bytes = 0
    const loaded: Array<[string, Held]> = []
    for await (const { key, value } of this.store.query({ prefix: INDEX_PREFIX })) {
      const entry = decodeHeld(value)
      if (entry != null) loaded.push([RECORD_PREFIX + key.toString().slice(INDEX_PREFIX.length), entry])
    }
    for (const [name, entry] of loaded.sort((a, b) => a[1].at - b[1].at)) this.remember(name, entry)
    this.opened = true
  }

  /** Close the underlying store, once the writes under way are done. libp2p calls this after it stops. */
  async close (): Promise<void> {
    this.opened = false
    await this.queue
    await this.made?.close?.()
  }

  /** The underlying store, made when first needed. */
  private get store (): OpenableDatastore {
    this.made ??= this.makeStore()
    return this.made
  }

  /** What the store holds, and what it refused. */
  stats (): DhtStoreStats {
    return { presence: this.counts.presence, publicKeys: this.counts.pk, bytes: this.bytes, evicted: this.evicted, refused: { ...this.refused } }
  }

  /**
   * @throws {DhtStoreRefusedError} when a DHT record is not kept (see {@link DhtStoreRefusal});
   * kad-dht then refuses the PUT
   */
  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const name = key.toString()
    if (name.startsWith(INDEX_PREFIX)) throw this.refuse('namespace', 'that key space belongs to the DHT record store')
    if (!name.startsWith(DHT_PREFIX)) return await this.others.put(key, value, options)
    await this.serially(async () => { await this.keep(name, value) })
    return key
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    return await this.route(key.toString()).get(key, options)
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    return await this.route(key.toString()).has(key, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    const name = key.toString()
    if (name.startsWith(INDEX_PREFIX)) throw this.refuse('namespace', 'that key space belongs to the DHT record store')
    if (!name.startsWith(DHT_PREFIX)) { await this.others.delete(key, options); return }
    await this.serially(async () => {
      const held = this.held.get(name)
      if (held?.kind === 'presence') {
        // kad-dht drops a record it has not received again for 48 hours: its seq stays
        // remembered (in place: it was received when it was).
        await this.commit([[name], [indexName(name), encodeHeld({ ...held, bytes: 0 })]])
        this.bytes -= held.bytes
        held.bytes = 0
      } else {
        await this.commit(held != null ? [[name], [indexName(name)]] : [[name]])
        this.forget(name)
      }
    })
  }

  /** Queries go by prefix: `/dht/…` to the records, anything else (the peer store's `/peers/…`) to `others`. */
  override query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this.route(q.prefix ?? '').query(q, options)
  }

  override queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.route(q.prefix ?? '').queryKeys(q, options)
  }

  private route (name: string): Datastore {
    return name.startsWith(DHT_PREFIX) || name.startsWith(INDEX_PREFIX) ? this.store : this.others
  }

  /** Keep the record `value` under `name`, or refuse it. */
  private async keep (name: string, value: Uint8Array): Promise<void> {
    if (!this.opened) throw new Error('the DHT record store is not open')
    if (!name.startsWith(RECORD_PREFIX)) throw this.refuse('namespace', 'provider records are not kept')
    if (value.byteLength > this.limits.maxRecordBytes) throw this.refuse('oversized', `larger than ${this.limits.maxRecordBytes} bytes`)
    const { kind, seq } = this.classify(value)
    const held = this.held.get(name)
    if (held != null && seq < held.seq) throw this.refuse('rollback', `older than the record held for this identity (seq ${seq} < ${held.seq})`)
    const now = this.now()
    const entry: Held = { kind, seq, at: now, bytes: value.byteLength }
    const victims = this.pinned.has(name) ? [] : this.victims(name, kind, held == null ? 1 : 0, value.byteLength - (held?.bytes ?? 0), now)
    if (victims == null) {
      if (held?.kind === 'presence') {
        // An update there is no room for (it grew): remember its seq, so the older record cannot
        // come back, and drop that record, which is out of date now.
        const remembered = { ...entry, bytes: 0 }
        await this.commit([[name], [indexName(name), encodeHeld(remembered)]])
        this.remember(name, remembered)
      }
      throw this.refuse('full', held == null ? `no room for another ${kind} record` : 'no room for the larger record')
    }
    const ops: Array<[string, Uint8Array?]> = victims.flatMap(victim => [[victim], [indexName(victim)]] as Array<[string]>)
    ops.push([name, value], [indexName(name), encodeHeld(entry)])
    await this.commit(ops)
    for (const victim of victims) this.forget(victim)
    this.evicted += victims.length
    this.remember(name, entry)
  }

  /**
   * The records to drop so that one more record of `kind` (when `added` is 1) and `grow` more
   * bytes fit: the least recently received ones not received for `evictAfterMs`, and only ones
   * that help. Undefined when those are not enough.
   */
  private victims (name: string, kind: Kind, added: number, grow: number, now: number): string[] | undefined {
    const cap = kind === 'presence' ? this.limits.maxPresenceRecords : this.limits.maxPublicKeyRecords
    let count = this.counts[kind] + added
    let bytes = this.bytes + grow
    // An update adds no key, a record that shrinks adds no bytes: only what grows must fit.
    const countOver = (): boolean => added > 0 && count > cap
    const bytesOver = (): boolean => grow > 0 && bytes > this.limits.maxBytes
    const victims: string[] = []
    for (const [other, held] of this.held) {
      if (!countOver() && !bytesOver()) break
      if (now - held.at <= this.limits.evictAfterMs) break // every later one was received later still
      if (other === name || this.pinned.has(other)) continue
      if (!(countOver() && held.kind === kind) && !(bytesOver() && held.bytes > 0)) continue
      victims.push(other)
      if (held.kind === kind) count--
      bytes -= held.bytes
    }
    return countOver() || bytesOver() ? undefined : victims
  }

  /** The key type of a record kad-dht stores, and its `seq` (0 for `/pk/` records). */
  private classify (value: Uint8Array): { kind: Kind, seq: number } {
    let record: Libp2pRecord
    try {
      record = Libp2pRecord.deserialize(value)
    } catch (err) {
      throw this.refuse('malformed', 'not a DHT record', err)
    }
    if (presenceKeyFingerprint(record.key) != null) {
      const seq = presenceSeq(record.value)
      if (seq == null) throw this.refuse('malformed', 'a presence record whose seq does not decode')
      return { kind: 'presence', seq }
    }
    if (Buffer.from(record.key.subarray(0, PK_PREFIX.byteLength)).equals(PK_PREFIX)) return { kind: 'pk', seq: 0 }
    throw this.refuse('namespace', 'a key type this node does not keep')
  }

  private remember (name: string, entry: Held): void {
    this.forget(name)
    this.held.set(name, entry)
    this.counts[entry.kind]++
    this.bytes += entry.bytes
  }

  private forget (name: string): void {
    const held = this.held.get(name)
    if (held == null) return
    this.held.delete(name)
    this.counts[held.kind]--
    this.bytes -= held.bytes
  }

  /**
   * One batch on the underlying store: `[key]` deletes, `[key, value]` puts, no key twice. Not
   * abortable: a write that went through must not be missing from the counts.
   */
  private async commit (ops: Array<[string, Uint8Array?]>): Promise<void> {
    const batch = this.store.batch()
    for (const [name, value] of ops) {
      if (value == null) batch.delete(new Key(name, false))
      else batch.put(new Key(name, false), value)
    }
    await batch.commit()
  }

  private async serially (fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn)
    this.queue = run.then(() => {}, () => {})
    await run
  }

  private refuse (reason: DhtStoreRefusal, message: string, cause?: unknown): DhtStoreRefusedError {
    this.refused[reason]++
    this.onRefused?.(reason)
    return new DhtStoreRefusedError(reason, `DHT record refused (${reason}): ${message}`, cause === undefined ? undefined : { cause })
  }
}

function indexName (recordName: string): string {
  return INDEX_PREFIX + recordName.slice(RECORD_PREFIX.length)
}

// An index entry: kind (1 byte), seq and time received (float64 each), record bytes (uint32).
const HELD_BYTES = 21

function encodeHeld (held: Held): Uint8Array {
  const bytes = Buffer.alloc(HELD_BYTES)
  bytes.writeUInt8(held.kind === 'presence' ? 0 : 1, 0)
  bytes.writeDoubleBE(held.seq, 1)
  bytes.writeDoubleBE(held.at, 9)
  bytes.writeUInt32BE(held.bytes, 17)
  return new Uint8Array(bytes)
}

function decodeHeld (value: Uint8Array): Held | undefined {
  if (value.byteLength !== HELD_BYTES) return undefined
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  const kind = bytes.readUInt8(0)
  if (kind > 1) return undefined
  return { kind: kind === 0 ? 'presence' : 'pk', seq: bytes.readDoubleBE(1), at: bytes.readDoubleBE(9), bytes: bytes.readUInt32BE(17) }
}
