import type { OutboxEntry } from '@kith/store'

/**
 * One peer's unacked envelopes in seq order, with O(1) removal at the head and O(1) lookup by
 * id, so a backlog of many thousands costs no more per message than a short one.
 */
export class OutboxQueue {
  private entries: OutboxEntry[] = []
  private head = 0
  private readonly ids = new Set<string>()

  get length (): number { return this.entries.length - this.head }

  has (id: string): boolean { return this.ids.has(id) }

  /** The i-th unacked entry (0 is the oldest). */
  at (i: number): OutboxEntry | undefined { return this.entries[this.head + i] }

  /** Entries from `start` (inclusive) to `end` (exclusive), counted from the oldest. */
  slice (start: number, end: number): OutboxEntry[] {
    return this.entries.slice(this.head + start, this.head + end)
  }

  /** Add an entry in seq order (usually at the end); false if it is already queued. */
  add (entry: OutboxEntry): boolean {
    if (this.ids.has(entry.id)) return false
    let at = this.entries.length
    while (at > this.head && (this.entries[at - 1] as OutboxEntry).seq > entry.seq) at--
    this.entries.splice(at, 0, entry)
    this.ids.add(entry.id)
    return true
  }

  /** Remove the entries with these ids, wherever they are (O(n)); returns them. */
  remove (ids: Set<string>): OutboxEntry[] {
    const removed: OutboxEntry[] = []
    const kept: OutboxEntry[] = []
    for (const entry of this.entries.slice(this.head)) {
      if (ids.has(entry.id)) { removed.push(entry); this.ids.delete(entry.id) } else kept.push(entry)
    }
    if (removed.length > 0) { this.entries = kept; this.head = 0 }
    return removed
  }

  /** Remove and return the oldest entry. */
  shift (): OutboxEntry | undefined {
    const entry = this.entries[this.head]
    if (entry == null) return undefined
    this.head++
    this.ids.delete(entry.id)
    // Drop the consumed prefix now and then, keeping shifts amortised O(1).
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    return entry
  }
}
