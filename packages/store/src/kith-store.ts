import { createHash } from 'node:crypto'
import { LIMITS, MESSAGE_ID_BYTES, fromHex, toHex } from '@kith/core'
import { GroupCommit } from './group-commit.js'
import type { Db, Op } from './group-commit.js'

/** One write, to be committed atomically with others (see {@link KithStore.putSecret}). */
export type StoreOp = Op
import type { ContactRecord, HistoryOptions, InviteRecord, MessageRecord, MessageStatus, OutboxEntry } from './types.js'
import { Table, binaryJsonCodec, bytesCodec, jsonCodec } from './table.js'
import type { RecordCipher } from './table.js'
import type { HistoryImport, HistoryRef, HistorySyncEntries, ImportedMessage } from './types.js'
import { ITEM_BYTES, MAX_SMALL_SEGMENTS, SEGMENT_MAX_ITEMS, compareWithHistory, countOf, decodeSegment, encodeSegment, entriesOf, segmentsOf, sortItems, writeItem } from './history-index.js'
import type { IndexedConversation } from './history-index.js'
/** A message to store; its status defaults to 'received' where the method says so. */
type NewMessage = Omit<MessageRecord, 'seq' | 'status'> & { status?: MessageRecord['status'] }

/** Ids reserved by {@link KithStore.claim}. */
export interface IncomingClaim {
  /** Ids already stored, or being written by someone else: duplicates. */
  readonly known: ReadonlySet<string>
  /** Give the other ids back. */
  release(): void
}

interface IndexEntry { conversation: string, seq: number }

/** Statuses only move forward: a late "sent" never undoes "delivered". */
const RANK: Record<MessageStatus, number> = { queued: 0, sent: 1, stored: 2, delivered: 3, refused: 3, received: 3 }
const SEQ_WIDTH = 12

function seqKey (conversation: string, seq: number): string {
  return `${conversation}!${seq.toString(16).padStart(SEQ_WIDTH, '0')}`
}

/** An outbox value: the 16-byte message id, the message's length (4 bytes) and bytes, then the envelope. */
function outboxValue (id: string, envelope: Uint8Array, message: Uint8Array = new Uint8Array()): Uint8Array {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(message.length)
  return Buffer.concat([fromHex(id), length, message, envelope])
}

function parseOutboxValue (key: string, value: Uint8Array): OutboxEntry {
  const split = key.lastIndexOf('!')
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  const length = bytes.readUInt32BE(MESSAGE_ID_BYTES)
  const start = MESSAGE_ID_BYTES + 4
  return {
    id: toHex(value.subarray(0, MESSAGE_ID_BYTES)),
    peer: key.slice(0, split),
    seq: parseInt(key.slice(split + 1), 16),
    envelope: new Uint8Array(value.subarray(start + length)),
    ...(length > 0 ? { message: new Uint8Array(value.subarray(start, start + length)) } : {})
  }
}

const INVITE_KEY_PREFIX = 'sha256/'

/** Where an invite is stored: a hash of its token (hex), so the database never holds the token itself. */
function inviteKey (token: string): string {
  return INVITE_KEY_PREFIX + createHash('sha256').update('kith/invite-token/v1\0').update(token).digest('hex')
}

/** A runner of async functions one at a time, in the order given (a failure does not stop the next). */
function oneAtATime (): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve()
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return await run
  }
}

function rangeOf (conversation: string): { gt: string, lt: string } {
  return { gt: `${conversation}!`, lt: `${conversation}!~` }
}

/**
 * Kith's state in one ordered key-value database: contacts, issued invites, history, the
 * outbox. Every state change is ONE atomic batch, so a crash (kill -9) at any moment leaves
 * either the old state or the new one, never half of each. Changes that arrive together are
 * written together (group commit), each still whole.
 *
 * Works over any abstract-level database; `openStore(path)` gives LevelDB, `memoryStore()` an
 * in-memory one for tests. Both pass the same compliance suite.
 */
export class KithStore {
  private readonly db: Db
  private readonly writer: GroupCommit
  private readonly messages: Table<MessageRecord>
  private readonly index: Table<IndexEntry>
  /** Outbox values are binary: the 16-byte message id, the message it seals, then the envelope exactly as sent. */
  private readonly outbox: Table<Uint8Array>
  private readonly contactsDb: Table<ContactRecord>
  /** Issued invites by {@link inviteKey}: only the expiry is kept, never the token. */
  private readonly invites: Table<{ expires: number }>
  /** Last seq used per conversation, written in the same batch as whatever used it. */
  private readonly seqs: Table<number>
  /** Key material and ratchet sessions of end-to-end encryption. */
  private readonly secrets: Table<any>
  /** History sync's index of every record's time and id (see the history sync section). */
  private readonly historyIndex: Table<Uint8Array>
  /** Contacts are few and read on every message: all of them, in memory, loaded on open. */
  private readonly contacts = new Map<string, ContactRecord>()
  /** Each device of a contact, to the contact (its `peerId`). */
  private readonly contactDevices = new Map<string, string>()
  /** Last seq per conversation, loaded on first use; writes are ordered by it. */
  private readonly lastSeq = new Map<string, Promise<number> | number>()
  /** Ids being written right now: a second copy arriving meanwhile is a duplicate. */
  private readonly writing = new Set<string>()
  /** Outgoing messages not yet settled, by id: status changes need no read while they are here. */
  private readonly unsettled = new Map<string, MessageRecord>()
  /** Contact writes, one at a time (see {@link updateContact}). */
  private readonly contactWrites = oneAtATime()
  /** Status changes read, then write: they run one at a time so none overwrites another. */
  private readonly serialized = oneAtATime()

  /**
   * @param cipher - seals every stored value (encryption at rest); without one, values are
   * stored in the clear (unit tests)
   * @param options.sync - fsync every batch before it counts as written (the default): a
   * message is acknowledged, or its envelope leaves, only once it would survive a power cut.
   * `false` leaves writes to the OS (they survive a crash of the process, not of the machine).
   */
  constructor (db: Db, cipher?: RecordCipher, options: { sync?: boolean } = {}) {
    this.db = db
    this.writer = new GroupCommit(db, options.sync ?? true)
    this.messages = new Table(db, 'm', jsonCodec, cipher)
    this.index = new Table(db, 'i', jsonCodec, cipher)
    this.outbox = new Table(db, 'q', bytesCodec, cipher)
    this.contactsDb = new Table(db, 'c', jsonCodec, cipher)
    this.invites = new Table(db, 'v', jsonCodec, cipher)
    this.seqs = new Table(db, 's', jsonCodec, cipher)
    this.secrets = new Table(db, 'k', binaryJsonCodec, cipher)
    this.historyIndex = new Table(db, 'h', bytesCodec, cipher)
  }

  async open (): Promise<void> {
    await this.db.open()
    this.contacts.clear()
    this.contactDevices.clear()
    for (const contact of await this.contactsDb.values()) this.cacheContact(contact)
  }

  private cacheContact (contact: ContactRecord): void {
    const previous = this.contacts.get(contact.peerId)
    for (const device of previous?.devices ?? []) this.contactDevices.delete(device)
    this.contacts.set(contact.peerId, contact)
    for (const device of contact.devices ?? []) this.contactDevices.set(device, contact.peerId)
  }

  async close (): Promise<void> {
    await this.writer.drain()
    await this.db.close()
  }

  // ---- contacts ----

  /** Add or replace a contact. */
  async putContact (contact: ContactRecord): Promise<void> {
    await this.contactWrites(async () => {
      await this.writer.commit([this.contactsDb.put(contact.peerId, contact)])
      this.cacheContact(contact)
    })
  }

  /**
   * Change a contact from its record as it is when the change runs (contact writes run one at
   * a time), so two changes made at once (new addresses, an accepted identity key) never undo
   * each other. `change` returns the new record, or undefined to leave it. Returns the record.
   */
  async updateContact (peerId: string, change: (contact: ContactRecord) => ContactRecord | undefined): Promise<ContactRecord | undefined> {
    return await this.contactWrites(async () => {
      const current = this.contacts.get(peerId)
      const updated = current != null ? change(current) : undefined
      if (updated == null) return current
      await this.writer.commit([this.contactsDb.put(updated.peerId, updated)])
      this.cacheContact(updated)
      return updated
    })
  }

  /**
   * Add a contact and, in the same batch, queue a control envelope for it (an introduction)
   * that is not part of history. Returns the queued outbox entry.
   */
  async addContactWithIntro (contact: ContactRecord, intro: { id: string, envelope: Uint8Array, message?: Uint8Array }, extra: StoreOp[] = []): Promise<OutboxEntry> {
    const entry = await this.queueControl(contact.peerId, intro, [this.contactsDb.put(contact.peerId, contact), ...extra])
    this.cacheContact(contact)
    return entry
  }

  /**
   * Queue an envelope for a peer that is not part of history (an introduction, a control
   * message for another service), with `extra` in the same batch. Returns the outbox entry.
   */
  async queueControl (peer: string, control: { id: string, envelope: Uint8Array, message?: Uint8Array }, extra: StoreOp[] = []): Promise<OutboxEntry> {
    const seq = await this.nextSeq(peer)
    await this.writer.commit([
      this.seqs.put(peer, seq),
      this.index.put(control.id, { conversation: peer, seq }),
      this.outbox.put(seqKey(peer, seq), outboxValue(control.id, control.envelope, control.message)),
      ...extra
    ])
    return { id: control.id, peer, seq, envelope: control.envelope, ...(control.message != null ? { message: control.message } : {}) }
  }

  async getContact (peerId: string): Promise<ContactRecord | undefined> {
    return this.contacts.get(peerId)
  }

  /** An operation that writes a contact, to commit with the change it belongs to; then call {@link contactCommitted}. */
  contactOp (contact: ContactRecord): StoreOp { return this.contactsDb.put(contact.peerId, contact) }
  /** A contact written by a committed {@link contactOp}: lookups see it from now on. */
  contactCommitted (contact: ContactRecord): void { this.cacheContact(contact) }

  /** The contact one of whose devices `device` is (the device it was added by, or one of its list). */
  async getContactByDevice (device: string): Promise<ContactRecord | undefined> {
    // The contact we met by this device comes first: another's list cannot take it over.
    const peerId = this.contactDevices.get(device)
    return this.contacts.get(device) ?? (peerId != null ? this.contacts.get(peerId) : undefined)
  }

  /** The contact with this identity key (as {@link ContactRecord.identity} stores it). */
  async getContactByIdentity (identity: string): Promise<ContactRecord | undefined> {
    return [...this.contacts.values()].find(c => c.identity === identity)
  }

  async listContacts (): Promise<ContactRecord[]> {
    return [...this.contacts.values()]
  }

  /** Find a contact by alias or peer id. */
  async findContact (nameOrPeerId: string): Promise<ContactRecord | undefined> {
    return this.contacts.get(nameOrPeerId) ?? [...this.contacts.values()].find(c => c.name === nameOrPeerId)
  }

  // ---- invites ----
  // Stored under a hash of the token, never the token: LevelDB keys are not sealed at rest, and
  // whoever reads the token from a copy of the database could use it to become a contact.

  /** Invite records written before tokens were hashed are moved once, on first use. */
  private invitesMoved: Promise<void> | undefined

  async putInvite (invite: InviteRecord): Promise<void> {
    await this.moveLegacyInvites()
    // Expired invites can never be used: drop them in the same batch.
    const expired = (await this.invites.entries()).filter(([, stored]) => stored.expires < Date.now()).map(([key]) => this.invites.del(key))
    await this.writer.commit([...expired, this.invites.put(inviteKey(invite.token), { expires: invite.expires })])
  }

  async getInvite (token: string): Promise<InviteRecord | undefined> {
    await this.moveLegacyInvites()
    const stored = await this.invites.get(inviteKey(token))
    return stored != null ? { token, expires: stored.expires } : undefined
  }

  /** Use an invite: the token is spent and the contact added in one batch. */
  async redeemInvite (token: string, contact: ContactRecord, extra: StoreOp[] = []): Promise<void> {
    await this.moveLegacyInvites()
    await this.writer.commit([
      this.invites.del(inviteKey(token)),
      this.contactsDb.put(contact.peerId, contact),
      ...extra
    ])
    this.cacheContact(contact)
  }

  /**
   * Whether any invite of ours is still out at `now` (expired ones are not counted): only then
   * may a stranger's session opening be worth decrypting.
   */
  async hasLiveInvites (now: number): Promise<boolean> {
    for (const invite of await this.invites.values({ limit: 1_000 })) if (invite.expires >= now) return true
    return false
  }

  private async moveLegacyInvites (): Promise<void> {
    this.invitesMoved ??= (async () => {
      const legacy = (await this.invites.entries()).filter(([key]) => !key.startsWith(INVITE_KEY_PREFIX))
      if (legacy.length === 0) return
      await this.writer.commit(legacy.flatMap(([token, stored]) => [this.invites.del(token), this.invites.put(inviteKey(token), { expires: stored.expires })]))
    })()
    // A failed move is tried again on the next call.
    await this.invitesMoved.catch((err) => { this.invitesMoved = undefined; throw err })
  }

  // ---- secrets: end-to-end encryption keys and sessions ----

  async getSecret<T> (name: string): Promise<T | undefined> {
    return await this.secrets.get(name)
  }

  /** All secrets whose names start with `prefix`. */
  async listSecrets<T> (prefix: string): Promise<Array<[string, T]>> {
    return await this.secrets.entries({ gt: prefix, lt: `${prefix}~` })
  }

  /**
   * An operation that records a message id as seen without a history record (an introduction),
   * so a resent copy is recognised before decryption.
   */
  seenIdOp (id: string, conversation: string): StoreOp { return this.index.put(id, { conversation, seq: 0 }) }

  /** An operation that writes a secret, to be committed with the change it belongs to. */
  putSecret (name: string, value: unknown): StoreOp { return this.secrets.put(name, value) }

  /**
   * Like {@link putSecret}, for state that changes with every message: encoded when its batch is
   * written, and skipped when a later one for the same name is in the same batch.
   */
  putLatestSecret (name: string, value: unknown): StoreOp { return this.secrets.putLatest(name, value) }
  delSecret (name: string): StoreOp { return this.secrets.del(name) }

  /** Commit operations built with {@link putSecret}/{@link delSecret} on their own, in one batch. */
  async commit (ops: StoreOp[]): Promise<void> {
    if (ops.length > 0) await this.writer.commit(ops)
  }

  // ---- history and outbox ----

  private async nextSeq (conversation: string): Promise<number> {
    let last = this.lastSeq.get(conversation)
    if (last == null) {
      // The counter is authoritative; the last keys in history and outbox are a floor, so a
      // seq is never handed out twice even for a database written before the counter existed.
      last = (async () => {
        const range = { ...rangeOf(conversation), reverse: true, limit: 1 }
        const [counter, lastMessage, lastOutbox] = await Promise.all([
          this.seqs.get(conversation),
          this.messages.keys(range),
          this.outbox.keys(range)
        ])
        const seqOf = (keys: string[]): number => keys[0] == null ? 0 : parseInt(keys[0].slice(conversation.length + 1), 16)
        return Math.max(counter ?? 0, seqOf(lastMessage), seqOf(lastOutbox))
      })()
      this.lastSeq.set(conversation, last)
    }
    const seq = (await last) + 1
    // Another append may have advanced it while we waited for the first read.
    const current = this.lastSeq.get(conversation)
    const next = typeof current === 'number' && current >= seq ? current + 1 : seq
    this.lastSeq.set(conversation, next)
    return next
  }

  /**
   * Write an outgoing message to history and the outbox in one batch, before anything goes on
   * the wire: one envelope per device it goes to (the contact's devices and our own others).
   * A lone envelope goes to the conversation's device. Returns the history record (with its
   * `seq`) and the outbox entries (`entry` is the first).
   */
  async appendOutgoing (message: NewMessage, to: Uint8Array | Array<{ peer: string, envelope: Uint8Array, message?: Uint8Array }>, extra: StoreOp[] = []): Promise<{ record: MessageRecord, entry: OutboxEntry, entries: OutboxEntry[] }> {
    const envelopes = to instanceof Uint8Array ? [{ peer: message.conversation, envelope: to }] : to
    if (envelopes.length === 0) throw new RangeError('an outgoing message goes to at least one device')
    const seq = await this.nextSeq(message.conversation)
    const record: MessageRecord = { ...message, seq, status: 'queued' }
    const key = seqKey(message.conversation, seq)
    const ops: Op[] = [
      this.messages.put(key, record),
      this.seqs.put(message.conversation, seq),
      this.index.put(message.id, { conversation: message.conversation, seq })
    ]
    const entries: OutboxEntry[] = []
    for (const { peer, envelope, message: sealed } of envelopes) {
      // The conversation's own device shares the conversation's seq; other devices count their own.
      const at = peer === message.conversation ? seq : await this.nextSeq(peer)
      if (peer !== message.conversation) ops.push(this.seqs.put(peer, at))
      ops.push(this.outbox.put(seqKey(peer, at), outboxValue(message.id, envelope, sealed)))
      entries.push({ id: message.id, peer, seq: at, envelope, ...(sealed != null ? { message: sealed } : {}) })
    }
    await this.writer.commit([...ops, ...extra])
    this.unsettled.set(message.id, record)
    return { record, entry: entries[0] as OutboxEntry, entries }
  }

  /**
   * Write a received message unless its id is already known. Returns the stored record, or
   * `undefined` for a duplicate (which must still be acked: the sender lost our first ack).
   */
  async appendIncoming (message: NewMessage): Promise<MessageRecord | undefined> {
    return (await this.appendIncomingMany([message]))[0]
  }

  /**
   * Write received messages, in order, in one batch, skipping ids already known (or repeated
   * in `messages`). Returns, per message, its record or `undefined` for a duplicate.
   */
  async appendIncomingMany (messages: NewMessage[]): Promise<Array<MessageRecord | undefined>> {
    const claim = await this.claim(messages.map(m => m.id))
    try {
      return await this.appendClaimed(messages, claim)
    } finally {
      claim.release()
    }
  }

  /**
   * Reserve message ids before deciding what to do with them: `known` holds the ids already
   * stored or being written by another call; the others are held for this caller (nobody else
   * can write them) until `release()`. A receiver claims, checks what it must, then
   * `appendClaimed`s: one lookup per batch, and duplicates are recognised before any crypto.
   */
  async claim (ids: string[]): Promise<IncomingClaim> {
    const mine = new Set<string>()
    const known = new Set<string>()
    for (const id of ids) {
      if (mine.has(id)) continue
      if (this.writing.has(id)) known.add(id)
      else { this.writing.add(id); mine.add(id) }
    }
    const release = (): void => { for (const id of mine) this.writing.delete(id) }
    try {
      for (const id of await this.knownIds([...mine])) known.add(id)
    } catch (err) {
      release()
      throw err
    }
    return { known, release }
  }

  /**
   * Write received messages whose ids this caller claimed, in one batch: each id once, unless
   * it is known. Returns, per message, its record or `undefined` for a duplicate.
   */
  async appendClaimed (messages: NewMessage[], claim: IncomingClaim, extra: StoreOp[] = []): Promise<Array<MessageRecord | undefined>> {
    const results: Array<MessageRecord | undefined> = []
    const written = new Set<string>()
    const ops: Op[] = []
    for (const m of messages) {
      if (claim.known.has(m.id) || written.has(m.id)) { results.push(undefined); continue }
      written.add(m.id)
      const seq = await this.nextSeq(m.conversation)
      const record: MessageRecord = { ...m, seq, status: m.status ?? 'received' }
      ops.push(
        this.messages.put(seqKey(m.conversation, seq), record),
        this.seqs.put(m.conversation, seq),
        this.index.put(m.id, { conversation: m.conversation, seq })
      )
      results.push(record)
    }
    ops.push(...extra)
    if (ops.length > 0) await this.writer.commit(ops)
    return results
  }

  /** Which of these message ids are already stored (in history or as queued control envelopes). */
  async knownIds (ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set()
    const found = await this.index.getMany(ids)
    return new Set(ids.filter((_, i) => found[i] != null))
  }

  async getMessage (id: string): Promise<MessageRecord | undefined> {
    const at = await this.index.get(id)
    if (at == null) return undefined
    return await this.messages.get(seqKey(at.conversation, at.seq))
  }

  /** Mark messages `sent` (written to the wire) in one batch. Returns the records that changed. */
  async markSent (ids: string[]): Promise<MessageRecord[]> {
    return await this.advance(ids, record => RANK[record.status] < RANK.sent ? { ...record, status: 'sent' } : undefined)
  }

  /**
   * Mark messages `stored` at `mailboxes` of the recipient's mailboxes (the recipient could not
   * be reached), in one batch. Returns the records that changed.
   */
  async markStored (ids: string[], mailboxes: number): Promise<MessageRecord[]> {
    return await this.advance(ids, record => RANK[record.status] < RANK.stored || (record.status === 'stored' && (record.mailboxes ?? 0) < mailboxes)
      ? { ...record, status: 'stored', mailboxes }
      : undefined)
  }

  /** Note why outgoing messages wait after their recipient answered (see {@link MessageRecord.waiting}). */
  async markWaiting (ids: string[], waiting: 'reset' | 'retry'): Promise<MessageRecord[]> {
    return await this.advance(ids, record => record.waiting !== waiting && RANK[record.status] < RANK.delivered ? { ...record, waiting } : undefined)
  }

  /**
   * Replace outbox entries' envelopes (the same messages sealed again in a renewed session),
   * with `extra` (the new session) in the same batch. Entries already settled are left out.
   */
  async resealOutbox (entries: OutboxEntry[], extra: StoreOp[] = []): Promise<void> {
    // In line with settle(), so an entry settled meanwhile is not written back.
    await this.serialized(async () => {
      const present = await this.outbox.getMany(entries.map(e => seqKey(e.peer, e.seq)))
      const ops: Op[] = [...extra]
      for (const [i, entry] of entries.entries()) {
        if (present[i] == null) continue
        ops.push(this.outbox.put(seqKey(entry.peer, entry.seq), outboxValue(entry.id, entry.envelope, entry.message)))
      }
      await this.writer.commit(ops)
    })
  }

  /** Move outgoing messages on (`next` says to what, or undefined to leave one be), in one batch. */
  private async advance (ids: string[], next: (record: MessageRecord) => MessageRecord | undefined): Promise<MessageRecord[]> {
    return await this.serialized(async () => {
      const found = await this.outgoingRecords(ids)
      const changed: MessageRecord[] = []
      const ops: Op[] = []
      for (const [i, id] of ids.entries()) {
        const record = found[i]
        const updated = record != null ? next(record) : undefined
        if (record == null || updated == null) continue
        ops.push(this.messages.put(seqKey(record.conversation, record.seq), updated))
        this.unsettled.set(id, updated)
        changed.push(updated)
      }
      if (ops.length > 0) await this.writer.commit(ops)
      return changed
    })
  }

  /**
   * Settle outbox entries the recipient answered: remove them from the outbox and move their
   * messages (if they have one in history) to `delivered` or `refused`, in one batch; with no
   * status (a copy for one of our own devices), only remove them. Returns the records that changed.
   */
  async settle (entries: Array<Pick<OutboxEntry, 'id' | 'peer' | 'seq'>>, status: 'delivered' | 'refused' | undefined): Promise<MessageRecord[]> {
    return await this.serialized(async () => {
      const found = await this.outgoingRecords(entries.map(e => e.id))
      const changed: MessageRecord[] = []
      const ops: Op[] = []
      for (const [i, entry] of entries.entries()) {
        // Seqs are never reused, so (peer, seq) names exactly this entry.
        ops.push(this.outbox.del(seqKey(entry.peer, entry.seq)))
        const record = found[i]
        // A message to several devices of a contact settles with the first answer.
        if (status == null || record == null || record.id !== entry.id || changed.some(c => c.id === entry.id)) continue
        this.unsettled.delete(entry.id)
        if (RANK[record.status] >= RANK[status]) continue
        const { mailboxes: _, waiting: __, ...rest } = record
        const updated: MessageRecord = { ...rest, status }
        ops.push(this.messages.put(seqKey(record.conversation, record.seq), updated))
        changed.push(updated)
      }
      if (ops.length > 0) await this.writer.commit(ops)
      return changed
    })
  }

  /** Current records of outgoing messages: from memory while unsettled, else from the database. */
  private async outgoingRecords (ids: string[]): Promise<Array<MessageRecord | undefined>> {
    const found = ids.map(id => this.unsettled.get(id))
    const missing = ids.filter((_, i) => found[i] == null)
    if (missing.length === 0) return found
    const at = await this.index.getMany(missing)
    const keys = at.map(a => a == null ? undefined : seqKey(a.conversation, a.seq))
    const present = keys.filter((k): k is string => k != null)
    const records = present.length > 0 ? await this.messages.getMany(present) : []
    const byKey = new Map(present.map((k, i) => [k, records[i]]))
    let j = 0
    return found.map(record => {
      if (record != null) return record
      const key = keys[j++]
      return key == null ? undefined : byKey.get(key)
    })
  }

  /** A conversation's messages, oldest first: the latest `limit` (before `before`, if given). */
  async history (conversation: string, options: HistoryOptions = {}): Promise<MessageRecord[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 50, LIMITS.maxPageSize))
    const lt = options.before != null ? seqKey(conversation, options.before) : `${conversation}!~`
    const page = await this.messages.values({ gt: `${conversation}!`, lt, reverse: true, limit })
    return page.reverse()
  }

  /** Envelopes not yet acked, for one peer or all, in the order they must go out. */
  async pendingOutbox (peer?: string): Promise<OutboxEntry[]> {
    const stored = await this.outbox.entries(peer != null ? rangeOf(peer) : {})
    return stored.map(([key, value]) => parseOutboxValue(key, value))
  }

  // ---- history sync (between a user's own devices) ----

  /**
   * The sync index ('h'): per conversation, sealed segments of (seq, ts, id) of its history
   * records (see history-index.ts), so history sync learns every record's time and id without
   * opening each record. An import writes its segment in the batch that writes its records;
   * records written by other paths are added by the next {@link historySyncEntries}. Created
   * on first use.
   */
  /** Index refreshes, and the ops of imports, are built one at a time: each reads the index, then writes it. */
  private readonly historySerialized = oneAtATime()
  /**
   * The index as last built, with the seq counters it reflects. Every write of a history record
   * moves its conversation's counter in the same batch (appendOutgoing, appendClaimed,
   * importHistory), so a conversation whose counter has not moved needs no look at history.
   */
  private historyCache: { counters: Map<string, number>, conversations: Map<string, IndexedConversation>, entries: HistorySyncEntries } | undefined
  /** Imports since the cache was built: their segments, added to it once their batch is written. */
  private historyImports: Array<{ committed: Promise<boolean>, segments: Map<string, { key: string, items: Buffer }> }> = []

  /**
   * The place, time and id of every history record, for history sync (control ids, which
   * have no history record, are not included; nor records whose id is not 16 bytes of hex or
   * whose ts is not an integer from 0 to 2^53 - 2). The first call reads the sealed sync index
   * and the keys of history; later ones look again only at conversations written since. A
   * record the index does not cover yet is read once and added to it; additions and any
   * compaction are written in one batch. Returns the same object while nothing changed.
   */
  async historySyncEntries (): Promise<HistorySyncEntries> {
    return await this.historySerialized(async () => {
      // Imports release the queue once their batch is queued: let those batches land.
      await this.writer.drain()
      const counters = new Map(await this.seqs.entries())
      const cache = this.historyCache
      const imports = this.historyImports.splice(0)
      let changed: Map<string, IndexedConversation | undefined>
      let keep: Map<string, IndexedConversation>
      if (cache == null) {
        keep = new Map()
        changed = await this.loadHistoryIndex()
      } else {
        keep = cache.conversations
        const added = new Map<string, { keys: string[], small: number, items: Buffer[] }>()
        for (const { committed, segments } of imports) {
          if (!await committed) continue
          for (const [conversation, { key, items }] of segments) {
            let to = added.get(conversation)
            if (to == null) added.set(conversation, to = { keys: [], small: 0, items: [] })
            to.keys.push(key)
            to.items.push(items)
            if (countOf(items) < SEGMENT_MAX_ITEMS / 2) to.small++
          }
        }
        for (const [conversation, more] of added) {
          const at = keep.get(conversation) ?? { keys: [], small: 0, items: Buffer.alloc(0) }
          keep.set(conversation, { keys: [...at.keys, ...more.keys], small: at.small + more.small, items: sortItems(Buffer.concat([at.items, ...more.items])) })
        }
        changed = new Map()
        for (const [name, counter] of counters) if (cache.counters.get(name) !== counter) changed.set(name, keep.get(name))
        if (changed.size === 0 && imports.length === 0) return cache.entries
      }
      const present = await this.historySeqs(cache == null ? undefined : [...changed.keys()])
      for (const name of present.keys()) if (!changed.has(name)) changed.set(name, keep.get(name))
      const ops: Op[] = []
      const conversations = new Map(keep)
      for (const [name, indexed] of changed) {
        const now = await this.catchUpConversation(name, indexed, present.get(name) ?? [], ops)
        if (countOf(now.items) > 0 || now.keys.length > 0) conversations.set(name, now)
        else conversations.delete(name)
      }
      if (ops.length > 0) await this.writer.commit(ops)
      const entries = entriesOf(new Map([...conversations].map(([name, c]) => [name, c.items])))
      this.historyCache = { counters, conversations, entries }
      return entries
    })
  }

  /** The history records at these places, in order (undefined where there is none). */
  async historyRecordsAt (refs: HistoryRef[]): Promise<Array<MessageRecord | undefined>> {
    return await this.messages.getMany(refs.map(r => seqKey(r.conversation, r.seq)))
  }

  /**
   * Import history records from another of this user's devices, in ONE batch: each record
   * whose id is not known here is appended at the end of its conversation (a batch in (ts, id)
   * order) with everything it carries but its seq, which this store assigns; its sync index
   * segment goes in the same batch. Known ids (in history, or control ids) and ids repeated
   * in the batch are skipped. The caller has checked the records' fields. The next import may
   * start while this one's batch is being written.
   *
   * @throws {RangeError} when a record's id is not 16 bytes of lowercase hex or its conversation is empty or holds a '!'
   */
  async importHistory (records: ImportedMessage[]): Promise<HistoryImport> {
    for (const r of records) {
      if (!/^[0-9a-f]{32}$/.test(r.id)) throw new RangeError('a history record id is 16 bytes of lowercase hex')
      if (r.conversation === '' || r.conversation.includes('!')) throw new RangeError('invalid conversation in a history record')
    }
    const sorted = [...records].sort((a, b) => a.ts !== b.ts ? (a.ts < b.ts ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    const claim = await this.claim(sorted.map(r => r.id))
    try {
      const { written, committed } = await this.historySerialized(async () => {
        const ops: Op[] = []
        const written: MessageRecord[] = []
        const byConversation = new Map<string, MessageRecord[]>()
        const done = new Set<string>()
        for (const r of sorted) {
          if (claim.known.has(r.id) || done.has(r.id)) continue
          done.add(r.id)
          const seq = await this.nextSeq(r.conversation)
          const record: MessageRecord = { ...r, seq }
          ops.push(this.messages.put(seqKey(r.conversation, seq), record), this.index.put(r.id, { conversation: r.conversation, seq }))
          written.push(record)
          const list = byConversation.get(r.conversation)
          if (list == null) byConversation.set(r.conversation, [record])
          else list.push(record)
        }
        const segments = new Map<string, { key: string, items: Buffer }>()
        for (const [conversation, list] of byConversation) {
          const items = Buffer.allocUnsafe(list.length * ITEM_BYTES)
          list.forEach((r, i) => { writeItem(items, i * ITEM_BYTES, r.seq, r.ts, r.id) })
          const key = seqKey(conversation, (list[0] as MessageRecord).seq)
          segments.set(conversation, { key, items })
          ops.push(this.seqs.put(conversation, (list[list.length - 1] as MessageRecord).seq), this.historyIndex.put(key, encodeSegment(items)))
        }
        const committed = ops.length > 0 ? this.writer.commit(ops) : Promise.resolve()
        if (this.historyCache != null && segments.size > 0) this.historyImports.push({ committed: committed.then(() => true, () => false), segments })
        return { written, committed }
      })
      await committed
      return { records: written, known: sorted.length - written.length }
    } finally {
      claim.release()
    }
  }

  /** The index's segments, by conversation, read and decoded (a broken segment is dropped and makes its conversation compact). */
  private async loadHistoryIndex (): Promise<Map<string, IndexedConversation>> {
    const parts = new Map<string, { keys: string[], small: number, items: Buffer[] }>()
    for (const [key, value] of await this.historyIndex.entries()) {
      const conversation = key.slice(0, key.lastIndexOf('!'))
      let entry = parts.get(conversation)
      if (entry == null) parts.set(conversation, entry = { keys: [], small: 0, items: [] })
      entry.keys.push(key)
      const items = decodeSegment(value)
      if (items == null) entry.small = Number.POSITIVE_INFINITY
      else {
        entry.items.push(items)
        if (countOf(items) < SEGMENT_MAX_ITEMS / 2) entry.small++
      }
    }
    return new Map([...parts].map(([c, e]) => [c, { keys: e.keys, small: e.small, items: sortItems(Buffer.concat(e.items)) }]))
  }

  /** The seqs in history of these conversations (all when undefined), ascending, from the keys alone. */
  private async historySeqs (conversations: string[] | undefined): Promise<Map<string, number[]>> {
    const present = new Map<string, number[]>()
    const add = (key: string): void => {
      const split = key.lastIndexOf('!')
      const conversation = key.slice(0, split)
      let seqs = present.get(conversation)
      if (seqs == null) present.set(conversation, seqs = [])
      seqs.push(parseInt(key.slice(split + 1), 16))
    }
    if (conversations == null) for (const key of await this.messages.keys()) add(key)
    else for (const conversation of conversations) for (const key of await this.messages.keys(rangeOf(conversation))) add(key)
    return present
  }

  /**
   * Bring one conversation's index in line with the seqs present in its history: drop items
   * whose record is gone, read the records not indexed yet, compact when small segments have
   * piled up. Pushes the writes to `ops`; returns the conversation's index as it will be.
   */
  private async catchUpConversation (conversation: string, indexed: IndexedConversation | undefined, present: number[], ops: Op[]): Promise<IndexedConversation> {
    const { kept, missing, stale } = compareWithHistory(indexed?.items ?? Buffer.alloc(0), present)
    const added = await this.readIndexItems(conversation, missing)
    const items = added.length === 0 ? kept : sortItems(Buffer.concat([kept, added]))
    const rewrite = stale || (indexed?.small ?? 0) > MAX_SMALL_SEGMENTS
    // A rewrite deletes every segment first, so a key written again keeps its new value.
    if (rewrite) for (const key of indexed?.keys ?? []) ops.push(this.historyIndex.del(key))
    const keys = rewrite ? [] : [...indexed?.keys ?? []]
    let small = rewrite ? 0 : indexed?.small ?? 0
    for (const segment of segmentsOf(rewrite ? items : added)) {
      const key = seqKey(conversation, segment.first)
      ops.push(this.historyIndex.put(key, encodeSegment(segment.items)))
      keys.push(key)
      if (countOf(segment.items) < SEGMENT_MAX_ITEMS / 2) small++
    }
    return { keys, small, items }
  }

  /** Read the records at these seqs (ascending) and make their index items. */
  private async readIndexItems (conversation: string, seqs: number[]): Promise<Buffer> {
    const out = Buffer.allocUnsafe(seqs.length * ITEM_BYTES)
    let count = 0
    for (let at = 0; at < seqs.length; at += 2000) {
      const batch = seqs.slice(at, at + 2000)
      const records = await this.messages.getMany(batch.map(seq => seqKey(conversation, seq)))
      records.forEach((record, i) => {
        // Gone since the keys were read: the next look sees it gone.
        if (record != null) writeItem(out, ITEM_BYTES * count++, batch[i] as number, record.ts, record.id)
      })
    }
    return out.subarray(0, count * ITEM_BYTES)
  }
}
