/**
 * @packageDocumentation
 *
 * Direct messages on `/kith/dm/1.0.0`, as a libp2p service. A message is written to history and
 * the outbox in one LevelDB batch before it goes on the wire, signed by the device key, and
 * resent with backoff until the recipient acks it, across restarts of either side. The
 * receiver drops duplicates by id and lets in contacts only (and whoever presents a valid
 * invite token); a flooding peer is disconnected.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { messaging } from '@kith/messaging'
 * const node = await createLibp2p({ ..., services: { messaging: messaging({ store, name: 'alice' }) } })
 * node.services.messaging.addEventListener('message', evt => console.log(evt.detail.text))
 * await node.services.messaging.send(bobPeerId, 'hello')
 * ```
 */
import { DefaultMessaging } from './messaging.js'
import type { MessagingMetrics } from './metrics.js'
import type { FileOffer } from '@kith/core'
import type { ContactRecord, KithStore, MessageRecord, StoreOp } from '@kith/store'
import type { ComponentLogger, Libp2pEvents, PeerId, PeerStore, PrivateKey, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'

export { checkAlias } from './contacts.js'
export type { MessagingMetrics }

/** Events the messaging service emits. */
export interface MessagingEvents {
  /** A new message arrived (duplicates are not reported). */
  'message': CustomEvent<MessageRecord>
  /** An outgoing message changed status (sent, delivered, refused). */
  'message:status': CustomEvent<MessageRecord>
  /** A contact was added, by accepting an invite or by a friend redeeming ours. */
  'contact': CustomEvent<ContactRecord>
  /** A contact's device presented another identity key: sending to it waits until the user accepts the change. */
  'contact:identity-changed': CustomEvent<ContactRecord>
}

/**
 * Takes a control message from a contact's device or one of our own (its peer id, `from`): returns store ops to write in the
 * batch that takes the message in (so accepting it and its effects are one change), and what
 * to do once that batch is written. Throwing refuses it (counted as invalid; the sender's
 * outbox drops it).
 */
/**
 * Takes a control message: returns the store ops to commit with it and what to do after. Throw
 * a named error (a `KithError`), or let a parse error (SyntaxError, RangeError) through, to
 * refuse it for good; any other error means "not now", and the sender sends it again later.
 */
export type ControlHandler = (from: string, payload: Uint8Array) => Promise<{ ops: StoreOp[], after?: () => void }>

/** The messaging service. */
export interface Messaging extends TypedEventTarget<MessagingEvents> {
  /** Queue `text` for a contact (by peer id); resolves once it is durable, with status `queued`. */
  send(peer: string, text: string): Promise<MessageRecord>
  /**
   * Queue a file offer (what fetching and opening a file takes: its hash, key, size, name and
   * type) for a contact, end-to-end encrypted like a text; the chunks travel on
   * `/kith/files/1.0.0`. Resolves once it is durable, with status `queued`.
   *
   * @throws {InvalidMessageError} when the offer breaks the limits
   */
  sendFile(peer: string, offer: FileOffer): Promise<MessageRecord>
  /**
   * Queue a control message for a contact's device, for the service that handles `topic`
   * there (groups hand over key packages and Welcomes this way): end-to-end encrypted like a
   * text and kept in the outbox until acked, across restarts and while the contact is offline,
   * but not part of history. `extra` is written in the same batch.
   */
  sendControl(peer: string, topic: string, payload: Uint8Array, extra?: StoreOp[]): Promise<void>
  /** Take the control messages sent on `topic` (one handler per topic). */
  handleControl(topic: string, handler: ControlHandler): void
  /** Issue a single-use invite code that lets its holder become a contact. */
  createInvite(): Promise<string>
  /** Add the inviter as a contact named `alias` and queue our introduction to it. */
  acceptInvite(code: string, alias: string): Promise<ContactRecord>
  /** Whether a peer is disconnected for flooding (the node's connection gater asks). */
  isBanned(peer: PeerId): boolean
  /**
   * Take in envelopes drained from one of our mailboxes, as if they had arrived directly, and
   * send each sender an end-to-end receipt. Resolves, per envelope, whether it is durable here
   * or refused for good: only those may the caller have the mailbox delete. One that can't be
   * opened now (its session must be renewed first) stays there for a later drain.
   */
  receiveDeposited(envelopes: Uint8Array[]): Promise<boolean[]>
  /** A prekey bundle without a one-time prekey, for our presence record (undefined without E2EE). */
  publishedPrekeys(): Uint8Array | undefined
  /** Envelopes waiting for an ack, for one peer or all. */
  pending(peer?: string): number
  /** Envelopes handed to recipients' mailboxes (this run) that no receipt or ack has confirmed yet. */
  waitingInMailboxes(): number
  readonly metrics: MessagingMetrics
}

/** How to reach a contact that cannot be reached directly; the node supplies it (presence records, mailboxes). */
export interface ReachHooks {
  /** Look for fresh addresses of the peer (added to the peer store): true when new ones were found. */
  locate(peer: string): Promise<boolean>
  /** Hand envelopes for the peer to its mailboxes: resolves with how many mailboxes hold them all (0: none could). */
  deposit(peer: string, envelopes: Uint8Array[]): Promise<number>
  /** The prekey bundle the peer published (its presence record), when it can't be asked directly. */
  prekeys?(peer: string): Promise<Uint8Array | undefined>
}

export interface MessagingInit {
  /** Where history, contacts, invites and the outbox live. */
  store: KithStore
  /** Our display name, sent with introductions and invites. */
  name: string
  /** Our device certificate (our identity key vouching for this device), sent with introductions and invites. */
  certificate: Uint8Array
  /** Envelopes per second a peer may send on average before it is disconnected (default 500). */
  ratePerSecond?: number
  /** Largest burst a peer may send (default 2000). */
  rateBurst?: number
  /** Envelopes per second all strangers (peers that are neither contacts' devices nor ours) may send together (default 200). */
  strangerFramesPerSecond?: number
  /** New sessions per second all strangers holding invites may open together (default 20). */
  strangerSessionsPerSecond?: number
  /** Unacked envelopes in flight per peer (default 256). */
  window?: number
  /**
   * `e2ee` (the default): sealed, end-to-end encrypted envelopes. `none`: signed envelopes in
   * the clear, for benchmarks and tests only; nodes of the two kinds cannot talk.
   */
  encryption?: 'e2ee' | 'none'
  /** How to reach contacts that cannot be reached directly (default: keep retrying directly only). */
  reach?: ReachHooks
  /**
   * This user's other devices, from its device list: what we send is copied to them, and their
   * envelopes are taken as our own (default: none).
   */
  ownDevices?: () => string[]
  /** Whether our device list revoked a device of ours: what it sends is refused for good (default: none is). */
  ownRevoked?: (peer: string) => boolean
}

/** Exactly the libp2p components the service uses. */
export interface MessagingComponents {
  peerId: PeerId
  privateKey: PrivateKey
  registrar: Registrar
  connectionManager: ConnectionManager
  addressManager: AddressManager
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

/** Create the messaging service for libp2p's `services`. */
export function messaging (init: MessagingInit): (components: MessagingComponents) => Messaging {
  return (components) => new DefaultMessaging(components, init)
}
