import { LIMITS } from '@kith/core'

/** Version of the PresenceRecord format this build writes and accepts. */
export const PRESENCE_VERSION = 1

/**
 * Largest presence record accepted, in bytes, checked before decoding. It binds before the
 * per-field limits do (all of those at once would take about 17 KiB); a record with a handful
 * of addresses takes well under 1 KiB; a device list adds about 170 bytes a device.
 */
export const MAX_PRESENCE_BYTES = 14 * 1024

/** Per-field limits of a presence record. */
export const PRESENCE_LIMITS = {
  /** Most direct addresses. */
  maxAddrs: LIMITS.maxAddrs,
  /** Most relay addresses. */
  maxRelays: 8,
  /** Most mailbox addresses. */
  maxMailboxes: 8,
  /** Longest multiaddr, in bytes (direct, relay or mailbox). */
  maxAddrBytes: LIMITS.maxAddrBytes,
  /** Largest prekey bundle, in bytes. */
  maxPrekeyBytes: LIMITS.maxBundleBytes,
  /** Largest device certificate, in bytes. */
  maxCertificateBytes: LIMITS.maxCertificateBytes,
  /** Largest signed device list, in bytes: 16 devices and 64 revoked ones take about 5.5 KiB. */
  maxDeviceListBytes: 8 * 1024
} as const

/**
 * How far ahead of the reader's clock a record's `seq` may be. A record dated far ahead would
 * win against every honest update until that date, so one is refused rather than stored.
 */
export const MAX_PRESENCE_CLOCK_SKEW_MS = 10 * 60 * 1000

/** How old a record's `seq` may be before it is refused as stale. */
export const MAX_PRESENCE_AGE_MS = 30 * 24 * 60 * 60 * 1000

/** The DHT namespace of presence records: their keys start with `/kith-presence/`. */
export const PRESENCE_NAMESPACE = 'kith-presence'

/** How long a publish or a lookup runs when the caller passes no signal. */
export const PRESENCE_QUERY_TIMEOUT_MS = 30_000
