/**
 * @packageDocumentation
 *
 * Presence records: how contacts find a user's device by the user's identity key rather than
 * by an address. Each node publishes a signed, sequence-numbered record in the Kademlia DHT
 * under a key derived from its identity key alone: the device (with its certificate), where
 * it listens, the relays that reach it, the friends holding its mail, its prekeys. Records are
 * verified wherever they go (the DHT's validator and selector, and the lookup itself), so a
 * poisoned DHT can delay a conversation but never redirect it to an impostor, and the
 * highest `seq` always wins.
 *
 * What others can make a node keep is bounded by {@link DhtRecordStore}, libp2p's datastore:
 * presence and `/pk/` records only, capped per key type and in bytes, and never a presence
 * record older than one it holds for that identity (kept on disk when the store is).
 *
 * @example
 * ```ts
 * import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
 * import { LevelDatastore } from 'datastore-level'
 * import { DhtRecordStore, lookupPresence, nextPresenceSeq, presenceDhtOptions, presenceKey, publishPresence, signPresence } from '@kith/presence'
 *
 * // Every node's DHT knows presence records, and counts the ones it refuses by reason.
 * const refused: Record<string, number> = {}
 * const count = (reason: string): void => { refused[reason] = (refused[reason] ?? 0) + 1 }
 * const dht = kadDHT({
 *   protocol: '/kith/kad/1.0.0', clientMode: false, peerInfoMapper: passthroughMapper,
 *   ...presenceDhtOptions({ onRefused: count })
 * })
 * // What it keeps for others is bounded, on disk, and never rolled back.
 * const datastore = new DhtRecordStore({ store: () => new LevelDatastore(`${home}/dht`), pinned: [presenceKey(identityKey.publicKey)], onRefused: count })
 * const libp2p = await createLibp2p({ datastore, services: { dht, ... }, ... })
 *
 * // Publish ours (again every few hours, and whenever the addresses change).
 * seq = nextPresenceSeq(seq) // remember it across restarts
 * const record = signPresence(identityKey, { seq, certificate, device: libp2p.peerId, addrs: libp2p.getMultiaddrs() })
 * await publishPresence(libp2p.services.dht, identityKey, record, { signal: AbortSignal.timeout(30_000) })
 *
 * // Find a contact's, never going back to an older one than already seen.
 * const found = await lookupPresence(libp2p.services.dht, contactIdentity, { minSeq: seen.seq, signal: AbortSignal.timeout(20_000) })
 * if (found != null) await libp2p.peerStore.merge(found.device, { multiaddrs: [...found.addrs, ...found.relays] })
 * ```
 */
export { signPresence, openPresence, nextPresenceSeq } from './record.js'
export type { PresenceFields, VerifiedPresence, OpenPresenceOptions } from './record.js'
export { presenceKey, PRESENCE_KEY_BYTES } from './key.js'
export { presenceValidator, presenceSelector, presenceDhtOptions } from './dht.js'
export type { PresenceDhtInit, PresenceDhtOptions } from './dht.js'
export { publishPresence, lookupPresence } from './presence.js'
export type { PublishPresenceOptions, PublishPresenceResult, LookupPresenceOptions } from './presence.js'
export { DhtRecordStore } from './record-store.js'
export type { DhtRecordStoreInit, DhtStoreStats, OpenableDatastore } from './record-store.js'
export { InvalidPresenceError, PresencePublishError, PRESENCE_REFUSALS, DhtStoreRefusedError, DHT_STORE_REFUSALS } from './errors.js'
export type { PresenceRefusal, DhtStoreRefusal } from './errors.js'
export {
  PRESENCE_VERSION, MAX_PRESENCE_BYTES, PRESENCE_LIMITS, MAX_PRESENCE_CLOCK_SKEW_MS, MAX_PRESENCE_AGE_MS,
  PRESENCE_NAMESPACE, PRESENCE_QUERY_TIMEOUT_MS, DHT_STORE_LIMITS
} from './constants.js'
export type { DhtStoreLimits } from './constants.js'
