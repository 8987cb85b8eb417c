/**
 * @packageDocumentation
 *
 * Range-based set reconciliation (after Negentropy and Aljoscha Meyer's RBSR): two peers find
 * which message ids of a conversation each one lacks, at a cost that grows with the number of
 * differences rather than with the size of the history. Transport-agnostic: each call takes
 * the peer's message bytes and returns the bytes to send back.
 *
 * @example
 * ```ts
 * import { MemorySyncStorage, Reconciler } from '@kith/sync'
 *
 * const alice = new Reconciler(new MemorySyncStorage(aliceItems)) // items: { ts, id }
 * const bob = new Reconciler(new MemorySyncStorage(bobItems))
 * const need: Uint8Array[] = []
 * const have: Uint8Array[] = []
 * let message: Uint8Array | undefined = alice.initiate()
 * while (message !== undefined) {
 *   const answer = bob.reconcile(message).reply! // the responder always replies
 *   const result = alice.reconcile(answer)
 *   need.push(...result.need) // ids Bob has and Alice lacks
 *   have.push(...result.have) // ids Alice has and Bob lacks
 *   message = result.reply // undefined: done
 * }
 * ```
 */
export { Reconciler } from './reconciler.js'
export type { ReconcileResult } from './reconciler.js'
export type { ReconcilerOptions } from './options.js'
export { MemorySyncStorage } from './memory-storage.js'
export type { SyncStorage } from './storage.js'
export type { SyncItem, SyncBound } from './item.js'
export { SyncProtocolError } from './errors.js'
export { SYNC_VERSION, FINGERPRINT_BYTES, MIN_ID_BYTES, MAX_ID_BYTES, SYNC_DEFAULTS } from './constants.js'
