/**
 * @packageDocumentation
 *
 * Kith's local state in LevelDB: contacts, invites, history and the durable outbox, each state
 * change one atomic batch.
 *
 * @example
 * ```ts
 * import { openStore } from '@kith/store'
 * const store = await openStore('/home/me/.kith/db')
 * const record = await store.appendOutgoing({ id, conversation, from, text: 'hi', ts: Date.now() }, envelope)
 * await store.setStatus([record.id], 'delivered')
 * ```
 */
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { KithStore } from './kith-store.js'
import type { RecordCipher } from './table.js'

export { KithStore }
export { messageFileOf, fileOfferOf } from './file.js'
export { contactDevices } from './contact.js'
export type { RecordCipher } from './table.js'
export type { IncomingClaim, StoreOp } from './kith-store.js'
export type * from './types.js'

/**
 * Open (creating if needed) a LevelDB store at `path`. With a `cipher`, every value is sealed
 * at rest (see {@link RecordCipher}).
 */
export async function openStore (path: string, cipher?: RecordCipher, options: { sync?: boolean } = {}): Promise<KithStore> {
  const store = new KithStore(new Level<string, any>(path), cipher, options)
  await store.open()
  return store
}

/** An in-memory store, for unit tests. */
export async function memoryStore (): Promise<KithStore> {
  const store = new KithStore(new MemoryLevel<string, any>())
  await store.open()
  return store
}
