/** Unacked envelopes one sender keeps on the wire at once. */
export const DEFAULT_WINDOW = 256
/** First retry after a failed delivery; doubles per failure up to the maximum. */
export const RETRY_INITIAL_MS = 1_000
export const RETRY_MAX_MS = 60_000
/** A session renewal goes at once unless another happened within this long (then it waits its backoff). */
export const RESET_QUIET_MS = 10_000
/** Give up on a dial or a silent stream after this long, and retry later. */
export const DIAL_TIMEOUT_MS = 10_000
export const ACK_TIMEOUT_MS = 30_000
/** Close a sender's stream after this long with nothing to send. */
export const IDLE_CLOSE_MS = 30_000
/** Let an inbound stream go after this long without a frame (twice what a sender waits before closing it). */
export const INBOUND_IDLE_MS = 60_000
/** Per peer: this many envelopes per second on average, bursts up to `RATE_BURST`. */
export const RATE_PER_SECOND = 500
export const RATE_BURST = 2_000
/** All peers that are neither contacts' devices nor ours, together: frames per second, and session openings per second. */
export const STRANGER_FRAMES_PER_SECOND = 200
export const STRANGER_SESSIONS_PER_SECOND = 20
/** Inbound frames read but not yet handled: per stream, and across all streams. */
export const MAX_QUEUED_FRAMES = 512
export const MAX_QUEUED_FRAMES_TOTAL = 4_096
/** A peer that floods is disconnected and ignored for this long. */
export const FLOOD_BAN_MS = 60_000
/** Bans remembered at once (peer ids cost nothing to make). */
export const MAX_BANNED = 10_000
/** An envelope still unacked this long after it went out is recorded as `sent`. */
export const SENT_DELAY_MS = 200
/** Look a contact that can't be reached up (its presence record) at most this often. */
export const LOCATE_EVERY_MS = 30_000
/** Control topic of end-to-end receipts for mail taken from a mailbox: the payload is the envelope ids, 16 bytes each. */
export const RECEIPT_TOPIC = 'receipt'
