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
