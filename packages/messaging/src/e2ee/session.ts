import type { RatchetState } from '@kith/crypto'
import type { SealChain } from './session-seal.js'

/** One device pair's Double Ratchet session. */
export interface Session {
  state: RatchetState
  /** X3DH associated data: both devices' identity DH keys. */
  ad: Uint8Array
  /** The other device's X25519 identity key: seals go to it. */
  theirDh: Uint8Array
  /**
   * The other device's certificate, verified when the session began: session-sealed envelopes
   * leave the sender's certificate out (the seal tag already names the session), so this is the
   * one checked for them. Missing in sessions stored before it was kept.
   */
  theirCertificate?: Uint8Array
  /** X3DH fields our messages carry until the other side answers (we initiated). */
  prekey?: { ephemeral: Uint8Array, signedId: number, oneTimeId: number }
  /** The initiator's ephemeral key of the X3DH this session came from (we responded). */
  initiation?: Uint8Array
  /**
   * The certificate of ours the other device has acknowledged in this session. Until it is our
   * current one (a new session, or our identity re-certified this device), every envelope
   * carries our certificate, so the other side sees who we are now.
   */
  sentCertificate?: Uint8Array
  /** The certificate our envelopes in this session carry (the last one that carried one). */
  offeredCertificate?: Uint8Array
  /** Session sealing, once established: ours to send with, theirs to recognise. */
  sealOut?: SealChain
  sealIn?: SealChain
  /**
   * Sessions this one replaced, newest first (at most {@link MAX_PREVIOUS}; they hold no
   * `previous` of their own). When both devices open a session with each other at once, each
   * answers the other's X3DH and keeps its own as previous: envelopes already sealed in it still
   * open, as Signal keeps archived session states.
   */
  previous?: Session[]
}

/** Replaced sessions kept to open envelopes still in flight in them. */
export const MAX_PREVIOUS = 2


/** The session in `slot` of `session`: itself for 0, else `previous[slot - 1]`. */
export function inSlot (session: Session | undefined, slot: number): Session | undefined {
  return slot === 0 ? session : session?.previous?.[slot - 1]
}

/** `current` with the session in `slot` replaced by `next` (a previous one keeps no previous of its own). */
export function replaceSlot (current: Session, slot: number, next: Session): Session {
  if (slot === 0) return next
  const previous = [...current.previous ?? []]
  const { previous: _, ...flat } = next
  previous[slot - 1] = flat
  return { ...current, previous }
}

/** A new session that replaces `current`, which is kept (with its own previous ones) as previous. */
export function withPrevious (next: Session, current: Session | undefined): Session {
  if (current == null) return next
  const { previous, ...flat } = current
  return { ...next, previous: [flat, ...previous ?? []].slice(0, MAX_PREVIOUS) }
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(b)
}

