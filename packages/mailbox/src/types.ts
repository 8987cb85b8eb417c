import { MAILBOX_DEFAULTS } from './constants.js'
import type { MailboxDb, Usage } from './layout.js'

export type { MailboxDb, Usage }

/** What became of one deposited envelope. */
export type DepositResult = 'stored' | 'duplicate' | 'unknown-recipient' | 'quota' | 'oversized' | 'malformed'

/** At most this much held (for one recipient, or from one depositor). */
export interface MailboxQuota {
  envelopes?: number
  bytes?: number
}

/** Limits of a mailbox; see {@link MAILBOX_DEFAULTS} for the defaults. */
export interface MailboxStoreOptions {
  /** Largest envelope held, in bytes. */
  maxEnvelopeBytes?: number
  /** What is held for one recipient at most. */
  perRecipient?: MailboxQuota
  /** What one depositor may have held at most, across all recipients. */
  perDepositor?: MailboxQuota
  /** Envelopes are dropped this long after their deposit, acknowledged ids this long after their ack. */
  ttlMs?: number
}

/** The limits a store applies, defaults filled in. */
export interface MailboxLimits {
  maxEnvelopeBytes: number
  perRecipient: Required<MailboxQuota>
  perDepositor: Required<MailboxQuota>
  ttlMs: number
}

/** One envelope held for a recipient. */
export interface MailboxEntry {
  /** The envelope's id, in hex: acknowledge it by this. */
  id: string
  /** The envelope exactly as deposited. */
  envelope: Uint8Array
  /** When it was deposited, in ms since the epoch. */
  depositedAt: number
}

export interface FetchOptions {
  /** Most envelopes to return. */
  limit: number
  /** Continue after this envelope (its hex id, even if acknowledged since); from the start if unknown. */
  after?: string
  /** Stop before this many envelope bytes (at least one envelope is returned). */
  maxBytes?: number
  /** The time that decides what has expired (default: now). */
  now?: number
}

/** What a mailbox holds, from counters (no scan). */
export interface MailboxStats {
  recipients: number
  envelopes: number
  bytes: number
  byRecipient: Record<string, Usage>
}

/** A deposit's result with the recipient and the id, when the envelope could be read. */
export interface Deposited {
  result: DepositResult
  recipient?: string
  id?: string
}

export function resolveLimits (options: MailboxStoreOptions): MailboxLimits {
  return {
    maxEnvelopeBytes: options.maxEnvelopeBytes ?? MAILBOX_DEFAULTS.maxEnvelopeBytes,
    perRecipient: { ...MAILBOX_DEFAULTS.perRecipient, ...options.perRecipient },
    perDepositor: { ...MAILBOX_DEFAULTS.perDepositor, ...options.perDepositor },
    ttlMs: options.ttlMs ?? MAILBOX_DEFAULTS.ttlMs
  }
}
