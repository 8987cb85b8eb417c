import { pairKey } from './layout.js'
import type { LiveEntry, Op, RecipientRecord, Tables, Usage } from './layout.js'

const zero = (): Usage => ({ envelopes: 0, bytes: 0 })
const copy = (usage: Usage | undefined): Usage => ({ envelopes: usage?.envelopes ?? 0, bytes: usage?.bytes ?? 0 })

/**
 * The counters of a mailbox, in memory (loaded at open) so that quotas cost no reads: per
 * recipient (strangers' part included), per depositor, per depositor and recipient, and the
 * totals. Keyed by tags, as in the database.
 */
export class Counters {
  readonly recipients = new Map<string, RecipientRecord>()
  readonly depositors = new Map<string, Usage>()
  readonly pairs = new Map<string, Usage>()
  total: Usage = zero()

  async load (t: Tables): Promise<void> {
    this.recipients.clear()
    this.depositors.clear()
    this.pairs.clear()
    this.total = zero()
    for await (const [r, record] of t.recipients.iterate()) {
      this.recipients.set(r, record)
      this.total.envelopes += record.envelopes
      this.total.bytes += record.bytes
    }
    for await (const [d, usage] of t.depositors.iterate()) this.depositors.set(d, usage)
    for await (const [key, usage] of t.pairs.iterate()) this.pairs.set(key, usage)
  }

  /** A change of counters: copies of those it touches, applied with {@link Change.apply} once its batch is written. */
  change (): Change {
    return new Change(this)
  }
}

/** Counters changed by one batch: read them for quota checks, write them with {@link ops}. */
export class Change {
  readonly recipients = new Map<string, RecipientRecord>()
  readonly depositors = new Map<string, Usage>()
  readonly pairs = new Map<string, Usage>()
  /** Recipients unregistered by this change. */
  private readonly dropped = new Set<string>()

  constructor (private readonly counters: Counters) {}

  /** The recipient's counters as changed so far, or undefined when it is not registered. */
  recipient (r: string): RecipientRecord | undefined {
    if (this.dropped.has(r)) return undefined
    let record = this.recipients.get(r)
    if (record == null) {
      const current = this.counters.recipients.get(r)
      if (current == null) return undefined
      record = { ...current, x: copy(current.x) }
      this.recipients.set(r, record)
    }
    return record
  }

  depositor (d: string): Usage {
    let usage = this.depositors.get(d)
    if (usage == null) this.depositors.set(d, usage = copy(this.counters.depositors.get(d)))
    return usage
  }

  pair (r: string, d: string): Usage {
    const key = pairKey(r, d)
    let usage = this.pairs.get(key)
    if (usage == null) this.pairs.set(key, usage = copy(this.counters.pairs.get(key)))
    return usage
  }

  /** Register `r` (fresh counters). */
  register (r: string, peer: string, since: number): void {
    this.dropped.delete(r)
    this.recipients.set(r, { p: peer, envelopes: 0, bytes: 0, since, x: zero() })
  }

  /** Count an envelope of `bytes` held for `r` from `entry.d` in (`sign` 1) or out (-1). */
  count (r: string, entry: Pick<LiveEntry, 'd' | 'n' | 'x'>, sign: 1 | -1): void {
    const record = this.recipient(r)
    const touched = [this.depositor(entry.d), this.pair(r, entry.d)]
    if (record != null) touched.push(record)
    if (record != null && entry.x === 1) touched.push(record.x)
    for (const usage of touched) {
      usage.envelopes += sign
      usage.bytes += sign * entry.n
    }
  }

  /** Unregister `r`: its record goes, and with it every pair counter of it. */
  drop (r: string): void {
    this.dropped.add(r)
    this.recipients.delete(r)
    for (const key of this.counters.pairs.keys()) if (key.startsWith(`${r}!`) && !this.pairs.has(key)) this.pairs.set(key, zero())
    for (const [key, usage] of this.pairs) if (key.startsWith(`${r}!`)) { usage.envelopes = 0; usage.bytes = 0 }
  }

  /** The writes of this change: counters that reach zero are deleted (depositors and pairs). */
  ops (t: Tables): Op[] {
    const ops: Op[] = []
    for (const r of this.dropped) ops.push(t.recipients.del(r))
    for (const [r, record] of this.recipients) ops.push(t.recipients.put(r, record))
    for (const [d, usage] of this.depositors) ops.push(usage.envelopes <= 0 ? t.depositors.del(d) : t.depositors.put(d, usage))
    for (const [key, usage] of this.pairs) ops.push(usage.envelopes <= 0 ? t.pairs.del(key) : t.pairs.put(key, usage))
    return ops
  }

  /** Apply this change to the counters in memory (after its batch was written). */
  apply (): void {
    const { counters } = this
    const adjust = (before: Usage | undefined, after: Usage | undefined): void => {
      counters.total.envelopes += (after?.envelopes ?? 0) - (before?.envelopes ?? 0)
      counters.total.bytes += (after?.bytes ?? 0) - (before?.bytes ?? 0)
    }
    for (const r of this.dropped) {
      adjust(counters.recipients.get(r), undefined)
      counters.recipients.delete(r)
    }
    for (const [r, record] of this.recipients) {
      adjust(counters.recipients.get(r), record)
      counters.recipients.set(r, record)
    }
    for (const [d, usage] of this.depositors) {
      if (usage.envelopes <= 0) counters.depositors.delete(d)
      else counters.depositors.set(d, usage)
    }
    for (const [key, usage] of this.pairs) {
      if (usage.envelopes <= 0) counters.pairs.delete(key)
      else counters.pairs.set(key, usage)
    }
  }
}
