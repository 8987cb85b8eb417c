import { MESSAGE_ID_BYTES, decodeEnvelope, toHex } from '@kith/core'
import { checkMailbox } from './check.js'
import { Counters } from './counters.js'
import { EMPTY, decodeMail, encodeMail, indexKey, isLive, mailKey, parseTimeKey, rangeOf, tables, timeKey, timeKeysUpTo, timeOf } from './layout.js'
import { migrateLegacy } from './migrate.js'
import { isPeerIdString, recipientOf } from './recipient.js'
import { resolveLimits } from './types.js'
import type { Change } from './counters.js'
import type { LiveEntry, MailboxDb, Op, Tables, Usage } from './layout.js'
import type { DepositResult, Deposited, Depositor, FetchOptions, MailboxEntry, MailboxLimits, MailboxQuota, MailboxStats, MailboxStoreOptions } from './types.js'

const EXPIRE_CHUNK = 1000
const SEQ = 'seq'

const exceeds = (usage: Usage, size: number, quota: Required<MailboxQuota>): boolean =>
  usage.envelopes + 1 > quota.envelopes || usage.bytes + size > quota.bytes

const asDepositor = (depositor: string | Depositor): Required<Depositor> =>
  typeof depositor === 'string' ? { id: depositor, stranger: false } : { id: depositor.id, stranger: depositor.stranger === true }

/**
 * Sealed envelopes held for registered recipients, in deposit order, with quotas, a time to
 * live and deletion on acknowledgement. It never decrypts anything: it reads only an
 * envelope's recipient and id.
 *
 * Quotas: what is held for one recipient; what one depositor holds across all recipients;
 * what one depositor holds for one recipient (a share of the recipient's quota, so no single
 * sender locks the others out); and what all strangers together hold for one recipient (peer
 * ids are free to make, so a thousand fresh ones get no more than one).
 *
 * Every state change is ONE batch of the database, counters included, so a crash (kill -9) at
 * any moment loses and duplicates nothing, and the counters always match what is held. Changes
 * run one at a time. Counters are kept in memory too (loaded by {@link open}), so quotas and
 * {@link stats} cost no reads. With `sealing`, the database names no peer (see layout.ts).
 */
export class MailboxStore {
  readonly limits: MailboxLimits
  private readonly db: MailboxDb
  private readonly sealing: MailboxStoreOptions['sealing']
  private t: Tables
  private readonly counters = new Counters()
  private lastSeq = 0
  private queue: Promise<unknown> = Promise.resolve()

  constructor (db: MailboxDb, options: MailboxStoreOptions = {}) {
    this.db = db
    this.sealing = options.sealing
    this.t = tables(db, options.sealing)
    this.limits = resolveLimits(options)
  }

  /** Open the database (if it is not open yet), move a database of the first layout into this one, and load the counters. */
  async open (): Promise<void> {
    await this.db.open()
    if (await migrateLegacy(this.db, this.t)) {
      // LevelDB's bookkeeping (its MANIFEST and info LOG, kept as LOG.old once) still names
      // keys of the first layout: each reopening rewrites the one and rotates the other.
      for (let i = 0; i < 2; i++) { await this.db.close(); await this.db.open() }
      this.t = tables(this.db, this.sealing) // sublevels stay closed when their database reopens
    }
    await this.counters.load(this.t)
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
    const r = this.t.tags.recipient(recipient)
    await this.exclusive(async () => {
      if (this.counters.recipients.has(r)) return
      const change = this.counters.change()
      change.register(r, recipient, now)
      await this.db.batch(change.ops(this.t))
      change.apply()
    })
  }

  /** Stop holding mail for `recipient` and drop what is held, in one batch. Returns how many envelopes were dropped. */
  async unregister (recipient: string): Promise<number> {
    const r = this.t.tags.recipient(recipient)
    return await this.exclusive(async () => {
      const record = this.counters.recipients.get(r)
      if (record == null) return 0
      const change = this.counters.change()
      const ops: Op[] = []
      for (const [key, entry] of await this.t.index.entries(rangeOf(r))) {
        ops.push(this.t.index.del(key), this.t.times.del(timeKey(timeOf(entry), r, key.slice(r.length + 1))))
        if (isLive(entry)) {
          ops.push(this.t.mail.del(mailKey(r, entry.s)))
          change.count(r, entry, -1)
        }
      }
      change.drop(r)
      await this.db.batch([...ops, ...change.ops(this.t)])
      change.apply()
      return record.envelopes
    })
  }

  isRegistered (recipient: string): boolean {
    return this.counters.recipients.has(this.t.tags.recipient(recipient))
  }

  /** Registered recipients. */
  recipients (): string[] {
    return [...this.counters.recipients.values()].map(record => record.p)
  }

  // ---- deposit, fetch, ack, expire ----

  /** Hold envelopes for their recipients; see {@link depositEach}. Returns one result per envelope, in order. */
  async deposit (depositor: string | Depositor, envelopes: Uint8Array[], now = Date.now()): Promise<DepositResult[]> {
    return (await this.depositEach(depositor, envelopes, now)).map(d => d.result)
  }

  /**
   * Hold envelopes for their recipients. Each is checked in order: size, strict decoding, a
   * 16-byte id, a recipient that is a peer id and registered, not already held (or acknowledged
   * within the time to live), then the quotas. Everything stored, and the counters, are written
   * in one batch. A depositor given as a string is a known one (not a stranger).
   */
  async depositEach (depositor: string | Depositor, envelopes: Uint8Array[], now = Date.now()): Promise<Deposited[]> {
    now = Math.floor(now) // times are whole ms in keys
    const who = asDepositor(depositor)
    const d = this.t.tags.depositor(who.id, who.stranger)
    return await this.exclusive(async () => {
      const out: Deposited[] = []
      const candidates: Array<{ slot: Deposited, r: string, i: string, id: Uint8Array, envelope: Uint8Array }> = []
      for (const envelope of envelopes) {
        const read = this.read(envelope)
        const slot: Deposited = typeof read === 'string' ? { result: read } : { result: 'stored', recipient: read.recipient, id: read.hexId }
        out.push(slot)
        if (typeof read !== 'string') candidates.push({ slot, r: read.r, i: this.t.tags.envelope(read.hexId), id: read.id, envelope })
      }
      if (candidates.length === 0) return out
      const held = await this.t.index.getMany(candidates.map(c => indexKey(c.r, c.i)))
      const change = this.counters.change()
      const seen = new Set<string>()
      const ops: Op[] = []
      let seq = this.lastSeq
      for (const [k, c] of candidates.entries()) {
        const key = indexKey(c.r, c.i)
        if (held[k] !== undefined || seen.has(key)) { c.slot.result = 'duplicate'; continue }
        const entry: LiveEntry = { s: seq + 1, t: now, d, n: c.envelope.length, ...(who.stranger ? { x: 1 as const } : {}) }
        const refusal = this.overQuota(change, c.r, entry)
        if (refusal !== undefined) { c.slot.result = refusal; continue }
        seen.add(key)
        seq++
        ops.push(
          this.t.mail.put(mailKey(c.r, seq), encodeMail(c.id, now, c.envelope)),
          this.t.index.put(key, entry),
          this.t.times.put(timeKey(now, c.r, c.i), EMPTY)
        )
        change.count(c.r, entry, 1)
      }
      if (ops.length === 0) return out
      await this.db.batch([...ops, ...change.ops(this.t), this.t.meta.put(SEQ, seq)])
      change.apply()
      this.lastSeq = seq
      return out
    })
  }

  /** Which quota a new envelope would exceed, if any: the recipient's, the strangers' share, the depositor's share, the depositor's own. */
  private overQuota (change: Change, r: string, entry: LiveEntry): DepositResult | undefined {
    const record = change.recipient(r)
    if (record == null || exceeds(record, entry.n, this.limits.perRecipient)) return 'quota'
    if (entry.x === 1 && exceeds(record.x, entry.n, this.limits.strangers)) return 'quota-strangers'
    if (exceeds(change.pair(r, entry.d), entry.n, this.limits.share)) return 'quota-depositor'
    if (exceeds(change.depositor(entry.d), entry.n, this.limits.perDepositor)) return 'quota'
    return undefined
  }

  /** Envelopes held for `recipient`, in deposit order, without expired ones. */
  async fetch (recipient: string, options: FetchOptions): Promise<MailboxEntry[]> {
    return (await this.page(recipient, options)).entries
  }

  /** Like {@link fetch}, and whether more is held after these. */
  async page (recipient: string, options: FetchOptions): Promise<{ entries: MailboxEntry[], more: boolean }> {
    const { limit, after, maxBytes = Infinity, now = Date.now() } = options
    const r = this.t.tags.recipient(recipient)
    if (!this.counters.recipients.has(r) || !(limit >= 1)) return { entries: [], more: false }
    const range = rangeOf(r)
    let gt = range.gt
    if (after !== undefined) {
      const cursor = await this.t.index.get(indexKey(r, this.t.tags.envelope(after)))
      if (cursor != null) gt = mailKey(r, cursor.s)
    }
    const cutoff = now - this.limits.ttlMs
    const entries: MailboxEntry[] = []
    let bytes = 0
    let more = false
    for await (const [, value] of this.t.mail.iterate({ gt, lt: range.lt })) {
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
    const r = this.t.tags.recipient(recipient)
    return await this.exclusive(async () => {
      if (!this.counters.recipients.has(r) || ids.length === 0) return 0
      const tags = [...new Set(ids)].map(id => this.t.tags.envelope(id))
      const found = await this.t.index.getMany(tags.map(i => indexKey(r, i)))
      const change = this.counters.change()
      const ops: Op[] = []
      let count = 0
      for (const [k, entry] of found.entries()) {
        if (entry == null || !isLive(entry)) continue
        const i = tags[k] as string
        ops.push(
          this.t.mail.del(mailKey(r, entry.s)),
          this.t.times.del(timeKey(entry.t, r, i)),
          this.t.index.put(indexKey(r, i), { s: entry.s, a: now }),
          this.t.times.put(timeKey(now, r, i), EMPTY)
        )
        change.count(r, entry, -1)
        count++
      }
      if (count === 0) return 0
      await this.db.batch([...ops, ...change.ops(this.t)])
      change.apply()
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
    const keys = await this.t.times.keys({ ...timeKeysUpTo(cutoff), limit: EXPIRE_CHUNK })
    if (keys.length === 0) return { count: 0, done: true }
    const refs = keys.map(parseTimeKey)
    const found = await this.t.index.getMany(refs.map(ref => ref == null ? '' : indexKey(ref.r, ref.i)))
    const change = this.counters.change()
    const ops: Op[] = []
    let count = 0
    for (const [k, key] of keys.entries()) {
      ops.push(this.t.times.del(key))
      const ref = refs[k]
      const entry = found[k]
      // A time key that its index entry does not point back to is a leftover: just drop it.
      if (ref == null || entry == null || timeKey(timeOf(entry), ref.r, ref.i) !== key) continue
      ops.push(this.t.index.del(indexKey(ref.r, ref.i)))
      if (!isLive(entry)) continue
      ops.push(this.t.mail.del(mailKey(ref.r, entry.s)))
      change.count(ref.r, entry, -1)
      count++
    }
    await this.db.batch([...ops, ...change.ops(this.t)])
    change.apply()
    return { count, done: keys.length < EXPIRE_CHUNK }
  }

  // ---- counters ----

  /** What is held, from the counters. */
  stats (): MailboxStats {
    const byRecipient: Record<string, Usage> = {}
    for (const record of this.counters.recipients.values()) byRecipient[record.p] = { envelopes: record.envelopes, bytes: record.bytes }
    const { envelopes, bytes } = this.counters.total
    return { recipients: this.counters.recipients.size, envelopes, bytes, byRecipient }
  }

  /** What `depositor` has held here, across all recipients (or for `recipient` only), from the counters. */
  depositorUsage (depositor: string | Depositor, recipient?: string): Usage {
    const who = asDepositor(depositor)
    const d = this.t.tags.depositor(who.id, who.stranger)
    const usage = recipient === undefined ? this.counters.depositors.get(d) : this.counters.pairs.get(`${this.t.tags.recipient(recipient)}!${d}`)
    return { envelopes: usage?.envelopes ?? 0, bytes: usage?.bytes ?? 0 }
  }

  /** What all strangers together hold for `recipient`, from the counters. */
  strangersUsage (recipient: string): Usage {
    const record = this.counters.recipients.get(this.t.tags.recipient(recipient))
    return { envelopes: record?.x.envelopes ?? 0, bytes: record?.x.bytes ?? 0 }
  }

  /**
   * Scan the whole database and list every inconsistency found (empty when all is well):
   * counters against contents, the indexes against the envelopes, the counters in memory
   * against the stored ones. For tests and repair tools; it reads everything.
   */
  async check (): Promise<string[]> {
    return await this.exclusive(async () => {
      const problems = await checkMailbox(this.t)
      const stored = new Counters()
      await stored.load(this.t)
      const differ = (name: string, a: Map<string, Usage>, b: Map<string, Usage>): void => {
        if (a.size !== b.size || [...a].some(([k, v]) => b.get(k)?.envelopes !== v.envelopes || b.get(k)?.bytes !== v.bytes)) problems.push(`${name} counters in memory differ from the stored ones`)
      }
      differ('recipient', this.counters.recipients, stored.recipients)
      differ('strangers\'', new Map([...this.counters.recipients].map(([r, v]) => [r, v.x])), new Map([...stored.recipients].map(([r, v]) => [r, v.x])))
      differ('depositor', this.counters.depositors, stored.depositors)
      differ('pair', this.counters.pairs, stored.pairs)
      if (stored.total.envelopes !== this.counters.total.envelopes || stored.total.bytes !== this.counters.total.bytes) problems.push('totals in memory differ from the stored counters')
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
  private read (envelope: Uint8Array): DepositResult | { recipient: string, r: string, id: Uint8Array, hexId: string } {
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
    const r = this.t.tags.recipient(recipient)
    if (!this.counters.recipients.has(r)) return 'unknown-recipient'
    return { recipient, r, id: decoded.id, hexId: toHex(decoded.id) }
  }
}

