import { decodeFileOffer, encodeFileOffer } from '@kith/core'
import type { FileOffer } from '@kith/core'
import { ed25519SignRaw, ed25519VerifyRaw } from '@kith/crypto'
import { peerIdFromString } from '@libp2p/peer-id'

/**
 * A group text as it travels inside MLS application content: its id, the sender's clock, the
 * sender's signature, then the UTF-8 text. MLS authenticates it to those who read it on the
 * topic; the signature (by the sender's device key, which is also its MLS signature key) lets
 * members who get it later, in catch-up from another member, check that the sender wrote it.
 * The signature covers the group and the epoch the text was sent in, so a text can't be
 * replayed into another group or moved to another epoch (before a member joined, or after a
 * removal) by whoever hands it on.
 */

export const TEXT_ID_BYTES = 16
const TS_BYTES = 8
const SIGNATURE_BYTES = 64
const HEADER_BYTES = TEXT_ID_BYTES + TS_BYTES + SIGNATURE_BYTES
const CONTEXT = Buffer.from('kith/group-text/v2')

/** A text with what proves who wrote it. */
export interface SignedText {
  /** 16 random bytes, hex. */
  id: string
  /** The sender's clock when it wrote the text, ms since the epoch. */
  ts: number
  text: string
  /** Ed25519, by the sender's device key, over the group, epoch, id, time and text. */
  signature: Uint8Array
}

/** A text before it is signed. */
export type UnsignedText = Omit<SignedText, 'signature'>

/** Sign a text for a group's epoch with the device's Ed25519 seed (the MLS signature private key). */
export function signText (groupId: string, epoch: bigint, seed: Uint8Array, text: UnsignedText): SignedText {
  return { id: text.id, ts: text.ts, text: text.text, signature: ed25519SignRaw(seed, signedBytes(groupId, epoch, text)) }
}

/** Whether `sender` (a device peer id) signed this text for this group and epoch. */
export function verifyText (groupId: string, epoch: bigint, sender: string, text: SignedText): boolean {
  const key = senderKey(sender)
  return key != null && epoch >= 0n && text.signature.length === SIGNATURE_BYTES && ed25519VerifyRaw(key, signedBytes(groupId, epoch, text), text.signature)
}

/** Senders' keys, parsed once (every text read is checked): a group has few senders. */
const senderKeys = new Map<string, Uint8Array | null>()
const MAX_SENDER_KEYS = 4096

function senderKey (sender: string): Uint8Array | undefined {
  let key = senderKeys.get(sender)
  if (key === undefined) {
    try {
      const peer = peerIdFromString(sender)
      key = peer.type === 'Ed25519' ? peer.publicKey.raw : null
    } catch {
      key = null
    }
    if (senderKeys.size >= MAX_SENDER_KEYS) senderKeys.clear()
    senderKeys.set(sender, key)
  }
  return key ?? undefined
}

export function encodeTextBody (text: SignedText): Uint8Array {
  const stamp = Buffer.alloc(TS_BYTES)
  stamp.writeBigUInt64BE(BigInt(text.ts))
  return Buffer.concat([Buffer.from(text.id, 'hex'), stamp, text.signature, Buffer.from(text.text)])
}

/** The text in a body, or undefined when it is too short to hold one. */
export function decodeTextBody (body: Uint8Array): SignedText | undefined {
  if (body.length < HEADER_BYTES) return undefined
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return {
    id: bytes.subarray(0, TEXT_ID_BYTES).toString('hex'),
    ts: Number(bytes.readBigUInt64BE(TEXT_ID_BYTES)),
    signature: new Uint8Array(bytes.subarray(TEXT_ID_BYTES + TS_BYTES, HEADER_BYTES)),
    text: bytes.subarray(HEADER_BYTES).toString()
  }
}

function signedBytes (groupId: string, epoch: bigint, { id, ts, text }: UnsignedText): Uint8Array {
  const stamps = Buffer.alloc(2 * TS_BYTES)
  stamps.writeBigUInt64BE(BigInt.asUintN(64, epoch))
  stamps.writeBigUInt64BE(BigInt(ts), TS_BYTES)
  const group = Buffer.from(groupId, 'hex')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(group.length)
  // Only the group id's length varies before the text: it goes first, so no two inputs share bytes.
  return Buffer.concat([CONTEXT, length, group, stamps.subarray(0, TS_BYTES), Buffer.from(id, 'hex'), stamps.subarray(TS_BYTES), Buffer.from(text)])
}

/**
 * A group text whose content is a file offer starts with this, then the encoded FileOffer in
 * base64url. Signed, handed on in catch-up and stored like any text; typed texts never start
 * with NUL (the service refuses them), so it can't be mistaken for one.
 */
export const FILE_TEXT_PREFIX = '\u0000kith-file:'

/** The text that carries a file offer. */
export function fileText (offer: FileOffer): string {
  return FILE_TEXT_PREFIX + Buffer.from(encodeFileOffer(offer)).toString('base64url')
}

/** The file offer a text carries, or undefined when it is an ordinary text (or a malformed offer). */
export function fileInText (text: string): FileOffer | undefined {
  if (!text.startsWith(FILE_TEXT_PREFIX)) return undefined
  try {
    return decodeFileOffer(Buffer.from(text.slice(FILE_TEXT_PREFIX.length), 'base64url'))
  } catch {
    return undefined
  }
}
