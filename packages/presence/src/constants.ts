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

/** What a `DhtRecordStore` keeps for others at most. */
export interface DhtStoreLimits {
  /** Most identities whose presence record (or, once the record expired, its newest `seq`) is kept. */
  maxPresenceRecords: number
  /** Most `/pk/` records (public keys; kad-dht always accepts them, Kith does not use them). */
  maxPublicKeyRecords: number
  /** Largest record kept, in bytes, as kad-dht stores it (key, value, time received): checked before decoding. */
  maxRecordBytes: number
  /** Most bytes of records kept, all key types together. */
  maxBytes: number
  /**
   * A record not received again for this long may be dropped to make room for a new one:
   * kad-dht stops serving a record 48 hours after it received it, and publishers republish
   * well within that (Kith every 20 minutes).
   */
  evictAfterMs: number
}

/**
 * The default {@link DhtStoreLimits}. A presence record with a handful of addresses and a prekey
 * bundle takes about 1 KiB, so 10,000 identities of honest users fit in about 10 MiB; records
 * made as large as the format allows (14 KiB) reach the byte cap after about 2,300.
 */
export const DHT_STORE_LIMITS: Readonly<DhtStoreLimits> = Object.freeze({
  maxPresenceRecords: 10_000,
  maxPublicKeyRecords: 1_000,
  maxRecordBytes: MAX_PRESENCE_BYTES + 512,
  maxBytes: 32 * 1024 * 1024,
  evictAfterMs: 48 * 60 * 60 * 1000
})
