import { createHmac } from 'node:crypto'
import type { MailboxSealing } from './types.js'
import type { AbstractBatchOperation, AbstractLevel, AbstractSublevel } from 'abstract-level'

/**
 * How a mailbox lays out its database (all under the sublevel `v2`). A mailbox knows who
 * writes to whom, so nothing in a key names a peer: `<r>`, `<d>` and `<i>` are keyed hashes
 * ({@link Tags}) of the recipient's peer id, the depositor's id and the envelope's id, and
 * every value is sealed under the node's data key (with its key as associated data).
 *
 * | sublevel | key                          | value (sealed)                                             |
 * |----------|------------------------------|------------------------------------------------------------|
 * | `m`      | `<r>!<seq, 12 hex>`          | version 2, id (16), depositedAt (f64), envelope            |
 * | `i`      | `<r>!<i>`                    | live `{ s, t, d: <d>, n, x? }` or acked `{ s, a }`         |
 * | `t`      | `<time, 12 hex>!<r>!<i>`     | empty (not sealed): what expires when                      |
 * | `r`      | `<r>`                        | `{ p: peer id, envelopes, bytes, since, x: strangers' usage }` |
 * | `d`      | `<d>`                        | `{ envelopes, bytes }` across recipients (absent when zero) |
 * | `p`      | `<r>!<d>`                    | `{ envelopes, bytes }` of one depositor for one recipient   |
 * | `s`      | `seq`                        | last sequence number used                                  |
 *
 * `seq` is one counter for the whole mailbox, written in the same batch as the envelopes that
 * use it: per-recipient keys keep deposit order and a number is never handed out twice.
 * An acknowledged envelope leaves its id behind (with its seq, as a FETCH cursor) until the
 * time to live has passed since the ack, so a sender's late retry is a duplicate, not new mail.
 * What the keys still show to someone without the data key: how many envelopes each (unnamed)
 * recipient holds and when they were deposited.
 */

/** Index entry of an envelope still held: seq, deposited at, depositor's tag, envelope bytes, from a stranger. */
export interface LiveEntry { s: number, t: number, d: string, n: number, x?: 1 }
/** Index entry of an acknowledged envelope: seq, acked at. */
export interface AckedEntry { s: number, a: number }
export type IndexEntry = LiveEntry | AckedEntry

export function isLive (entry: IndexEntry): entry is LiveEntry {
  return 'd' in entry
}

/** Envelopes and bytes held. */
export interface Usage { envelopes: number, bytes: number }
/** A registered recipient: its peer id, what is held for it (strangers' part too), since when it is registered. */
export interface RecipientRecord extends Usage { p: string, since: number, x: Usage }

const WIDTH = 12
const hex12 = (n: number): string => n.toString(16).padStart(WIDTH, '0')

export const mailKey = (r: string, seq: number): string => `${r}!${hex12(seq)}`
export const indexKey = (r: string, i: string): string => `${r}!${i}`
export const pairKey = (r: string, d: string): string => `${r}!${d}`
export const timeKey = (time: number, r: string, i: string): string => `${hex12(time)}!${r}!${i}`
/** Every time key of entries that expire at `time` or before. */
export const timeKeysUpTo = (time: number): { lt: string } => ({ lt: hex12(time + 1) })
/** Keys of one recipient in `m`, `i` and `p` (tags are base64url: `~` sorts after them all). */
export const rangeOf = (r: string): { gt: string, lt: string } => ({ gt: `${r}!`, lt: `${r}!~` })

/** A time key's recipient and envelope tags. */
export function parseTimeKey (key: string): { r: string, i: string } | undefined {
  const [, r, i] = key.split('!')
  return r == null || i == null ? undefined : { r, i }
}

/** The time of an index entry's time key. */
export function timeOf (entry: IndexEntry): number {
  return isLive(entry) ? entry.t : entry.a
}

/** The key of tags for a mailbox without sealing: public, so such tags hide nothing. */
const PUBLIC_TAG_KEY = new TextEncoder().encode('kith/mailbox/unsealed')

/**
 * Keyed hashes (HMAC-SHA-256, 128 bits, base64url) that stand for ids in database keys: the
 * same id always gives the same tag, and without the key a tag can't be matched to an id, not
 * even by trying every peer id one knows. Each kind of id has its own domain.
 */
export class Tags {
  constructor (private readonly key: Uint8Array = PUBLIC_TAG_KEY) {}

  private tag (kind: string, value: string): string {
    return createHmac('sha256', this.key).update(`${kind}\0${value}`).digest().subarray(0, 16).toString('base64url')
  }

  recipient (peer: string): string { return this.tag('r', peer) }
  /** A depositor: known ones and strangers never share a tag, whatever their ids. */
  depositor (id: string, stranger: boolean): string { return this.tag(stranger ? 'stranger' : 'known', id) }
  envelope (hexId: string): string { return this.tag('i', hexId) }
}

const MAIL_VERSION = 2
const HEADER = 1 + 16 + 8

export function encodeMail (id: Uint8Array, depositedAt: number, envelope: Uint8Array): Uint8Array {
  const value = new Uint8Array(HEADER + envelope.length)
  value[0] = MAIL_VERSION
  value.set(id, 1)
  new DataView(value.buffer).setFloat64(17, depositedAt)
  value.set(envelope, HEADER)
  return value
}

export function decodeMail (value: Uint8Array): { id: Uint8Array, depositedAt: number, envelope: Uint8Array } {
  if (value[0] !== MAIL_VERSION || value.length < HEADER) throw new Error('unknown mail record')
  return {
    id: value.slice(1, 17),
    depositedAt: new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(17),
    envelope: value.slice(HEADER)
  }
}

/** Any abstract-level database with string keys: LevelDB (`level`) on disk, memory-level in tests. */
export type MailboxDb = AbstractLevel<any, string, any>
export type Op = AbstractBatchOperation<MailboxDb, string, any>
type Range = { gt?: string, lt?: string, limit?: number }

interface Codec<V> { encode: (value: V) => Uint8Array, decode: (bytes: Uint8Array) => V }
const json: Codec<any> = {
  encode: (value) => new TextEncoder().encode(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes))
}
const bytes: Codec<Uint8Array> = { encode: (value) => value, decode: (value) => value }

type Cipher = Pick<MailboxSealing, 'seal' | 'open'>

/**
 * One sublevel whose values go through a codec and, with a cipher, are sealed with
 * `mailbox/<sublevel>/<key>` as associated data. Writes are returned as batch operations, so a
 * change spanning several tables stays one atomic batch.
 */
export class Table<V> {
  private readonly sub: AbstractSublevel<MailboxDb, any, string, Uint8Array>

  constructor (root: AbstractSublevel<MailboxDb, any, string, any>, private readonly name: string, private readonly codec: Codec<V>, private readonly cipher?: Cipher) {
    this.sub = root.sublevel<string, Uint8Array>(name, { valueEncoding: 'view' })
  }

  put (key: string, value: V): Op {
    const encoded = this.codec.encode(value)
    return { type: 'put', sublevel: this.sub, key, value: this.cipher?.seal(this.aad(key), encoded) ?? encoded } as unknown as Op
  }

  del (key: string): Op {
    return { type: 'del', sublevel: this.sub, key } as unknown as Op
  }

  async get (key: string): Promise<V | undefined> {
    const value = await this.sub.get(key)
    return value == null ? undefined : this.decode(key, value)
  }

  async getMany (keys: string[]): Promise<Array<V | undefined>> {
    if (keys.length === 0) return []
    return (await this.sub.getMany(keys)).map((value, i) => value == null ? undefined : this.decode(keys[i] as string, value))
  }

  async keys (range: Range = {}): Promise<string[]> {
    return await this.sub.keys(range).all()
  }

  async entries (range: Range = {}): Promise<Array<[string, V]>> {
    return (await this.sub.iterator(range).all()).map(([key, value]) => [key, this.decode(key, value)])
  }

  /** Entries one at a time, for ranges too large to hold at once. */
  async * iterate (range: Range = {}): AsyncGenerator<[string, V]> {
    for await (const [key, value] of this.sub.iterator(range)) yield [key, this.decode(key, value)]
  }

  private decode (key: string, value: Uint8Array): V {
    return this.codec.decode(this.cipher?.open(this.aad(key), value) ?? value)
  }

  private aad (key: string): string {
    return `mailbox/${this.name}/${key}`
  }
}

/** The tables of a mailbox database, and its tags. */
export interface Tables {
  tags: Tags
  mail: Table<Uint8Array>
  index: Table<IndexEntry>
  /** Time keys have empty values, never sealed. */
  times: Table<Uint8Array>
  recipients: Table<RecipientRecord>
  depositors: Table<Usage>
  pairs: Table<Usage>
  meta: Table<number>
}

export function tables (db: MailboxDb, sealing?: MailboxSealing): Tables {
  const root = db.sublevel<string, Uint8Array>('v2', { valueEncoding: 'view' })
  return {
    tags: new Tags(sealing?.tagKey),
    mail: new Table(root, 'm', bytes, sealing),
    index: new Table(root, 'i', json, sealing),
    times: new Table(root, 't', bytes),
    recipients: new Table(root, 'r', json, sealing),
    depositors: new Table(root, 'd', json, sealing),
    pairs: new Table(root, 'p', json, sealing),
    meta: new Table(root, 's', json, sealing)
  }
}

/** The value of a time key. */
export const EMPTY = new Uint8Array(0)
