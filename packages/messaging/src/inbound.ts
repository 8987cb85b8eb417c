import {
  Ack, AckStatus, ENCRYPTION_NONE, ENVELOPE_VERSION, InvalidMessageError, LIMITS, MESSAGE_ID_BYTES,
  MessageKind, decodeEnvelope, decodeFileOffer, toHex, utf8Length
} from '@kith/core'
import { openSignedMessage } from '@kith/crypto'
import type { Envelope, Message } from '@kith/core'
import type { OpenedMessage } from '@kith/crypto'
import type { MessagingMetrics } from './metrics.js'
import type { PeerId } from '@libp2p/interface'

/** Why an envelope was turned away, as counted in the metrics. */
export type Rejection = keyof Pick<MessagingMetrics, 'invalid' | 'forged'>

/** A frame that decoded into an envelope addressed to us. */
export interface DecodedFrame { ok: true, id: Uint8Array, hexId: string, envelope: Envelope }
/** A frame that did not; `id` is there when the frame decoded far enough to ack it. */
export interface BadFrame { ok: false, reason: Rejection, id?: Uint8Array }

/**
 * First, cheap checks on one frame from the wire (its size was limited before it was read):
 * strict decoding, version, encryption, id length, recipient. No crypto, no storage.
 */
export function decodeFrame (frame: Uint8Array, self: Uint8Array, encryption: number | readonly number[] = ENCRYPTION_NONE): DecodedFrame | BadFrame {
  const accepted = typeof encryption === 'number' ? [encryption] : encryption
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(frame)
  } catch {
    return { ok: false, reason: 'invalid' }
  }
  if (envelope.version !== ENVELOPE_VERSION || !accepted.includes(envelope.encryption) ||
    envelope.id.length !== MESSAGE_ID_BYTES || !Buffer.from(envelope.recipient).equals(self)) {
    return envelope.id.length === MESSAGE_ID_BYTES ? { ok: false, reason: 'invalid', id: envelope.id } : { ok: false, reason: 'invalid' }
  }
  return { ok: true, id: envelope.id, hexId: toHex(envelope.id), envelope }
}

/**
 * Verify an envelope's signature and its message's own limits. Returns the opened message or
 * why it was rejected. `from` is the authenticated peer that delivered it: when that is the
 * signer, the Noise handshake already proved the key and the signature is not checked twice.
 */
export async function openEnvelope (envelope: Envelope, from?: PeerId): Promise<OpenedMessage | Rejection> {
  let opened: OpenedMessage
  try {
    opened = await openSignedMessage(envelope.body, envelope, from != null ? { authenticatedPeer: from } : {})
  } catch (err) {
    return err instanceof InvalidMessageError ? 'invalid' : 'forged'
  }
  return validMessage(opened.message) ? opened : 'invalid'
}

/** A message's own limits: non-empty text within the size limit, a well-formed file offer or introduction, or a control message within its limits. */
export function validMessage (message: Message): boolean {
  // A peer id string is at most about 60 characters; only texts and files are copied between devices.
  if (message.sentTo.length > 128 || (message.sentTo !== '' && message.kind !== MessageKind.TEXT && message.kind !== MessageKind.FILE)) return false
  switch (message.kind) {
    case MessageKind.TEXT:
      return message.text.length > 0 && utf8Length(message.text) <= LIMITS.maxTextBytes
    case MessageKind.CONTROL:
      return message.topic.length > 0 && utf8Length(message.topic) <= LIMITS.maxControlTopicBytes && message.payload.length <= LIMITS.maxControlBytes
    case MessageKind.FILE:
      try { decodeFileOffer(message.file); return true } catch { return false }
    case MessageKind.INTRO:
      return utf8Length(message.name) <= LIMITS.maxNameBytes && message.addrs.every(a => a.length <= LIMITS.maxAddrBytes) && message.certificate.length <= LIMITS.maxCertificateBytes
    default:
      return false
  }
}

/** An ack frame for an envelope id. */
export function encodeAck (id: Uint8Array, status: AckStatus): Uint8Array {
  return Ack.encode({ id: new Uint8Array(id), status })
}
