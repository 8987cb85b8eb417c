import { AckStatus } from '@kith/core'

/** What is known of a sealed envelope's sender once its seal is open and its certificate checked. */
export interface SenderFacts {
  /** The sending device (certified by `identity`). */
  device: string
  /** The identity key its certificate names (protobuf, base64). */
  identity: string
  /** The contact this device belongs to: the one we met on it, or whose latest list names it. */
  contact?: { peerId: string, identity?: string, devices?: string[], revoked?: string[] }
  /** Our own identity key. */
  ownIdentity: string
  /** Whether the device is one of our own current devices. */
  ownDevice: boolean
  /** Whether our own device list revoked it. */
  ownRevoked: boolean
  /** Whether the envelope opens a new session (X3DH fields): only those can be introductions. */
  initiates: boolean
  /** Whether we have an invite out that has not expired: only then may a stranger introduce itself. */
  liveInvites: boolean
}

/** Who the sender is, or the answer it gets and the counter that counts it. */
export type Verdict =
  | { as: 'contact' | 'own' | 'stranger' }
  | { status: AckStatus, reason: 'refusedNotContact' | 'forged' | 'notYet' }

/**
 * Decide who sent an envelope before any ratchet or X3DH work is done for it. `stranger` may
 * only introduce itself with one of our invite tokens (checked after decryption). Final answers
 * are REFUSED (policy: not a contact, a revoked device) and INVALID (a device speaking for an
 * identity it does not belong to); RETRY says "not yet": a device we can't place yet (a
 * contact's or our own new device whose list has not reached us) sends again later.
 */
export function authorise (facts: SenderFacts): Verdict {
  const { contact, device, identity } = facts
  if (contact != null) {
    if (contact.revoked?.includes(device) === true) return { status: AckStatus.REFUSED, reason: 'refusedNotContact' }
    // A device known only from a contact's list speaks for that contact's identity, or not at all.
    if (contact.peerId !== device && identity !== contact.identity) return { status: AckStatus.INVALID, reason: 'forged' }
    // The device we met the contact on, or one of its latest list.
    if (contact.devices == null || contact.devices.includes(device)) return { as: 'contact' }
    return { status: AckStatus.RETRY, reason: 'notYet' }
  }
  if (identity === facts.ownIdentity) {
    if (facts.ownRevoked) return { status: AckStatus.REFUSED, reason: 'refusedNotContact' }
    return facts.ownDevice ? { as: 'own' } : { status: AckStatus.RETRY, reason: 'notYet' }
  }
  if (facts.initiates && facts.liveInvites) return { as: 'stranger' }
  return { status: AckStatus.REFUSED, reason: 'refusedNotContact' }
}
