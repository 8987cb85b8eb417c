import { MESSAGE_ID_BYTES, decodeEnvelope, toHex } from '@kith/core'
import { checkMailbox } from './check.js'
import { decodeMail, del, encodeMail, indexKey, isLive, mailKey, parseTimeKey, put, rangeOf, tables, timeKey, timeKeysUpTo, timeOf } from './layout.js'
import { isPeerIdString, recipientOf } from './recipient.js'
import { resolveLimits } from './types.js'
import type { IndexEntry, MailboxDb, Op, RecipientRecord, Tables, Usage } from './layout.js'
import type { DepositResult, Deposited, FetchOptions, MailboxEntry, MailboxLimits, MailboxQuota, MailboxStats, MailboxStoreOptions } from './types.js'

const EXPIRE_CHUNK = 1000
const SEQ = 'seq'

const exceeds = (usage: Usage, size: number, quota: Required<MailboxQuota>): boolean =>
  usage.envelopes + 1 > quota.envelopes || usage.bytes + size > quota.bytes

/**
 * Sealed envelopes held for registered recipients, in deposit order, with quotas per recipient
 * and per depositor, a time to live and deletion on acknowledgement. It never decrypts
 * anything: it reads only an envelope's recipient and id.
 *
 * Every state change is ONE batch of the database, counters included, so a crash (kill -9) at
 * any moment loses and duplicates nothing, and the counters always match what is held. Changes
 * run one at a time. Counters are kept in memory too (loaded by {@link open}), so quotas and
 * {@link stats} cost no reads.
 */
export class MailboxStore {
  readonly limits: MailboxLimits
  private readonly db: MailboxDb
  private readonly t: Tables
  private readonly registered = new Map<string, RecipientRecord>()
  private readonly depositors = new Map<string, Usage>()
  private total: Usage = { envelopes: 0, bytes: 0 }
  private lastSeq = 0
  private queue: Promise<unknown> = Promise.resolve()

  constructor (db: MailboxDb, options: MailboxStoreOptions = {}) {
    this.db = db
    this.t = tables(db)
    this.limits = resolveLimits(options)
  }

  /** Open the database (if it is not open yet) and load the counters. */
  async open (): Promise<void> {
    await this.db.open()
    this.registered.clear()
    this.depositors.clear()
    this.total = { envelopes: 0, bytes: 0 }
    for (const [peer, record] of await this.t.recipients.iterator().all()) {
      this.registered.set(peer, record)
      this.total.envelopes += record.envelopes
      this.total.bytes += record.bytes
    }
    for (const [peer, usage] of await this.t.depositors.iterator().all()) this.depositors.set(peer, usage)
    this.lastSeq = await this.t.meta.get(SEQ) ?? 0
  }

  /** Wait for changes under way, then close the database. */
  async close (): Promise<void> {
    await this.queue
    await this.db.close()
  }

  // ---- recipients ----

  /** Hold mail for `recipient` (a peer id string) from now on. */
  async register (recipient: string, now = Date.now()): Promise<void> {
    if (!isPeerIdString(recipient)) throw new TypeError('recipient is not a peer id')
    await this.exclusive(async () => {
      if (this.registered.has(recipient)) return
      const record = { envelopes: 0, bytes: 0, since: now }
      await this.db.batch([put(this.t.recipients, recipient, record)])
      this.registered.set(recipient, record)
    })
  }

  /** Stop holding mail for `recipient` and drop what is held, in one batch. Returns how many envelopes were dropped. */
  async unregister (recipient: string): Promise<number> {
    return await this.exclusive(async () => {
      const record = this.registered.get(recipient)
      if (record == null) return 0
      const ops: Op[] = [del(this.t.recipients, recipient)]
      const depositors = new Map<string, Usage>()
      for (const [key, entry] of await this.t.index.iterator(rangeOf(recipient)).all()) {
        const id = key.slice(recipient.length + 1)
        ops.push(del(this.t.index, key), del(this.t.times, timeKey(timeOf(entry), recipient, id)))
        if (isLive(entry)) {
          ops.push(del(this.t.mail, mailKey(recipient, entry.s)))
          this.release(depositors, entry.d, entry.n)
        }
      }
      ops.push(...this.depositorOps(depositors))
      await this.db.batch(ops)
      this.registered.delete(recipient)
      this.total.envelopes -= record.envelopes
      this.total.bytes -= record.bytes
      this.applyDepositors(depositors)
      return record.envelopes
    })
  }

  isRegistered (recipient: string): boolean {
    return this.registered.has(recipient)
  }

  /** Registered recipients. */
  recipients (): string[] {
    return [...this.registered.keys()]
  }

  // ---- deposit, fetch, ack, expire ----

  /** Hold envelopes for their recipients; see {@link depositEach}. Returns one result per envelope, in order. */
  async deposit (depositor: string, envelopes: Uint8Array[], now = Date.now()): Promise<DepositResult[]> {
    return (await this.depositEach(depositor, envelopes, now)).map(d => d.result)
  }

  /**
   * Hold envelopes for their recipients. Each is checked in order: size, strict decoding, a
   * 16-byte id, a recipient that is a peer id and registered, not already held (or acknowledged
   * within the time to live), then the quotas. Everything stored, and the counters, are written
   * in one batch.
   */
  async depositEach (depositor: string, envelopes: Uint8Array[], now = Date.now()): Promise<Deposited[]> {
    now = Math.floor(now) // times are whole ms in keys
    return await this.exclusive(async () => {
      const out: Deposited[] = []
      const candidates: Array<{ slot: Deposited, recipient: string, id: Uint8Array, hexId: string, envelope: Uint8Array }> = []
      for (const envelope of envelopes) {
        const read = this.read(envelope)
        const slot: Deposited = typeof read === 'string' ? { result: read } : { result: 'stored', recipient: read.recipient, id: read.hexId }
        out.push(slot)
        if (typeof read !== 'string') candidates.push({ slot, ...read, envelope })
      }
      if (candidates.length === 0) return out
      const held = await this.t.index.getMany(candidates.map(c => indexKey(c.recipient, c.hexId)))
      const recipients = new Map<string, RecipientRecord>()
      const depositor0 = this.depositors.get(depositor)
      const usage: Usage = { envelopes: depositor0?.envelopes ?? 0, bytes: depositor0?.bytes ?? 0 }
      const seen = new Set<string>()
      const ops: Op[] = []
      let seq = this.lastSeq
      for (const [i, c] of candidates.entries()) {
        const key = indexKey(c.recipient, c.hexId)
        if (held[i] !== undefined || seen.has(key)) { c.slot.result = 'duplicate'; continue }
        const record = recipients.get(c.recipient) ?? { ...(this.registered.get(c.recipient) as RecipientRecord) }
        const size = c.envelope.length
        if (exceeds(record, size, this.limits.perRecipient) || exceeds(usage, size, this.limits.perDepositor)) { c.slot.result = 'quota'; continue }
        seen.add(key)
        seq++
        const entry: IndexEntry = { s: seq, t: now, d: depositor, n: size }
        ops.push(
          put(this.t.mail, mailKey(c.recipient, seq), encodeMail(c.id, now, c.envelope)),
          put(this.t.index, key, entry),
          put(this.t.times, timeKey(now, c.recipient, c.hexId), '')
        )
        record.envelopes++
        record.bytes += size
        usage.envelopes++
        usage.bytes += size
        recipients.set(c.recipient, record)
      }
      if (ops.length === 0) return out
      for (const [recipient, record] of recipients) ops.push(put(this.t.recipients, recipient, record))
      ops.push(put(this.t.depositors, depositor, usage), put(this.t.meta, SEQ, seq))
      await this.db.batch(ops)
      this.total.envelopes += usage.envelopes - (depositor0?.envelopes ?? 0)
      this.total.bytes += usage.bytes - (depositor0?.bytes ?? 0)
      for (const [recipient, record] of recipients) this.registered.set(recipient, record)
      this.depositors.set(depositor, usage)
      this.lastSeq = seq
      return out
    })
  }

  /** Envelopes held for `recipient`, in deposit order, without expired ones. */
  async fetch (recipient: string, options: FetchOptions): Promise<MailboxEntry[]> {
    return (await this.page(recipient, options)).entries
  }

  /** Like {@link fetch}, and whether more is held after these. */
  async page (recipient: string, options: FetchOptions): Promise<{ entries: MailboxEntry[], more: boolean }> {
    const { limit, after, maxBytes = Infinity, now = Date.now() } = options
    if (!this.registered.has(recipient) || !(limit >= 1)) return { entries: [], more: false }
    const range = rangeOf(recipient)
    let gt = range.gt
    if (after !== undefined) {
      const cursor = await this.t.index.get(indexKey(recipient, after))
      if (cursor != null) gt = mailKey(recipient, cursor.s)
    }
    const cutoff = now - this.limits.ttlMs
    const entries: MailboxEntry[] = []
    let bytes = 0
    let more = false
    for await (const value of this.t.mail.values({ gt, lt: range.lt })) {
      const mail = decodeMail(value)
      if (mail.depositedAt <= cutoff) continue
      if (entries.length >= limit || (entries.length > 0 && bytes + mail.envelope.length > maxBytes)) {
        more = true
        break
      }
      entries.push({ id: toHex(mail.id), envelope: mail.envelope, depositedAt: mail.depositedAt })
      bytes += mail.envelope.length
    }
    return { entries, more }
  }

  /**
   * Delete envelopes `recipient` has taken in (by hex id), in one batch. Their ids are kept
   * for the time to live, so a late copy is a duplicate. Returns how many were deleted.
   */
  async ack (recipient: string, ids: string[], now = Date.now()): Promise<number> {
    now = Math.floor(now)
    return await this.exclusive(async () => {
      const record = this.registered.get(recipient)
      if (record == null || ids.length === 0) return 0
      const unique = [...new Set(ids)]
      const found = await this.t.index.getMany(unique.map(id => indexKey(recipient, id)))
      const updated = { ...record }
      const depositors = new Map<string, Usage>()
      const ops: Op[] = []
      for (const [i, entry] of found.entries()) {
        if (entry == null || !isLive(entry)) continue
        const id = unique[i] as string
        ops.push(
          del(this.t.mail, mailKey(recipient, entry.s)),
          del(this.t.times, timeKey(entry.t, recipient, id)),
          put(this.t.index, indexKey(recipient, id), { s: entry.s, a: now }),
          put(this.t.times, timeKey(now, recipient, id), '')
        )
        updated.envelopes--
        updated.bytes -= entry.n
        this.release(depositors, entry.d, entry.n)
      }
      const count = record.envelopes - updated.envelopes
      if (count === 0) return 0
      ops.push(put(this.t.recipients, recipient, updated), ...this.depositorOps(depositors))
      await this.db.batch(ops)
      this.registered.set(recipient, updated)
      this.total.envelopes -= count
      this.total.bytes -= record.bytes - updated.bytes
      this.applyDepositors(depositors)
      return count
    })
  }

  /**
   * Drop envelopes deposited, and ids acknowledged, longer than the time to live ago, in batches
   * of up to 1000. Returns how many envelopes were dropped.
   */
  async expire (now = Date.now()): Promise<number> {
    const cutoff = Math.floor(now - this.limits.ttlMs)
    if (cutoff < 0) return 0
    let expired = 0
    while (true) {
      const { count, done } = await this.exclusive(async () => await this.expireChunk(cutoff))
      expired += count
      if (done) return expired
    }
  }

  private async expireChunk (cutoff: number): Promise<{ count: number, done: boolean }> {
    const keys = await this.t.times.keys({ ...timeKeysUpTo(cutoff), limit: EXPIRE_CHUNK }).all()
    if (keys.length === 0) return { count: 0, done: true }
    const refs = keys.map(parseTimeKey)
    const found = await this.t.index.getMany(refs.map(r => r == null ? '' : indexKey(r.recipient, r.id)))
    const ops: Op[] = []
    const recipients = new Map<string, RecipientRecord>()
    const depositors = new Map<string, Usage>()
    let count = 0
    for (const [i, key] of keys.entries()) {
      ops.push(del(this.t.times, key))
      const ref = refs[i]
      const entry = found[i]
      // A time key that its index entry does not point back to is a leftover: just drop it.
      if (ref == null || entry == null || timeKey(timeOf(entry), ref.recipient, ref.id) !== key) continue
      ops.push(del(this.t.index, indexKey(ref.recipient, ref.id)))
      if (!isLive(entry)) continue
      ops.push(del(this.t.mail, mailKey(ref.recipient, entry.s)))
      const base = this.registered.get(ref.recipient)
      if (base != null) {
        const record = recipients.get(ref.recipient) ?? { ...base }
        record.envelopes--
        record.bytes -= entry.n
        recipients.set(ref.recipient, record)
      }
      this.release(depositors, entry.d, entry.n)
      count++
    }
    for (const [recipient, record] of recipients) ops.push(put(this.t.recipients, recipient, record))
    ops.push(...this.depositorOps(depositors))
    await this.db.batch(ops)
    for (const [recipient, record] of recipients) {
      const before = this.registered.get(recipient) as RecipientRecord
      this.total.envelopes -= before.envelopes - record.envelopes
      this.total.bytes -= before.bytes - record.bytes
      this.registered.set(recipient, record)
    }
    this.applyDepositors(depositors)
    return { count, done: keys.length < EXPIRE_CHUNK }
  }

  // ---- counters ----

  /** What is held, from the counters. */
  stats (): MailboxStats {
    const byRecipient: Record<string, Usage> = {}
    for (const [peer, r] of this.registered) byRecipient[peer] = { envelopes: r.envelopes, bytes: r.bytes }
    return { recipients: this.registered.size, envelopes: this.total.envelopes, bytes: this.total.bytes, byRecipient }
  }

  /** What `depositor` has held here, from the counters. */
  depositorUsage (depositor: string): Usage {
    const usage = this.depositors.get(depositor)
    return { envelopes: usage?.envelopes ?? 0, bytes: usage?.bytes ?? 0 }
  }

  /**
   * Scan the whole database and list every inconsistency found (empty when all is well):
   * counters against contents, the indexes against the envelopes, the counters in memory
   * against the stored ones. For tests and repair tools; it reads everything.
   */
  async check (): Promise<string[]> {
    return await this.exclusive(async () => {
      const problems = await checkMailbox(this.t)
      const stored = new Map((await this.t.recipients.iterator().all()).map(([k, v]) => [k, v]))
      if (stored.size !== this.registered.size || [...this.registered].some(([k, v]) => stored.get(k)?.envelopes !== v.envelopes || stored.get(k)?.bytes !== v.bytes)) {
        problems.push('recipient counters in memory differ from the stored ones')
      }
      let envelopes = 0
      let bytes = 0
      for (const r of stored.values()) { envelopes += r.envelopes; bytes += r.bytes }
      if (envelopes !== this.total.envelopes || bytes !== this.total.bytes) problems.push('totals in memory differ from the stored counters')
      for (const [peer, usage] of await this.t.depositors.iterator().all()) {
        const mine = this.depositors.get(peer)
        if (mine?.envelopes !== usage.envelopes || mine.bytes !== usage.bytes) problems.push(`depositor ${peer}: counters in memory differ from the stored ones`)
      }
      if ((await this.t.meta.get(SEQ) ?? 0) !== this.lastSeq) problems.push('sequence number in memory differs from the stored one')
      return problems
    })
  }

  // ---- internals ----

  /** Run state changes one at a time: each reads counters, then writes one batch. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }

  /** The checks of a deposit that need no reads. */
  private read (envelope: Uint8Array): DepositResult | { recipient: string, id: Uint8Array, hexId: string } {
    if (envelope.length > this.limits.maxEnvelopeBytes) return 'oversized'
    let decoded
    try {
      decoded = decodeEnvelope(envelope)
    } catch {
      return 'malformed'
    }
    if (decoded.id.length !== MESSAGE_ID_BYTES) return 'malformed'
    const recipient = recipientOf(decoded.recipient)
    if (recipient === undefined) return 'malformed'
    if (!this.registered.has(recipient)) return 'unknown-recipient'
    return { recipient, id: decoded.id, hexId: toHex(decoded.id) }
  }

  /** Note in `changes` (copies of the depositors' counters) that `bytes` of `depositor` left. */
  private release (changes: Map<string, Usage>, depositor: string, bytes: number): void {
    let usage = changes.get(depositor)
    if (usage == null) {
      const current = this.depositors.get(depositor)
      usage = { envelopes: current?.envelopes ?? 0, bytes: current?.bytes ?? 0 }
      changes.set(depositor, usage)
    }
    usage.envelopes--
    usage.bytes -= bytes
  }

  private depositorOps (changes: Map<string, Usage>): Op[] {
    return [...changes].map(([peer, usage]) => usage.envelopes <= 0 ? del(this.t.depositors, peer) : put(this.t.depositors, peer, usage))
  }

  private applyDepositors (changes: Map<string, Usage>): void {
    for (const [peer, usage] of changes) {
      if (usage.envelopes <= 0) this.depositors.delete(peer)
      else this.depositors.set(peer, usage)
    }
  }
}
