import {
  Ack, AckStatus, ENCRYPTION_NONE, ENVELOPE_VERSION, InvalidMessageError, decodeEnvelope, LIMITS, MESSAGE_ID_BYTES,
  MessageKind, toHex, utf8Length
} from '@kith/core'
import { openSignedMessage } from '@kith/crypto'
import type { OpenedMessage } from '@kith/crypto'
import type { Envelope } from '@kith/core'
import type { MessagingMetrics } from './metrics.js'

/** What the receiving side decided about one envelope, and what to do about it. */
export type Verdict =
  | { status: AckStatus.INVALID, reason: keyof MessagingMetrics, id?: Uint8Array }
  | { status: AckStatus.DUPLICATE, id: Uint8Array }
  | { status: AckStatus.OK, id: Uint8Array, envelope: Envelope, opened: OpenedMessage }

/**
 * Check one frame from the wire: decode (the frame's size was limited before), check the
 * version, recipient and id, drop known ids before any crypto, then verify the signature and
 * the message's own limits. What the sender may do (contact? invite?) is decided by the caller.
 */
export async function checkEnvelope (frame: Uint8Array, self: Uint8Array, isKnownId: (id: string) => Promise<boolean>): Promise<Verdict> {
  let envelope: Envelope
  try {
    envelope = decodeEnvelope(frame)
  } catch {
    return { status: AckStatus.INVALID, reason: 'invalid' }
  }
  if (envelope.version !== ENVELOPE_VERSION || envelope.encryption !== ENCRYPTION_NONE ||
    envelope.id.length !== MESSAGE_ID_BYTES || !Buffer.from(envelope.recipient).equals(self)) {
    return { status: AckStatus.INVALID, reason: 'invalid', id: envelope.id }
  }
  const id = envelope.id
  if (await isKnownId(toHex(id))) return { status: AckStatus.DUPLICATE, id }

  let opened: OpenedMessage
  try {
    opened = await openSignedMessage(envelope.body, envelope)
  } catch (err: any) {
    return { status: AckStatus.INVALID, reason: err instanceof InvalidMessageError ? 'invalid' : 'forged', id }
  }
  const { message } = opened
  if (message.kind === MessageKind.TEXT) {
    if (message.text.length === 0 || utf8Length(message.text) > LIMITS.maxTextBytes) return { status: AckStatus.INVALID, reason: 'invalid', id }
  } else if (message.kind === MessageKind.INTRO) {
    if (utf8Length(message.name) > LIMITS.maxNameBytes || message.addrs.some(a => a.length > LIMITS.maxAddrBytes)) {
      return { status: AckStatus.INVALID, reason: 'invalid', id }
    }
  } else {
    return { status: AckStatus.INVALID, reason: 'invalid', id }
  }
  return { status: AckStatus.OK, id, envelope, opened }
}

/** An ack frame for an envelope id. */
export function encodeAck (id: Uint8Array, status: AckStatus): Uint8Array {
  return Ack.encode({ id: new Uint8Array(id), status })
}
