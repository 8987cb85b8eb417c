import type { ContactRecord, FileProgress, FileView, HistoryProgress, LinkRequestView, LinkedDevice, MessageRecord, MessageStatus, RefusedLink } from '@kith/node'

/** A message as the API shows it. */
export interface MessageView {
  id: string
  /** Peer id of the author. */
  from: string
  /** `me` for our own messages, else the sender's contact alias (its peer id when unknown). */
  fromName: string
  /** The conversation: the contact's alias, or the group's name. */
  contact: string
  text: string
  /** Author's clock, ms since the epoch. */
  ts: number
  status: MessageStatus
  /** Position in the conversation; pass as `before` to page backwards. */
  seq: number
  /** With status `stored`: how many of the recipient's mailboxes hold it. */
  mailboxes?: number
  /** Why an outgoing message is not delivered yet (queued, sent or stored). */
  pending?: string
  /** The file the message carries (its text is then empty). */
  file?: FileView
}

/** One line of the event stream. */
export type ApiEvent =
  | { type: 'message', message: MessageView }
  | { type: 'status', message: MessageView }
  | { type: 'contact', contact: { name: string, peerId: string } }
  /** A contact's identity key changed: sending to it waits until the user accepts (kith verify --accept). */
  | { type: 'identity-changed', contact: { name: string, peerId: string } }
  /** Progress of preparing, downloading or saving a file (a few times a second at most). */
  | { type: 'file-progress', progress: FileProgress }
  /**
   * A new device proved a link code and waits (on the identity device): the user compares
   * `comparison` with the new device's screen, then confirms or rejects it.
   */
  | { type: 'device-link-request', device: LinkRequestView }
  /** A device joined this account (on the identity device), after the user confirmed its comparison code. */
  | { type: 'device-linked', device: LinkedDevice }
  /** A link ended unconfirmed (`reason`: `rejected`, `timeout` or `gone`): the device was not linked. */
  | { type: 'device-link-refused', device: RefusedLink }
  /** History sync with another of our devices (a few times a second at most, and when it ends). */
  | { type: 'history-progress', progress: HistoryProgress }

/** Turn a stored record into its API view. */
export function messageView (record: MessageRecord, self: string, contactName: string, senderName = contactName, file?: FileView): MessageView {
  return {
    id: record.id,
    from: record.from,
    fromName: record.from === self ? 'me' : senderName,
    contact: contactName,
    text: record.text,
    ts: record.ts,
    status: record.status,
    seq: record.seq,
    ...(record.mailboxes != null ? { mailboxes: record.mailboxes } : {}),
    ...pendingOf(record, contactName),
    ...(file != null ? { file } : {})
  }
}

function pendingOf (record: MessageRecord, contactName: string): { pending?: string } {
  const reason = pendingReason(record, contactName)
  return reason != null ? { pending: reason } : {}
}

/** Why an outgoing message waits, in words a user understands; undefined once it is settled. */
function pendingReason (record: MessageRecord, contactName: string): string | undefined {
  if (record.status === 'queued' || record.status === 'sent' || record.status === 'stored') {
    if (record.waiting === 'reset') return `${contactName}'s device could not decrypt it: renewing the encrypted session and sending it again`
    if (record.waiting === 'retry') return `${contactName}'s device can't take it yet: sending it again`
  }
  switch (record.status) {
    case 'queued': return `waiting to reach ${contactName}`
    case 'sent': return `sent, waiting for ${contactName} to confirm`
    case 'stored': return `${contactName} is offline: held at ${record.mailboxes ?? 0} mailbox${record.mailboxes === 1 ? '' : 'es'} until it comes online`
    default: return undefined
  }
}

export function contactView (contact: ContactRecord): { name: string, peerId: string } {
  return { name: contact.name, peerId: contact.peerId }
}
