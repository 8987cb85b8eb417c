/**
 * Where an outgoing message is: written, on the wire, held by the recipient's mailboxes (the
 * recipient was offline), acknowledged by the recipient, or refused.
 */
export type OutgoingStatus = 'queued' | 'sent' | 'stored' | 'delivered' | 'refused'
/** Status of any message in history; incoming messages are `received`. */
export type MessageStatus = OutgoingStatus | 'received'

/** One message in a conversation's history. */
export interface MessageRecord {
  /** Message id, hex; unique across all conversations. */
  id: string
  /** The contact's peer id: the conversation this message belongs to. */
  conversation: string
  /** Position in the conversation, assigned on write; increases with every message. */
  seq: number
  /** Peer id of the author (ours for outgoing messages). */
  from: string
  /** The text; empty when the message carries a file. */
  text: string
  /** The file the message carries, if any. */
  file?: MessageFile
  /** Sender's clock when it was written, ms since the epoch. */
  ts: number
  status: MessageStatus
  /** With status `stored`: how many of the recipient's mailboxes hold it. */
  mailboxes?: number
  /**
   * Why an outgoing message still waits after the recipient answered: `reset` (its device could
   * not open it, so the session is being renewed and the message sealed again) or `retry` (its
   * device could not take it yet). Gone once it is delivered.
   */
  waiting?: 'reset' | 'retry'
  /** A group text's epoch (the group's state it was read in). */
  epoch?: number
  /** A group text's signature by its sender (hex), handed on with it in catch-up. */
  signature?: string
  /** A group text's generation in its sender's MLS ratchet for its epoch: what a removal's cut-off compares. */
  generation?: number
}

/** A file sent in a message: what fetching, verifying and opening it takes. */
export interface MessageFile {
  /** RFC 6962 Merkle tree hash over the encrypted chunks, hex: the file's address. */
  hash: string
  /** The file's AES-256-GCM key, hex (history is encrypted at rest). */
  key: string
  /** Plaintext bytes. */
  size: number
  /** The name the sender gave it (sanitised before it names anything on disk). */
  name: string
  /** Media type; may be empty. */
  type: string
}

/** A person this node talks to. */
export interface ContactRecord {
  /** Device peer id. */
  peerId: string
  /** Local alias, unique in this node. */
  name: string
  /** Last known addresses (multiaddr strings). */
  addrs: string[]
  /** When the contact was added, ms since the epoch. */
  addedAt: number
  /** The contact's identity key (libp2p protobuf encoding, base64), from its device certificate. */
  identity?: string
  /** Whether the user compared safety numbers with this contact and marked them verified. */
  verified?: boolean
  /**
   * A different identity key this contact's device presented since: sending waits until the
   * user accepts it (after comparing the new safety number).
   */
  changedIdentity?: string
  /**
   * All of the contact's current devices, from its latest signed device list (`peerId`, the
   * device we met first, names the conversation and may itself be gone). Absent: `[peerId]`.
   */
  devices?: string[]
  /** Devices the contact's latest list revoked: what they send is refused for good. */
  revoked?: string[]
  /** The contact's latest signed device list (base64), as received. */
  deviceList?: string
  /** Its sequence number: older lists are refused. */
  deviceListSeq?: number
}

/** A signed envelope waiting for its recipient's ack. */
export interface OutboxEntry {
  /** Message id, hex. */
  id: string
  /** Recipient peer id. */
  peer: string
  /** Position in the conversation: the outbox drains in this order. */
  seq: number
  /** The encoded Envelope, exactly as it goes on the wire (sealed once, resent as is). */
  envelope: Uint8Array
  /**
   * The encoded Message the envelope seals: kept (sealed at rest, like history) so that when the
   * recipient can't open the envelope, a new session can seal it again under the same id.
   */
  message?: Uint8Array
}

/** An invite code this node issued and has not seen used. */
export interface InviteRecord {
  /** Token, hex. */
  token: string
  /** ms since the epoch. */
  expires: number
}

/** Options for paged reads of history. */
export interface HistoryOptions {
  /** How many messages, at most (the latest ones). */
  limit?: number
  /** Only messages with a `seq` below this cursor (for paging backwards). */
  before?: number
}

/** A history record as another of the user's own devices hands it over: all but `seq`, which the importing store assigns. */
export type ImportedMessage = Omit<MessageRecord, 'seq'>

/** Where a history record is kept: its conversation and its position there. */
export interface HistoryRef {
  conversation: string
  seq: number
}

/**
 * The place, time and id of every history record, for history sync: column arrays of `count`
 * entries, grouped by conversation and ordered by seq within each. Entry i is the record
 * `conversations[conversation[i]]` / `seq[i]`, written at `ts[i]`, whose id is the 16 bytes
 * `ids[16 i .. 16 i + 16]`.
 */
export interface HistorySyncEntries {
  count: number
  conversations: string[]
  conversation: Uint32Array
  seq: Float64Array
  ts: Float64Array
  ids: Uint8Array
}

/** What {@link KithStore.importHistory} did. */
export interface HistoryImport {
  /** The records written (with the seqs this store gave them), in the order written. */
  records: MessageRecord[]
  /** Records skipped because their id was already known here (or repeated in the batch). */
  known: number
}
