import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { ed25519Sign, ed25519Verify } from './ed25519.js'
import { InvalidMessageError, InvalidSignatureError, LIMITS, Message, SignedMessage } from '@kith/core'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

const DOMAIN = new TextEncoder().encode('kith/dm/v1')
const MAX_PUBLIC_KEY_BYTES = 128
const SIGNATURE_BYTES = 64

/** The envelope fields a signature binds, so a signed message can't be re-addressed or re-dated. */
export interface SignatureContext {
  id: Uint8Array
  recipient: Uint8Array
  timestamp: bigint
}

/** A signed message, opened and verified. */
export interface OpenedMessage {
  /** The device that signed it. */
  sender: PeerId
  message: Message
}

function signedBytes (ctx: SignatureContext, message: Uint8Array): Uint8Array {
  const ts = new Uint8Array(8)
  new DataView(ts.buffer).setBigUint64(0, ctx.timestamp)
  const lengths = new Uint8Array(4)
  const view = new DataView(lengths.buffer)
  view.setUint16(0, ctx.id.length)
  view.setUint16(2, ctx.recipient.length)
  return Buffer.concat([DOMAIN, lengths, ctx.id, ctx.recipient, ts, message])
}

// The sender's key travels in every message: encode it once per key.
const encodedKeys = new WeakMap<PrivateKey, Uint8Array>()
function encodedPublicKey (key: PrivateKey): Uint8Array {
  let bytes = encodedKeys.get(key)
  if (bytes == null) {
    bytes = new Uint8Array(publicKeyToProtobuf(key.publicKey))
    encodedKeys.set(key, bytes)
  }
  return bytes
}

/** Sign `message` with a device key for the envelope described by `ctx`; returns the body bytes. */
export async function signMessage (key: PrivateKey, ctx: SignatureContext, message: Message): Promise<Uint8Array> {
  const encoded = Message.encode(message)
  const signature = ed25519Sign(key, signedBytes(ctx, encoded))
  return SignedMessage.encode({
    sender: encodedPublicKey(key) as Uint8Array<ArrayBuffer>,
    message: encoded,
    signature: new Uint8Array(signature)
  })
}

// Parsing a public key is dearer than verifying with it; contacts are few, so keep them.
const keyCache = new Map<string, { key: PublicKey, peerId: PeerId }>()
const KEY_CACHE_SIZE = 1024

function parseSender (bytes: Uint8Array): { key: PublicKey, peerId: PeerId } {
  const cacheKey = Buffer.from(bytes).toString('base64')
  let entry = keyCache.get(cacheKey)
  if (entry == null) {
    const key = publicKeyFromProtobuf(bytes)
    entry = { key, peerId: peerIdFromPublicKey(key) }
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string)
    keyCache.set(cacheKey, entry)
  }
  return entry
}

/** Options for {@link openSignedMessage}. */
export interface OpenOptions {
  /**
   * The peer at the other end of the (Noise-authenticated) connection the message came on.
   * When it is the signer, the handshake has already proved the sender's key, so the signature
   * is not checked again; a message relayed by anyone else always is.
   */
  authenticatedPeer?: PeerId
}

/**
 * Decode and verify a signed message body.
 *
 * @throws {InvalidMessageError} when it is malformed
 * @throws {InvalidSignatureError} when the signature does not verify for this envelope
 */
export async function openSignedMessage (body: Uint8Array, ctx: SignatureContext, options: OpenOptions = {}): Promise<OpenedMessage> {
  let signed: SignedMessage
  let message: Message
  let sender: { key: PublicKey, peerId: PeerId }
  try {
    signed = SignedMessage.decode(body)
    if (signed.sender.length > MAX_PUBLIC_KEY_BYTES) throw new Error('sender key too long')
    sender = parseSender(signed.sender)
    if (sender.key.type !== 'Ed25519') throw new Error('device keys are Ed25519')
    message = Message.decode(signed.message, { limits: { addrs: LIMITS.maxAddrs } })
    if (signed.signature.length !== SIGNATURE_BYTES) throw new Error('an Ed25519 signature is 64 bytes')
  } catch (err) {
    throw new InvalidMessageError('malformed signed message', { cause: err })
  }
  if (options.authenticatedPeer?.equals(sender.peerId) === true) return { sender: sender.peerId, message }
  const ok = ed25519Verify(sender.key, signedBytes(ctx, signed.message), signed.signature)
  if (!ok) throw new InvalidSignatureError('message signature does not verify')
  return { sender: sender.peerId, message }
}
