import { FILE_OFFER_LIMITS, LIMITS } from '@kith/core'

/** Protocol id of history sync between two devices of one user. */
export const HISTORY_PROTOCOL = '/kith/history/1.0.0'

/** Version of the frames this build writes and accepts (sent in HELLO). */
export const HISTORY_VERSION = 1

/** Limits of /kith/history/1.0.0, each checked before the data it bounds is parsed or kept. */
export const HISTORY_LIMITS = {
  /** Largest frame, read or written (checked on the length prefix, before reading the frame). */
  maxFrameBytes: 4 * 1024 * 1024,
  /** Largest reconciliation message (both sides use this limit, so they accept each other's). */
  maxReconBytes: 1024 * 1024,
  /** Reconciliation rounds before the exchange is given up (1M records take about 20). */
  maxRounds: 1024,
  /** Most ids in one WANT frame. */
  maxWantIds: 4096,
  /** Most records in one RECORDS frame. */
  maxRecords: 4096,
  /** Most names in one RECORDS frame (each record names two at most, and a record that did not fit may leave two). */
  maxNames: 8194,
  /** Longest conversation or author name, in bytes (peer ids are about 52, group ids 64). */
  maxNameBytes: 128,
  /** Longest text, in UTF-8 bytes: as over /kith/dm/1.0.0. */
  maxTextBytes: LIMITS.maxTextBytes,
  /** Longest file name and media type, in UTF-8 bytes: as in a file offer. */
  maxFileNameBytes: FILE_OFFER_LIMITS.maxNameBytes,
  maxFileTypeBytes: FILE_OFFER_LIMITS.maxTypeBytes,
  /** Largest encoded record (a text at its limit with a file and a signature fits). */
  maxRecordBytes: 20 * 1024,
  /** Longest group text signature, in bytes. */
  maxSignatureBytes: 256
} as const

/** Defaults of the tuning in {@link HistorySyncInit}. */
export const HISTORY_DEFAULTS = {
  /** Records asked for in one WANT frame: each answer is written in one LevelDB batch. */
  batchSize: 2000,
  /** WANT frames in flight, so the other device reads the next batch while this one writes. */
  window: 2,
  /** Bytes a RECORDS frame is filled to at most (records past it wait for the next frame). */
  recordsFrameBytes: 1024 * 1024,
  /** Longest wait for the next frame, and for opening the stream. */
  frameTimeoutMs: 30_000,
  /** Inbound history streams per connection. */
  maxInboundStreams: 2,
  /** Most 'history:progress' events per second per sync (plus a final one). */
  progressPerSecond: 4
}

/** The tuning of {@link HISTORY_DEFAULTS}. */
export type HistoryTuning = typeof HISTORY_DEFAULTS
