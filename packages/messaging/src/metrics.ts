/** What the messaging service counts; `kith status` shows it. */
export interface MessagingMetrics {
  /** Envelopes stored as new messages. */
  received: number
  /** Envelopes already seen (acked again, not stored again). */
  duplicates: number
  /** Envelopes from peers that are not contacts, or with a bad invite token. */
  refusedNotContact: number
  /** Envelopes that failed to decode, were oversized, or addressed to another device. */
  invalid: number
  /** Envelopes whose signature did not verify. */
  forged: number
  /** Sealed envelopes that were replays of messages already decrypted (their keys are spent). */
  replayed: number
  /** Sealed envelopes for which no session could be found or opened. */
  noSession: number
  /** Envelopes we could not take yet (a device not in the list we hold, a service that failed, the strangers' budget spent): answered RETRY. */
  notYet: number
  /** Sessions we renewed because the other device could not open what we sent (it answered RESET). */
  resets: number
  /** Times a peer was disconnected for flooding. */
  rateLimited: number
  /** Envelopes acked by their recipients. */
  delivered: number
  /** Envelopes written to the wire (retries included). */
  transmitted: number
  /** Envelopes handed to a recipient's mailboxes because it could not be reached. */
  deposited: number
  /** Envelopes taken in from our own mailboxes. */
  drained: number
  /** Outgoing envelopes confirmed by an end-to-end receipt (the recipient took them from a mailbox). */
  receipted: number
}

export function emptyMetrics (): MessagingMetrics {
  return { received: 0, duplicates: 0, refusedNotContact: 0, invalid: 0, forged: 0, replayed: 0, noSession: 0, notYet: 0, resets: 0, rateLimited: 0, delivered: 0, transmitted: 0, deposited: 0, drained: 0, receipted: 0 }
}
