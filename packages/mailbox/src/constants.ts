import { LIMITS } from '@kith/core'

/** Protocol id of mailboxes: friends hold sealed mail for friends who are offline. */
export const MAILBOX_PROTOCOL = '/kith/mailbox/1.0.0'

const MiB = 1024 * 1024

/** Defaults of {@link MailboxStoreOptions}. */
export const MAILBOX_DEFAULTS = {
  /** Largest envelope a mailbox holds: the largest frame of /kith/dm/1.0.0. */
  maxEnvelopeBytes: LIMITS.maxFrameBytes,
  /** What a mailbox holds for one recipient at most. */
  perRecipient: { envelopes: 10_000, bytes: 256 * MiB },
  /** What one depositor may have stored at a mailbox at most, across all recipients. */
  perDepositor: { envelopes: 10_000, bytes: 256 * MiB },
  /** The part of one recipient's mailbox one depositor may fill: no one sender locks the others out. */
  depositorShare: 1 / 8,
  /** The part of one recipient's mailbox all strangers together may fill: fresh peer ids cost nothing. */
  strangersShare: 1 / 2,
  /** Envelopes (and the ids of acknowledged ones) are kept this long, then dropped. */
  ttlMs: 14 * 24 * 60 * 60 * 1000
} as const

/** Limits of /kith/mailbox/1.0.0, all enforced before anything is parsed or stored. */
export const MAILBOX_LIMITS = {
  /** Most envelopes in one DEPOSIT request. */
  maxDepositEnvelopes: 64,
  /** Most envelope bytes in one DEPOSIT request. */
  maxDepositBytes: MiB,
  /** Most envelopes in one FETCH response. */
  maxFetchEnvelopes: 256,
  /** Most envelope bytes in one FETCH response (one envelope is always sent, however large). */
  maxFetchBytes: MiB,
  /** Most ids in one ACK request. */
  maxAckIds: 1024,
  /** Largest request frame: a full DEPOSIT and its protobuf overhead. */
  maxRequestBytes: MiB + 4096,
  /** Largest response frame: a full FETCH and its protobuf overhead (about 32 bytes an envelope). */
  maxResponseBytes: MiB + 16 * 1024
} as const

/** How long a server waits for the next request on a stream before dropping it. */
export const IDLE_TIMEOUT_MS = 60_000
/** How long a client waits for a response. */
export const RESPONSE_TIMEOUT_MS = 30_000
/** How often a running server drops expired envelopes. */
export const SWEEP_EVERY_MS = 15 * 60_000
/** Streams one peer may have open on a mailbox at once, across all its connections. */
export const MAX_STREAMS_PER_PEER = 8
