/** Unacked envelopes one sender keeps on the wire at once. */
export const DEFAULT_WINDOW = 256
/** First retry after a failed delivery; doubles per failure up to the maximum. */
export const RETRY_INITIAL_MS = 1_000
export const RETRY_MAX_MS = 60_000
/** Give up on a dial or a silent stream after this long, and retry later. */
export const DIAL_TIMEOUT_MS = 10_000
export const ACK_TIMEOUT_MS = 30_000
/** Close a sender's stream after this long with nothing to send. */
export const IDLE_CLOSE_MS = 30_000
/** Per peer: this many envelopes per second on average, bursts up to `RATE_BURST`. */
export const RATE_PER_SECOND = 500
export const RATE_BURST = 2_000
/** A peer that floods is disconnected and ignored for this long. */
export const FLOOD_BAN_MS = 60_000
/** An envelope still unacked this long after it went out is recorded as `sent`. */
export const SENT_DELAY_MS = 200
/** Look a contact that can't be reached up (its presence record) at most this often. */
export const LOCATE_EVERY_MS = 30_000
/** Control topic of end-to-end receipts for mail taken from a mailbox: the payload is the envelope ids, 16 bytes each. */
export const RECEIPT_TOPIC = 'receipt'
