/** Version of the SyncMessage wire format this build writes and accepts. */
export const SYNC_VERSION = 1

/** Bytes in a range fingerprint. */
export const FINGERPRINT_BYTES = 16

/** Shortest item id accepted, in bytes. */
export const MIN_ID_BYTES = 16

/** Longest item id accepted, in bytes. */
export const MAX_ID_BYTES = 32

/** Defaults of {@link ReconcilerOptions}. */
export const SYNC_DEFAULTS = {
  /** Sub-ranges a mismatched range is split into. */
  branching: 16,
  /** Largest range (in items) answered with its ids rather than split. */
  idListThreshold: 32,
  /** Largest message written or accepted, in bytes. */
  maxMessageBytes: 256 * 1024
} as const
