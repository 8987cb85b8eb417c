import { PRESENCE_QUERY_TIMEOUT_MS } from './constants.js'
import { InvalidPresenceError, PresencePublishError } from './errors.js'
import { presenceKey } from './key.js'
import { openPresence } from './record.js'
import type { PresenceRefusal } from './errors.js'
import type { VerifiedPresence } from './record.js'
import type { AbortOptions, PrivateKey, PublicKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

/**
 * Publishing and finding presence records through kad-dht. The DHT node must run with
 * {@link presenceDhtOptions}: peers without them refuse to store presence records.
 *
 * kad-dht peers serve a record for 48 hours from when they received it, so publish again well
 * within that (and whenever the addresses change). Peers whose datastore is a
 * {@link DhtRecordStore} refuse a record older than the one they hold; kad-dht alone does not
 * compare (a PUT of an older record replaces a newer one), so keep the highest `seq` seen per
 * contact as `minSeq` for the next lookup.
 */

/** Options for {@link publishPresence}. */
export interface PublishPresenceOptions extends AbortOptions {}

/** How a publish went. */
export interface PublishPresenceResult {
  /** How many peers confirmed they stored the record. */
  stored: number
}

/** Options for {@link lookupPresence}. */
export interface LookupPresenceOptions extends AbortOptions {
  /**
   * Refuse records older than this `seq` (as `stale`): pass the highest `seq` already seen for
   * the contact, so a replayed older record can never take its place.
   */
  minSeq?: number
  /**
   * Called for each distinct record found and refused, with the reason. Records that fail
   * kad-dht's validator are dropped by kad-dht before they get here: count those with
   * `presenceDhtOptions({ onRefused })`.
   */
  onRefused?: (reason: PresenceRefusal) => void
  /** The reader's clock, in ms since the epoch. Default: `Date.now()`. */
  now?: number
}

/**
 * Store our presence record in the DHT, at the peers closest to our presence key (and in our
 * own DHT store). Runs for at most {@link PRESENCE_QUERY_TIMEOUT_MS} without a signal.
 *
 * @param record - from {@link signPresence}, by `identityKey`
 * @throws {InvalidPresenceError} when the record is one peers would refuse (another identity's,
 * or dated outside what a reader on this clock accepts)
 * @throws {PresencePublishError} when no peer confirmed it stored the record
 */
export async function publishPresence (dht: Pick<KadDHT, 'put'>, identityKey: PrivateKey, record: Uint8Array, options: PublishPresenceOptions = {}): Promise<PublishPresenceResult> {
  // Peers run the same checks: better to learn here that they would refuse it than from silence.
  openPresence(record, { identity: identityKey.publicKey })
  const key = presenceKey(identityKey.publicKey)
  const signal = options.signal ?? AbortSignal.timeout(PRESENCE_QUERY_TIMEOUT_MS)
  const stored = new Set<string>()
  let lastError: Error | undefined
  try {
    for await (const event of dht.put(key, record, { signal })) {
      // A peer that stored the record answers PUT_VALUE with it; one that refused it closes
      // the stream (a QUERY_ERROR here).
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE' && event.record != null && Buffer.from(event.record.value).equals(record)) {
        stored.add(event.from.toString())
      } else if (event.name === 'QUERY_ERROR') {
        lastError = event.error
      }
    }
  } catch (err: any) {
    if (options.signal?.aborted === true) throw err
    lastError = err
  }
  if (stored.size === 0) {
    throw new PresencePublishError(`no peer stored the presence record${lastError != null ? `: ${lastError.message}` : ''}`, lastError != null ? { cause: lastError } : undefined)
  }
  return { stored: stored.size }
}

/**
 * Find `identity`'s newest presence record in the DHT. Every record the query meets is
 * verified here again (whatever the DHT's validators did), and the valid one with the highest
 * `seq` wins. Runs for at most {@link PRESENCE_QUERY_TIMEOUT_MS} without a signal.
 *
 * The query collects the records in each peer's answer as it goes, not only the one kad-dht
 * picks at the end: kad-dht sends the best record to peers that answered with another before
 * it yields it, and one that does not take it (or is slow to) fails or stalls the whole `get`.
 *
 * @returns the newest valid record, even when the query fails or is aborted after finding
 * it; undefined when the DHT holds none (or none newer than `minSeq`)
 * @throws the query's error (an AbortError, a TimeoutError…) when it ends before finding any
 */
export async function lookupPresence (dht: Pick<KadDHT, 'get'>, identity: PublicKey, options: LookupPresenceOptions = {}): Promise<VerifiedPresence | undefined> {
  const key = presenceKey(identity)
  const signal = options.signal ?? AbortSignal.timeout(PRESENCE_QUERY_TIMEOUT_MS)
  const open = { identity, ...(options.now != null ? { now: options.now } : {}) }
  const seen = new Set<string>()
  let best: VerifiedPresence | undefined
  const consider = (value: Uint8Array): void => {
    const id = Buffer.from(value).toString('base64')
    if (seen.has(id)) return
    seen.add(id)
    let found: VerifiedPresence
    try {
      found = openPresence(value, open)
    } catch (err) {
      if (!(err instanceof InvalidPresenceError)) throw err
      options.onRefused?.(err.reason)
      return
    }
    if (options.minSeq != null && found.seq < options.minSeq) {
      options.onRefused?.('stale')
      return
    }
    if (best == null || found.seq > best.seq) best = found
  }
  try {
    for await (const event of dht.get(key, { signal })) {
      if (event.name === 'VALUE') consider(event.value)
      else if (event.name === 'PEER_RESPONSE' && event.messageName === 'GET_VALUE' && event.record != null) consider(event.record.value)
    }
  } catch (err: any) {
    if (best != null) return best
    if (err?.name === 'NotFoundError') return undefined
    throw err
  }
  return best
}
