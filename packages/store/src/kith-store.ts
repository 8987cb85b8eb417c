import { LIMITS, MESSAGE_ID_BYTES, fromHex, toHex } from '@kith/core'
import { GroupCommit } from './group-commit.js'
import type { Db, Op } from './group-commit.js'

/** One write, to be committed atomically with others (see {@link KithStore.putSecret}). */
export type StoreOp = Op
import type { ContactRecord, HistoryOptions, InviteRecord, MessageRecord, MessageStatus, OutboxEntry } from './types.js'
import { Table, binaryJsonCodec, bytesCodec, jsonCodec } from './table.js'
import type { RecordCipher } from './table.js'
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

function outboxValue (id: string, envelope: Uint8Array): Uint8Array {
  return Buffer.concat([fromHex(id), envelope])
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
  /** Outbox values are binary: the 16-byte message id, then the envelope exactly as sent. */
  private readonly outbox: Table<Uint8Array>
  private readonly contactsDb: Table<ContactRecord>
  private readonly invites: Table<InviteRecord>
  /** Last seq used per conversation, written in the same batch as whatever used it. */
  private readonly seqs: Table<number>
  /** Key material and ratchet sessions of end-to-end encryption. */
  private readonly secrets: Table<any>
  /** Contacts are few and read on every message: all of them, in memory, loaded on open. */
  private readonly contacts = new Map<string, ContactRecord>()
  /** Last seq per conversation, loaded on first use; writes are ordered by it. */
  private readonly lastSeq = new Map<string, Promise<number> | number>()
  /** Ids being written right now: a second copy arriving meanwhile is a duplicate. */
  private readonly writing = new Set<string>()
  /** Outgoing messages not yet settled, by id: status changes need no read while they are here. */
  private readonly unsettled = new Map<string, MessageRecord>()
  /** Status changes read, then write: they run one at a time so none overwrites another. */
  private statusQueue: Promise<unknown> = Promise.resolve()

  /**
   * @param cipher - seals every stored value (encryption at rest); without one, values are
   * stored in the clear (unit tests)
   */
  constructor (db: Db, cipher?: RecordCipher) {
    this.db = db
    this.writer = new GroupCommit(db)
    this.messages = new Table(db, 'm', jsonCodec, cipher)
    this.index = new Table(db, 'i', jsonCodec, cipher)
    this.outbox = new Table(db, 'q', bytesCodec, cipher)
    this.contactsDb = new Table(db, 'c', jsonCodec, cipher)
    this.invites = new Table(db, 'v', jsonCodec, cipher)
    this.seqs = new Table(db, 's', jsonCodec, cipher)
    this.secrets = new Table(db, 'k', binaryJsonCodec, cipher)
  }

  async open (): Promise<void> {
    await this.db.open()
    this.contacts.clear()
    for (const contact of await this.contactsDb.values()) this.contacts.set(contact.peerId, contact)
  }

  async close (): Promise<void> {
    await this.writer.drain()
    await this.db.close()
  }

  // ---- contacts ----

  /** Add or replace a contact. */
  async putContact (contact: ContactRecord): Promise<void> {
    await this.writer.commit([this.contactsDb.put(contact.peerId, contact)])
    this.contacts.set(contact.peerId, contact)
  }

  /**
   * Add a contact and, in the same batch, queue a control envelope for it (an introduction)
   * that is not part of history. Returns the queued outbox entry.
   */
  async addContactWithIntro (contact: ContactRecord, intro: { id: string, envelope: Uint8Array }, extra: StoreOp[] = []): Promise<OutboxEntry> {
    const entry = await this.queueControl(contact.peerId, intro, [this.contactsDb.put(contact.peerId, contact), ...extra])
    this.contacts.set(contact.peerId, contact)
    return entry
  }

  /**
   * Queue an envelope for a peer that is not part of history (an introduction, a control
   * message for another service), with `extra` in the same batch. Returns the outbox entry.
   */
  async queueControl (peer: string, control: { id: string, envelope: Uint8Array }, extra: StoreOp[] = []): Promise<OutboxEntry> {
    const seq = await this.nextSeq(peer)
    await this.writer.commit([
      this.seqs.put(peer, seq),
      this.index.put(control.id, { conversation: peer, seq }),
      this.outbox.put(seqKey(peer, seq), outboxValue(control.id, control.envelope)),
      ...extra
    ])
    return { id: control.id, peer, seq, envelope: control.envelope }
  }

  async getContact (peerId: string): Promise<ContactRecord | undefined> {
    return this.contacts.get(peerId)
  }

  async listContacts (): Promise<ContactRecord[]> {
    return [...this.contacts.values()]
  }

  /** Find a contact by alias or peer id. */
  async findContact (nameOrPeerId: string): Promise<ContactRecord | undefined> {
    return this.contacts.get(nameOrPeerId) ?? [...this.contacts.values()].find(c => c.name === nameOrPeerId)
  }

  // ---- invites ----

  async putInvite (invite: InviteRecord): Promise<void> {
    await this.writer.commit([this.invites.put(invite.token, invite)])
  }

  async getInvite (token: string): Promise<InviteRecord | undefined> {
    return await this.invites.get(token)
  }

  /** Use an invite: the token is spent and the contact added in one batch. */
  async redeemInvite (token: string, contact: ContactRecord, extra: StoreOp[] = []): Promise<void> {
    await this.writer.commit([
      this.invites.del(token),
      this.contactsDb.put(contact.peerId, contact),
      ...extra
    ])
    this.contacts.set(contact.peerId, contact)
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
   * the wire. Returns the history record (with its `seq`) and the outbox entry.
   */
  async appendOutgoing (message: NewMessage, envelope: Uint8Array, extra: StoreOp[] = []): Promise<{ record: MessageRecord, entry: OutboxEntry }> {
    const seq = await this.nextSeq(message.conversation)
    const record: MessageRecord = { ...message, seq, status: 'queued' }
    const key = seqKey(message.conversation, seq)
    await this.writer.commit([
      this.messages.put(key, record),
      this.seqs.put(message.conversation, seq),
      this.index.put(message.id, { conversation: message.conversation, seq }),
      this.outbox.put(key, outboxValue(message.id, envelope)),
      ...extra
    ])
    this.unsettled.set(message.id, record)
    return { record, entry: { id: message.id, peer: message.conversation, seq, envelope } }
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
   * messages (if they have one in history) to `delivered` or `refused`, in one batch.
   * Returns the records that changed.
   */
  async settle (entries: Array<Pick<OutboxEntry, 'id' | 'peer' | 'seq'>>, status: 'delivered' | 'refused'): Promise<MessageRecord[]> {
    return await this.serialized(async () => {
      const found = await this.outgoingRecords(entries.map(e => e.id))
      const changed: MessageRecord[] = []
      const ops: Op[] = []
      for (const [i, entry] of entries.entries()) {
        // Seqs are never reused, so (peer, seq) names exactly this entry.
        const key = seqKey(entry.peer, entry.seq)
        ops.push(this.outbox.del(key))
        this.unsettled.delete(entry.id)
        const record = found[i]
        if (record == null || record.conversation !== entry.peer || record.seq !== entry.seq || RANK[record.status] >= RANK[status]) continue
        const { mailboxes: _, ...rest } = record
        const updated: MessageRecord = { ...rest, status }
        ops.push(this.messages.put(key, updated))
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

  private async serialized<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.statusQueue.then(fn, fn)
    this.statusQueue = run.catch(() => {})
    return await run
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
    return stored.map(([key, value]) => {
      const split = key.lastIndexOf('!')
      return { id: toHex(value.subarray(0, MESSAGE_ID_BYTES)), peer: key.slice(0, split), seq: parseInt(key.slice(split + 1), 16), envelope: new Uint8Array(value.subarray(MESSAGE_ID_BYTES)) }
    })
  }
}
