import { PRESENCE_NAMESPACE } from './constants.js'
import { InvalidPresenceError } from './errors.js'
import { presenceKeyFingerprint } from './key.js'
import { openPresence } from './record.js'
import type { PresenceRefusal } from './errors.js'
import type { VerifiedPresence } from './record.js'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'

/**
 * kad-dht hooks for presence records. kad-dht runs the validator on every record a peer asks
 * it to store (PUT_VALUE), on every record a peer answers its GET_VALUE with, and on the
 * record in its own store when it looks the key up itself; records that fail are dropped. It
 * does not run it on records it puts itself, nor on what it serves to peers from its store.
 * When a lookup finds several records it asks the selector for the best, and sends that to
 * the peers that answered with another (a "correction").
 */

/** Options for {@link presenceDhtOptions}. */
export interface PresenceDhtInit {
  /** The clock records are judged by, in ms since the epoch. Default: `Date.now`. */
  now?: () => number
  /**
   * Called once for each record the validator refuses, with the reason: records peers try to
   * store here and records peers answer lookups with. kad-dht drops those before
   * {@link lookupPresence} sees them, so this is where a node counts forged records.
   */
  onRefused?: (reason: PresenceRefusal) => void
}

/** The kad-dht options that give presence records their validator and selector. */
export interface PresenceDhtOptions {
  validators: Record<typeof PRESENCE_NAMESPACE, ValidateFn>
  selectors: Record<typeof PRESENCE_NAMESPACE, SelectFn>
}

/**
 * kad-dht's validator for `/kith-presence/` keys: the record must verify ({@link openPresence})
 * and be from the identity the key is derived from.
 *
 * @throws {InvalidPresenceError} when it does not; `wrong-key` when the key is not a presence
 * key or belongs to another identity
 */
export async function presenceValidator (key: Uint8Array, value: Uint8Array): Promise<void> {
  check(key, value, Date.now())
}

/**
 * kad-dht's selector for `/kith-presence/` keys: the index of the valid record with the
 * highest `seq`; among equals, the first. Invalid records never win, whatever their `seq`.
 * -1 when none is valid (kad-dht then reports NotFoundError).
 */
export function presenceSelector (key: Uint8Array, values: Uint8Array[]): number {
  return select(key, values, Date.now())
}

/**
 * `{ validators, selectors }` for kad-dht's init, for the `kith-presence` namespace:
 * `kadDHT({ protocol, ...presenceDhtOptions() })`. Merge with other namespaces' by spreading
 * `validators` and `selectors` separately. The validator is {@link presenceValidator} that
 * counts what it refuses. It remembers nothing: refusing a record older than one already
 * held (a replay) is the job of the store kad-dht keeps records in ({@link DhtRecordStore}),
 * which sees every record that is about to be kept, and no other. (A validator also judges
 * the answers to our own lookups; refusing an older answer there would only stop kad-dht from
 * sending that peer the newer record.)
 */
export function presenceDhtOptions (init: PresenceDhtInit = {}): PresenceDhtOptions {
  const now = init.now ?? Date.now
  const { onRefused } = init
  return {
    validators: {
      [PRESENCE_NAMESPACE]: async (key: Uint8Array, value: Uint8Array): Promise<void> => {
        try {
          check(key, value, now())
        } catch (err) {
          if (err instanceof InvalidPresenceError) onRefused?.(err.reason)
          throw err
        }
      }
    },
    selectors: {
      [PRESENCE_NAMESPACE]: (key: Uint8Array, values: Uint8Array[]): number => select(key, values, now())
    }
  }
}

function check (key: Uint8Array, value: Uint8Array, now: number): VerifiedPresence {
  const identity = presenceKeyFingerprint(key)
  if (identity == null) throw new InvalidPresenceError('wrong-key', 'presence record refused (wrong-key): not a presence key')
  return openPresence(value, { identity, now })
}

function select (key: Uint8Array, values: Uint8Array[], now: number): number {
  let best = -1
  let bestSeq = -1
  values.forEach((value, i) => {
    let seq: number
    try {
      seq = check(key, value, now).seq
    } catch (err) {
      if (err instanceof InvalidPresenceError) return
      throw err
    }
    if (seq > bestSeq) {
      best = i
      bestSeq = seq
    }
  })
  return best
}
