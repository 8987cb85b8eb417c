import { randomBytes } from 'node:crypto'
import { ENCRYPTION_SEALED, ENVELOPE_VERSION, Envelope, toHex } from '@kith/core'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { MemoryLevel } from 'memory-level'
import { MailboxStore } from '../src/index.js'
import type { MailboxStoreOptions } from '../src/index.js'

/** A peer: its id string and the multihash bytes an Envelope carries as `recipient`. */
export interface Peer { id: string, multihash: Uint8Array<ArrayBuffer> }

/** A random Ed25519 peer id, built by hand: identity multihash of the protobuf public key. */
export function randomPeer (): Peer {
  const multihash = new Uint8Array([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...randomBytes(32)])
  const id = peerIdFromMultihash({ code: 0x00, size: 36, digest: multihash.subarray(2), bytes: multihash }).toString()
  return { id, multihash }
}

/** A sealed-looking envelope for `to`, with a fresh id (or the one given) and `bodyBytes` of random body. */
export function envelopeFor (to: Peer | Uint8Array<ArrayBuffer>, options: { id?: Uint8Array<ArrayBuffer>, bodyBytes?: number, timestamp?: bigint } = {}): Uint8Array<ArrayBuffer> {
  return Envelope.encode({
    version: ENVELOPE_VERSION,
    id: options.id ?? new Uint8Array(randomBytes(16)),
    recipient: to instanceof Uint8Array ? to : to.multihash,
    timestamp: options.timestamp ?? BigInt(Date.now()),
    encryption: ENCRYPTION_SEALED,
    body: new Uint8Array(randomBytes(options.bodyBytes ?? 100))
  })
}

/** The hex id of an envelope made by {@link envelopeFor}. */
export function idOf (envelope: Uint8Array): string {
  return toHex(Envelope.decode(envelope).id)
}

/** A store over a fresh memory-level database, opened. */
export async function memoryMailbox (options: MailboxStoreOptions = {}): Promise<{ store: MailboxStore, db: MemoryLevel<string, any> }> {
  const db = new MemoryLevel<string, any>()
  const store = new MailboxStore(db, options)
  await store.open()
  return { store, db }
}
