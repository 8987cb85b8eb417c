import { LIMITS } from '@kith/core'
import type { AbstractLevel, AbstractSublevel, AbstractBatchOperation } from 'abstract-level'
import type { ContactRecord, HistoryOptions, InviteRecord, MessageRecord, MessageStatus, OutboxEntry } from './types.js'

// Any abstract-level database with string keys: classic-level on disk, memory-level in tests.
type Db = AbstractLevel<any, string, any>
type Sub<V> = AbstractSublevel<Db, any, string, V>
type Op = AbstractBatchOperation<Db, string, any>

interface StoredOutbox { id: string, peer: string, seq: number, envelope: string }
interface IndexEntry { conversation: string, seq: number }

/** Statuses only move forward: a late "sent" never undoes "delivered". */
const RANK: Record<MessageStatus, number> = { queued: 0, sent: 1, delivered: 2, refused: 2, received: 2 }
const SEQ_WIDTH = 12

function seqKey (conversation: string, seq: number): string {
  return `${conversation}!${seq.toString(16).padStart(SEQ_WIDTH, '0')}`
}

/**
 * Kith's state in one ordered key-value database: contacts, issued invites, history, the
 * outbox. Every state change is ONE atomic batch, so a crash (kill -9) at any moment leaves
 * either the old state or the new one, never half of each.
 *
 * Works over any abstract-level database; `openStore(path)` gives LevelDB, `memoryStore()` an
 * in-memory one for tests. Both pass the same compliance suite.
 */
export class KithStore {
  private readonly db: Db
  private readonly messages: Sub<MessageRecord>
  private readonly index: Sub<IndexEntry>
  private readonly outbox: Sub<StoredOutbox>
  private readonly contacts: Sub<ContactRecord>
  private readonly invites: Sub<InviteRecord>
  /** Last seq used per conversation, written in the same batch as whatever used it. */
  private readonly seqs: Sub<number>
  /** Last seq per conversation, loaded on first use; writes are ordered by it. */
  private readonly lastSeq = new Map<string, Promise<number> | number>()
  /** Ids being written right now: a second copy arriving meanwhile is a duplicate. */
  private readonly writing = new Set<string>()
  /** Status changes read, then write: they run one at a time so none overwrites another. */
  private statusQueue: Promise<unknown> = Promise.resolve()

  constructor (db: Db) {
    this.db = db
    const json = { valueEncoding: 'json' }
    this.messages = db.sublevel<string, MessageRecord>('m', json)
    this.index = db.sublevel<string, IndexEntry>('i', json)
    this.outbox = db.sublevel<string, StoredOutbox>('o', json)
    this.contacts = db.sublevel<string, ContactRecord>('c', json)
    this.invites = db.sublevel<string, InviteRecord>('v', json)
    this.seqs = db.sublevel<string, number>('s', json)
  }

  async open (): Promise<void> { await this.db.open() }
  async close (): Promise<void> { await this.db.close() }

  // ---- contacts ----

  /** Add or replace a contact. */
  async putContact (contact: ContactRecord): Promise<void> {
    await this.contacts.put(contact.peerId, contact)
  }

  /**
   * Add a contact and, in the same batch, queue a control envelope for it (an introduction)
   * that is not part of history. Returns the queued outbox entry.
   */
  async addContactWithIntro (contact: ContactRecord, intro: { id: string, envelope: Uint8Array }): Promise<OutboxEntry> {
    const seq = await this.nextSeq(contact.peerId)
    await this.db.batch([
      { type: 'put', sublevel: this.contacts, key: contact.peerId, value: contact },
      { type: 'put', sublevel: this.seqs, key: contact.peerId, value: seq },
      { type: 'put', sublevel: this.index, key: intro.id, value: { conversation: contact.peerId, seq } },
      { type: 'put', sublevel: this.outbox, key: seqKey(contact.peerId, seq), value: { id: intro.id, peer: contact.peerId, seq, envelope: Buffer.from(intro.envelope).toString('base64') } }
    ] as Op[])
    return { id: intro.id, peer: contact.peerId, seq, envelope: intro.envelope }
  }

  async getContact (peerId: string): Promise<ContactRecord | undefined> {
    return await this.contacts.get(peerId)
  }

  async listContacts (): Promise<ContactRecord[]> {
    return await this.contacts.values().all()
  }

  /** Find a contact by alias or peer id. */
  async findContact (nameOrPeerId: string): Promise<ContactRecord | undefined> {
    const byId = await this.contacts.get(nameOrPeerId)
    if (byId != null) return byId
    return (await this.listContacts()).find(c => c.name === nameOrPeerId)
  }

  // ---- invites ----

  async putInvite (invite: InviteRecord): Promise<void> {
    await this.invites.put(invite.token, invite)
  }

  async getInvite (token: string): Promise<InviteRecord | undefined> {
    return await this.invites.get(token)
  }

  /** Use an invite: the token is spent and the contact added in one batch. */
  async redeemInvite (token: string, contact: ContactRecord): Promise<void> {
    await this.db.batch([
      { type: 'del', sublevel: this.invites, key: token },
      { type: 'put', sublevel: this.contacts, key: contact.peerId, value: contact }
    ] as Op[])
  }

  // ---- history and outbox ----

  private async nextSeq (conversation: string): Promise<number> {
    let last = this.lastSeq.get(conversation)
    if (last == null) {
      // The counter is authoritative; the last keys in history and outbox are a floor, so a
      // seq is never handed out twice even for a database written before the counter existed.
      last = (async () => {
        const range = { gt: `${conversation}!`, lt: `${conversation}!~`, reverse: true, limit: 1 }
        const [counter, lastMessage, lastOutbox] = await Promise.all([
          this.seqs.get(conversation),
          this.messages.keys(range).all(),
          this.outbox.keys(range).all()
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
  async appendOutgoing (message: Omit<MessageRecord, 'seq' | 'status'>, envelope: Uint8Array): Promise<{ record: MessageRecord, entry: OutboxEntry }> {
    const seq = await this.nextSeq(message.conversation)
    const record: MessageRecord = { ...message, seq, status: 'queued' }
    const key = seqKey(message.conversation, seq)
    await this.db.batch([
      { type: 'put', sublevel: this.messages, key, value: record },
      { type: 'put', sublevel: this.seqs, key: message.conversation, value: seq },
      { type: 'put', sublevel: this.index, key: message.id, value: { conversation: message.conversation, seq } },
      { type: 'put', sublevel: this.outbox, key, value: { id: message.id, peer: message.conversation, seq, envelope: Buffer.from(envelope).toString('base64') } }
    ] as Op[])
    return { record, entry: { id: message.id, peer: message.conversation, seq, envelope } }
  }

  /**
   * Write a received message unless its id is already known. Returns the stored record, or
   * `undefined` for a duplicate (which must still be acked: the sender lost our first ack).
   */
  async appendIncoming (message: Omit<MessageRecord, 'seq' | 'status'>): Promise<MessageRecord | undefined> {
    if (this.writing.has(message.id)) return undefined
    this.writing.add(message.id)
    try {
      if (await this.index.get(message.id) != null) return undefined
      const seq = await this.nextSeq(message.conversation)
      const record: MessageRecord = { ...message, seq, status: 'received' }
      await this.db.batch([
        { type: 'put', sublevel: this.messages, key: seqKey(message.conversation, seq), value: record },
        { type: 'put', sublevel: this.seqs, key: message.conversation, value: seq },
        { type: 'put', sublevel: this.index, key: message.id, value: { conversation: message.conversation, seq } }
      ] as Op[])
      return record
    } finally {
      this.writing.delete(message.id)
    }
  }

  async getMessage (id: string): Promise<MessageRecord | undefined> {
    const at = await this.index.get(id)
    if (at == null) return undefined
    return await this.messages.get(seqKey(at.conversation, at.seq))
  }

  /** Mark messages `sent` (written to the wire) in one batch. Returns the records that changed. */
  async markSent (ids: string[]): Promise<MessageRecord[]> {
    return await this.serialized(async () => {
      const changed: MessageRecord[] = []
      const ops: Op[] = []
      for (const id of ids) {
        const record = await this.getMessage(id)
        if (record == null || RANK[record.status] >= RANK.sent) continue
        const updated: MessageRecord = { ...record, status: 'sent' }
        ops.push({ type: 'put', sublevel: this.messages, key: seqKey(record.conversation, record.seq), value: updated })
        changed.push(updated)
      }
      if (ops.length > 0) await this.db.batch(ops)
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
      const changed: MessageRecord[] = []
      const ops: Op[] = []
      for (const entry of entries) {
        const key = seqKey(entry.peer, entry.seq)
        if ((await this.outbox.get(key))?.id === entry.id) ops.push({ type: 'del', sublevel: this.outbox, key })
        const record = await this.messages.get(key)
        if (record == null || record.id !== entry.id || RANK[record.status] >= RANK[status]) continue
        const updated: MessageRecord = { ...record, status }
        ops.push({ type: 'put', sublevel: this.messages, key, value: updated })
        changed.push(updated)
      }
      if (ops.length > 0) await this.db.batch(ops)
      return changed
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
    const page = await this.messages.values({ gt: `${conversation}!`, lt, reverse: true, limit }).all()
    return page.reverse()
  }

  /** Envelopes not yet acked, for one peer or all, in the order they must go out. */
  async pendingOutbox (peer?: string): Promise<OutboxEntry[]> {
    const range = peer != null ? { gt: `${peer}!`, lt: `${peer}!~` } : {}
    const stored = await this.outbox.values(range).all()
    return stored.map(e => ({ id: e.id, peer: e.peer, seq: e.seq, envelope: new Uint8Array(Buffer.from(e.envelope, 'base64')) }))
  }
}
