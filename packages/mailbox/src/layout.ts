import type { AbstractBatchOperation, AbstractLevel, AbstractSublevel } from 'abstract-level'

/**
 * How a mailbox lays out its database. All keys are strings; peer ids are base58btc, so they
 * never contain the `!` separator, and `~` sorts after every character keys use.
 *
 * | sublevel | key                                   | value                                      |
 * |----------|---------------------------------------|--------------------------------------------|
 * | `m`      | `<recipient>!<seq, 12 hex>`           | version 1, id (16), depositedAt (f64), envelope |
 * | `i`      | `<recipient>!<id hex>`                | live `{ s, t, d, n }` or acked `{ s, a }`  |
 * | `t`      | `<time, 12 hex>!<recipient>!<id hex>` | empty: what expires when                   |
 * | `r`      | `<recipient>`                         | `{ envelopes, bytes, since }`: registered  |
 * | `d`      | `<depositor>`                         | `{ envelopes, bytes }` (absent when zero)  |
 * | `s`      | `seq`                                 | last sequence number used                  |
 *
 * `seq` is one counter for the whole mailbox, written in the same batch as the envelopes that
 * use it: per-recipient keys keep deposit order and a number is never handed out twice.
 * An acknowledged envelope leaves its id behind (with its seq, as a FETCH cursor) until the
 * time to live has passed since the ack, so a sender's late retry is a duplicate, not new mail.
 */

/** Index entry of an envelope still held: seq, deposited at, depositor, envelope bytes. */
export interface LiveEntry { s: number, t: number, d: string, n: number }
/** Index entry of an acknowledged envelope: seq, acked at. */
export interface AckedEntry { s: number, a: number }
export type IndexEntry = LiveEntry | AckedEntry

export function isLive (entry: IndexEntry): entry is LiveEntry {
  return 'd' in entry
}

/** Envelopes and bytes held. */
export interface Usage { envelopes: number, bytes: number }
/** A registered recipient: what is held for it, and since when it is registered. */
export interface RecipientRecord extends Usage { since: number }

const WIDTH = 12
const hex12 = (n: number): string => n.toString(16).padStart(WIDTH, '0')

export const mailKey = (recipient: string, seq: number): string => `${recipient}!${hex12(seq)}`
export const indexKey = (recipient: string, id: string): string => `${recipient}!${id}`
export const timeKey = (time: number, recipient: string, id: string): string => `${hex12(time)}!${recipient}!${id}`
/** Every time key of entries that expire at `time` or before. */
export const timeKeysUpTo = (time: number): { lt: string } => ({ lt: hex12(time + 1) })
/** Keys of one recipient in `m` and `i`. */
export const rangeOf = (recipient: string): { gt: string, lt: string } => ({ gt: `${recipient}!`, lt: `${recipient}!~` })

/** A time key's recipient and id. */
export function parseTimeKey (key: string): { recipient: string, id: string } | undefined {
  const [, recipient, id] = key.split('!')
  return recipient == null || id == null ? undefined : { recipient, id }
}

/** The time of an index entry's time key. */
export function timeOf (entry: IndexEntry): number {
  return isLive(entry) ? entry.t : entry.a
}

const MAIL_VERSION = 1
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
type Sub<V> = AbstractSublevel<MailboxDb, any, string, V>

/** The sublevels of a mailbox database. */
export interface Tables {
  mail: Sub<Uint8Array>
  index: Sub<IndexEntry>
  times: Sub<string>
  recipients: Sub<RecipientRecord>
  depositors: Sub<Usage>
  meta: Sub<number>
}

export function tables (db: MailboxDb): Tables {
  return {
    mail: db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' }),
    index: db.sublevel<string, IndexEntry>('i', { valueEncoding: 'json' }),
    times: db.sublevel<string, string>('t', { valueEncoding: 'utf8' }),
    recipients: db.sublevel<string, RecipientRecord>('r', { valueEncoding: 'json' }),
    depositors: db.sublevel<string, Usage>('d', { valueEncoding: 'json' }),
    meta: db.sublevel<string, number>('s', { valueEncoding: 'json' })
  }
}

/** A put into one sublevel, for a batch on the whole database. */
export function put<V> (sublevel: Sub<V>, key: string, value: V): Op {
  return { type: 'put', sublevel, key, value } as unknown as Op
}

/** A delete in one sublevel, for a batch on the whole database. */
export function del (sublevel: Sub<any>, key: string): Op {
  return { type: 'del', sublevel, key } as unknown as Op
}
