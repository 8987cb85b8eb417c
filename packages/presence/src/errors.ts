import { KithError } from '@kith/core'

/**
 * Why a presence record was refused. A closed set, so a node can count each one:
 * - `oversized`: larger than {@link MAX_PRESENCE_BYTES}, or a field over its limit
 * - `malformed`: not a canonical PresenceRecord of a known version, or a field that does not parse
 * - `forged`: the identity's signature does not verify, or the certificate does not prove that
 *   the device belongs to the identity
 * - `stale`: older than {@link MAX_PRESENCE_AGE_MS}, or older than what the caller has already seen
 * - `future`: dated more than {@link MAX_PRESENCE_CLOCK_SKEW_MS} ahead of the reader's clock
 * - `wrong-key`: a valid record of another identity than the one expected (or stored under
 *   another identity's DHT key)
 */
export type PresenceRefusal = 'oversized' | 'malformed' | 'forged' | 'stale' | 'future' | 'wrong-key'

/** Every {@link PresenceRefusal}, for counters that start at zero. */
export const PRESENCE_REFUSALS: readonly PresenceRefusal[] = Object.freeze(['oversized', 'malformed', 'forged', 'stale', 'future', 'wrong-key'])

/** A presence record was refused; `reason` says why. */
export class InvalidPresenceError extends KithError {
  static override name = 'InvalidPresenceError'
  readonly reason: PresenceRefusal

  constructor (reason: PresenceRefusal, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/** No DHT peer stored our presence record. */
export class PresencePublishError extends KithError { static override name = 'PresencePublishError' }

/**
 * Why a `DhtRecordStore` refused to keep a DHT record. A closed set, so a node can count each one:
 * - `oversized`: the record is larger than `maxRecordBytes` (checked before decoding it)
 * - `malformed`: not a DHT record, or a presence record whose `seq` does not decode
 * - `namespace`: a key type this node does not keep (anything but presence and `/pk/` records,
 *   and kad-dht's provider records, which Kith does not use)
 * - `full`: a record for a key not held yet while its key type or the total bytes are at their
 *   cap and nothing is old enough to make room
 * - `rollback`: a presence record older than the one this node holds, or remembers, for that identity
 */
export type DhtStoreRefusal = 'oversized' | 'malformed' | 'namespace' | 'full' | 'rollback'

/** Every {@link DhtStoreRefusal}, for counters that start at zero. */
export const DHT_STORE_REFUSALS: readonly DhtStoreRefusal[] = Object.freeze(['oversized', 'malformed', 'namespace', 'full', 'rollback'])

/** A `DhtRecordStore` refused to keep a record; `reason` says why. kad-dht then refuses the PUT. */
export class DhtStoreRefusedError extends KithError {
  static override name = 'DhtStoreRefusedError'
  readonly reason: DhtStoreRefusal

  constructor (reason: DhtStoreRefusal, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}
