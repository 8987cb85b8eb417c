/**
 * @packageDocumentation
 *
 * `createKithNode()` composes libp2p and the Kith services into one running node, and reads
 * the identity and the database from a home folder.
 *
 * @example
 * ```ts
 * import '@kith/core/polyfill'
 * import { createKithNode, initHome } from '@kith/node'
 * await initHome('/tmp/alice', 'alice')
 * const node = await createKithNode({ home: '/tmp/alice', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
 * const code = await node.createInvite()
 * ```
 */
import '@kith/core/polyfill'
import type { DeviceManager, LinkedDevice, RefusedLink } from './devices.js'
import type { LinkRequestView } from '@kith/devices'
import type { HistorySync } from '@kith/history'
import type { Messaging, MessagingEvents, MessagingInit, MessagingMetrics } from '@kith/messaging'
import type { ContactRecord, HistoryOptions, KithStore, MessageRecord } from '@kith/store'
import type { GossipSub } from '@libp2p/gossipsub'
import type { GroupService, GroupView } from '@kith/groups'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Libp2p, PeerId, PrivateKey, PublicKey, TypedEventTarget } from '@libp2p/interface'
import type { Verification } from './verify.js'
import type { RelayReservations } from './reservations.js'
import type { Reach, ReachStatus } from './reach.js'
import type { MailboxStoreOptions } from '@kith/mailbox'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { Files, FilesMetrics } from '@kith/files'
import type { FileProgress, FileSharing, FileView, SavedFile } from './sharing.js'

export { createKithNode } from './create-node.js'
export { initHome, loadHome, HOME_FILES } from './home.js'
export { resolveHome } from '@kith/core'
export type { Identity, HomeOptions } from './home.js'
export { needsPassphrase } from './data-key.js'
export { NoIdentityKnownError } from './verify.js'
export type { Verification } from './verify.js'
export type { ReachStatus } from './reach.js'
export type { Reachability } from './reservations.js'
export type { MessageRecord, ContactRecord, HistoryOptions, MessageStatus, MessageFile } from '@kith/store'
export type { FileProgress, FileState, FileView, SavedFile } from './sharing.js'

/** The libp2p services a Kith node runs. */
export type KithServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  messaging: Messaging
  files: Files
  reservations: RelayReservations
  /** History sync between this user's own devices (docs/devices.md). */
  history: HistorySync
  /** Only on nodes started with `relay`. */
  relay?: CircuitRelayService
}  // a type, not an interface: libp2p's ServiceMap needs an index signature

export interface KithNodeOptions {
  /** Home folder holding the device key, profile and database. */
  home?: string
  /** The home folder's passphrase, when it has one. */
  passphrase?: string
  /** Use this device key instead of the home folder's (tests). */
  privateKey?: PrivateKey
  /** With `privateKey`: the identity key that certifies it (default: a new one). */
  identityKey?: PrivateKey
  /** Display name; defaults to the profile's. */
  name?: string
  /** Use this store instead of `HOME/db` (tests); the caller closes it. */
  store?: KithStore
  /** Multiaddrs to listen on (default: any interface, TCP and WebSockets, random ports). */
  listen?: string[]
  /** Bootstrap peers (multiaddrs with /p2p/). */
  bootstrap?: string[]
  /** Discover peers on the LAN with mDNS (default true). */
  mdns?: boolean
  /** `memory` uses libp2p's in-memory transport (tests). Default `tcp` (TCP + WebSockets). */
  transport?: 'tcp' | 'memory'
  /** Extra networks exempt from connection limits (loopback always is). */
  allow?: string[]
  /** Run the DHT as a client only (default false: serve it). */
  dhtClientMode?: boolean
  /** Tuning for the messaging service (rate limits, window). */
  messaging?: Partial<Omit<MessagingInit, 'store' | 'name'>>
  /** Tuning for groups: how often each group catches up with a random member (default 15 s). */
  groups?: { syncEveryMs?: number }
  /** Serve contacts as a circuit relay (and a mailbox), with these limits. */
  relay?: RelayOptions
  /** This node is publicly reachable at its listen addresses (a server, a forwarded port): it holds no relay reservations. */
  public?: boolean
  /** With `relay`: quotas and time to live of the mailbox it keeps for friends. */
  mailbox?: MailboxOptions
  /** Tuning for presence records and mailboxes (how often to republish and drain). */
  reach?: { publishEveryMs?: number, drainEveryMs?: number }
  /** Files up to this many bytes are downloaded as soon as they arrive (default {@link AUTO_DOWNLOAD_DEFAULT}; 0: never). */
  autoDownloadBytes?: number
  /** Where encrypted file chunks are kept (default `HOME/files`; a temporary folder without a home). */
  filesDir?: string
  /** Start at once (default true). */
  start?: boolean
}

/** Files up to this size download on arrival unless the user sets another limit (`--auto-download`). */
export const AUTO_DOWNLOAD_DEFAULT = 25 * 1024 * 1024

/** Limits of a relay for friends (`kith start --relay`). */
export interface RelayOptions {
  /** Contacts that may hold a reservation at once (default 32). */
  maxReservations?: number
  /** How long one relayed connection may last, in ms (default 30 minutes). */
  durationLimitMs?: number
  /** How many bytes one relayed connection may carry, both directions together (default 256 MiB). */
  dataLimitBytes?: number
  /** Reservations the linked devices of one contact may hold at once (default 4). */
  reservationsPerContact?: number
  /** Circuits strangers from one IP address (an IPv6 /64) may hold through us to our contacts at once (default 4). */
  strangerCircuitsPerSource?: number
  /** Circuits all strangers together may hold through us at once (default 32). */
  strangerCircuits?: number
}

/** The relay limits used when {@link RelayOptions} leaves one out. */
export const RELAY_DEFAULTS = { maxReservations: 32, durationLimitMs: 30 * 60_000, dataLimitBytes: 256 * 1024 * 1024, reservationsPerContact: 4, strangerCircuitsPerSource: 4, strangerCircuits: 32 } as const

/** Quotas and time to live of a relay's mailbox (see @kith/mailbox). */
export type MailboxOptions = MailboxStoreOptions

/** What `kith status` shows. */
export interface NodeStatus {
  peerId: string
  name: string
  /** Fingerprint of our identity key. */
  identity: string
  addresses: string[]
  connections: number
  /** Outgoing envelopes not yet acked. */
  pending: number
  metrics: MessagingMetrics
  /** Reachability, relays in use, mailboxes and their backlog. */
  network: ReachStatus
  /** File transfers: bytes served and fetched, bad chunks, refused requests, downloads under way. */
  files: FilesMetrics & { downloads: number }
}

/** A contact as shown to users. */
export interface ContactView {
  name: string
  peerId: string
  online: boolean
  /** How we are connected: directly, only through a relay (a friend's), or not at all. */
  connection: 'direct' | 'relayed' | 'none'
  /** The user compared safety numbers with this contact. */
  verified: boolean
  /** The contact's identity key changed: sending waits until the user accepts it. */
  identityChanged: boolean
  /** We hold a key package of the contact: it can be added to groups even while offline. */
  groupReady: boolean
  /** How many devices the contact has (from its signed device list). */
  devices: number
  /** Received messages not yet read (on any of our devices). */
  unread: number
}

export type KithNodeEvents = MessagingEvents & {
  /** Progress of preparing, downloading or saving a file. */
  'file:progress': CustomEvent<FileProgress>
  /**
   * A new device proved a link code (on the identity device) and waits: the user compares
   * `comparison` with the new device's screen and confirms (`devices.confirmLink`) or declines.
   */
  'device:link-request': CustomEvent<LinkRequestView>
  /** A new device joined this account (on the identity device), after the user confirmed its comparison code. */
  'device:linked': CustomEvent<LinkedDevice>
  /** A link ended without the user's confirmation: the device was not linked. */
  'device:link-refused': CustomEvent<RefusedLink>
  /** History sync with another of our devices made progress (`done` once it ended). */
  'history:progress': CustomEvent<HistoryProgress>
}

/** A running Kith node. */
export interface KithNode extends TypedEventTarget<KithNodeEvents> {
  readonly peerId: PeerId
  readonly name: string
  /** Our identity key (public). */
  readonly identity: PublicKey
  readonly libp2p: Libp2p<KithServices>
  readonly store: KithStore
  readonly messaging: Messaging
  /** The groups this device is in (docs/groups.md). */
  readonly groups: GroupService
  /** Presence records, relays and mailboxes: reaching contacts and being reached. */
  readonly reach: Reach
  /** Files in conversations: sending, downloading, saving. */
  readonly sharing: FileSharing
  start(): Promise<void>
  /** Stop libp2p and close the database (if the node opened it). */
  stop(): Promise<void>
  status(): NodeStatus
  contacts(): Promise<ContactView[]>
  /** A contact by alias or peer id. @throws {UnknownContactError} */
  resolveContact(nameOrPeerId: string): Promise<ContactRecord>
  /**
   * Send to a contact (queued; resolves once it is durable) or to a group (published); `to` is
   * a contact's alias or peer id, else a group's id or name.
   * @throws {UnknownContactError | EmptyMessageError | MessageTooLargeError}
   */
  send(to: string, text: string): Promise<MessageRecord>
  /**
   * Send a file to a contact or a group (as {@link send} resolves `to`): it is encrypted into
   * this node's file store first (progress events carry `op`), then offered end to end.
   * @throws {UnknownContactError | InvalidMessageError}
   */
  sendFile(to: string, path: string, op?: string): Promise<MessageRecord>
  /** The file a message carries, as it stands here. @throws {UnknownFileError} */
  file(messageId: string): Promise<FileView>
  /**
   * Download (or resume) a message's file and decrypt it to `dest` (a folder, or a file path).
   * @throws {UnknownFileError | FileExistsError | DiskFullError | FileUnavailableError | FileCorruptError}
   */
  saveFile(messageId: string, dest: string, options?: { overwrite?: boolean, op?: string }): Promise<SavedFile>
  /** A page of a conversation (a contact's or a group's), oldest first. */
  history(conversation: string, options?: HistoryOptions): Promise<MessageRecord[]>
  /**
   * A contact's safety number and verification state; `mark` records it as verified, `accept`
   * accepts a changed identity key. @throws {UnknownContactError | NoIdentityKnownError}
   */
  verify(contact: string, action?: 'mark' | 'accept'): Promise<Verification>
  createInvite(): Promise<string>
  /** @throws {InvalidInviteError | ContactExistsError} */
  acceptInvite(code: string, alias: string): Promise<ContactRecord>
  /** This account's devices (docs/devices.md). */
  readonly devices: DeviceManager
  /**
   * Mark a conversation (a contact or a group, as {@link history} names it) read up to its
   * latest message, on all our devices. @throws {UnknownContactError}
   */
  markRead(conversation: string): Promise<{ conversation: string, upTo: number }>
}
/** How a history sync with another of our devices is going. */
export interface HistoryProgress {
  /** The device we pull from. */
  peer: string
  /** Messages written (or found gone) of `total` this device lacked. */
  fetched: number
  total: number
  /** The sync ended (with `error` when it failed; what was fetched stays). */
  done: boolean
  error?: string
}
export type { GroupView }
export type { DeviceView, LinkedDevice, RefusedLink } from './devices.js'
export type { LinkRequestView } from '@kith/devices'
export { linkHome } from './link.js'
export type { LinkedHome, LinkHomeOptions } from './link.js'
