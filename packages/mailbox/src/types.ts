import { MAILBOX_DEFAULTS } from './constants.js'
import type { MailboxDb, Usage } from './layout.js'

export type { MailboxDb, Usage }

/**
 * What became of one deposited envelope. Past a quota: `quota` (the recipient's mailbox is
 * full, or the depositor holds its most across all recipients), `quota-depositor` (the
 * depositor holds its share of this recipient's mailbox), `quota-strangers` (strangers
 * together hold their share of it).
 */
export type DepositResult = 'stored' | 'duplicate' | 'unknown-recipient' | 'quota' | 'quota-depositor' | 'quota-strangers' | 'oversized' | 'malformed'

/** At most this much held (for one recipient, or from one depositor). */
export interface MailboxQuota {
  envelopes?: number
  bytes?: number
}

/**
 * Who deposits, as the mailbox's node knows it. Quotas count under `id`: give a contact the
 * same id whichever of its devices deposits. Peer ids cost nothing to make, so strangers (not
 * contacts of the node) also share one part of each recipient's mailbox between them all.
 */
export interface Depositor {
  id: string
  /** Not a contact of the mailbox's node (nor one of a contact's devices). */
  stranger?: boolean
}

/**
 * How a mailbox keeps its database unreadable without the node's data key: values are sealed,
 * and database keys hold keyed hashes where peer ids and envelope ids would be.
 */
export interface MailboxSealing {
  /** Encrypt a value; `aad` is its database key, so a value moved under another key fails to open. */
  seal(aad: string, plaintext: Uint8Array): Uint8Array
  /** Open a sealed value. @throws when it was tampered with, truncated or moved */
  open(aad: string, sealed: Uint8Array): Uint8Array
  /** The key (32 bytes) of the HMAC-SHA-256 that stands for ids in database keys; never stored with them. */
  tagKey: Uint8Array
}

/** Limits of a mailbox; see {@link MAILBOX_DEFAULTS} for the defaults. */
export interface MailboxStoreOptions {
  /** Largest envelope held, in bytes. */
  maxEnvelopeBytes?: number
  /** What is held for one recipient at most. */
  perRecipient?: MailboxQuota
  /** What one depositor may have held at most, across all recipients. */
  perDepositor?: MailboxQuota
  /** The part of one recipient's quota one depositor may hold (0 < share ≤ 1; default 1/8). */
  depositorShare?: number
  /** The part of one recipient's quota all strangers together may hold (0 < share ≤ 1; default 1/2). */
  strangersShare?: number
  /** Envelopes are dropped this long after their deposit, acknowledged ids this long after their ack. */
  ttlMs?: number
  /**
   * Seal the database under the node's data key. Without it, values are stored in the clear
   * and keys are hashed under a public key: they hide nothing from someone who guesses ids.
   */
  sealing?: MailboxSealing
}

/** The limits a store applies, defaults filled in. */
export interface MailboxLimits {
  maxEnvelopeBytes: number
  perRecipient: Required<MailboxQuota>
  perDepositor: Required<MailboxQuota>
  /** What one depositor may hold for one recipient: `depositorShare` of `perRecipient`. */
  share: Required<MailboxQuota>
  /** What all strangers together may hold for one recipient: `strangersShare` of `perRecipient`. */
  strangers: Required<MailboxQuota>
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

function fraction (value: number, name: string): number {
  if (!(value > 0 && value <= 1)) throw new RangeError(`${name} must be more than 0 and at most 1`)
  return value
}

/** `share` of a quota, at least one envelope and one largest envelope's bytes. */
function part (quota: Required<MailboxQuota>, share: number, maxEnvelopeBytes: number): Required<MailboxQuota> {
  return {
    envelopes: Math.max(1, Math.floor(quota.envelopes * share)),
    bytes: Math.min(quota.bytes, Math.max(maxEnvelopeBytes, Math.floor(quota.bytes * share)))
  }
}

export function resolveLimits (options: MailboxStoreOptions): MailboxLimits {
  const maxEnvelopeBytes = options.maxEnvelopeBytes ?? MAILBOX_DEFAULTS.maxEnvelopeBytes
  const perRecipient = { ...MAILBOX_DEFAULTS.perRecipient, ...options.perRecipient }
  return {
    maxEnvelopeBytes,
    perRecipient,
    perDepositor: { ...MAILBOX_DEFAULTS.perDepositor, ...options.perDepositor },
    share: part(perRecipient, fraction(options.depositorShare ?? MAILBOX_DEFAULTS.depositorShare, 'depositorShare'), maxEnvelopeBytes),
    strangers: part(perRecipient, fraction(options.strangersShare ?? MAILBOX_DEFAULTS.strangersShare, 'strangersShare'), maxEnvelopeBytes),
    ttlMs: options.ttlMs ?? MAILBOX_DEFAULTS.ttlMs
  }
}
