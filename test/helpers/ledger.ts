/** What a ledger needs of a history record (the node's records and the CLI's JSON both have it). */
export interface LedgerRecord { id: string, status: string }

/** What went wrong between what a sender sent and what a receiver holds. */
export interface Ledger {
  /** Sent, but not in the receiver's history. */
  lost: string[]
  /** In the receiver's history more than once. */
  duplicated: string[]
  /** Whether the receiver holds the sent messages in another order than they were sent. */
  outOfOrder: boolean
  /** Sent, and shown to the sender as refused. */
  refused: string[]
}

/** The ledger every delivery scenario ends with: nothing lost, duplicated, reordered or refused. */
export const CLEAN: Ledger = { lost: [], duplicated: [], outOfOrder: false, refused: [] }

/**
 * Compare a sender's outgoing messages (oldest first) with the receiver's history of the same
 * conversation (oldest first).
 */
export function ledger (sent: LedgerRecord[], received: LedgerRecord[]): Ledger {
  const counts = new Map<string, number>()
  for (const r of received) counts.set(r.id, (counts.get(r.id) ?? 0) + 1)
  const sentIds = new Set(sent.map(s => s.id))
  const arrived = received.filter(r => sentIds.has(r.id)).map(r => r.id)
  const expected = sent.map(s => s.id).filter(id => counts.has(id))
  return {
    lost: sent.filter(s => !counts.has(s.id)).map(s => s.id),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    outOfOrder: [...new Set(arrived)].join() !== expected.join(),
    refused: sent.filter(s => s.status === 'refused').map(s => s.id)
  }
}
