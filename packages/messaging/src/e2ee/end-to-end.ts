import { InvalidMessageError, LIMITS, Message, PreKeyBundle, SealedContent } from '@kith/core'
import {
  decodeHeader, ed25519Verify, encodeHeader, initReceiver, initSender, ratchetDecrypt, ratchetEncrypt,
  verifyDeviceCertificate, verifyPreKeyBundle, x3dhInitiate, x3dhRespond
} from '@kith/crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { DeviceKeys, dhIdentityPayload } from './device-keys.js'
import { PeerLocks } from './peer-locks.js'
import { paddingFor, seal, unseal } from './sealed-sender.js'
import type { RatchetState, VerifiedDeviceCertificate } from '@kith/crypto'
import type { KithStore, StoreOp } from '@kith/store'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** One device pair's Double Ratchet session. */
export interface Session {
  state: RatchetState
  /** X3DH associated data: both devices' identity DH keys. */
  ad: Uint8Array
  /** The other device's X25519 identity key: seals go to it. */
  theirDh: Uint8Array
  /** X3DH fields our messages carry until the other side answers (we initiated). */
  prekey?: { ephemeral: Uint8Array, signedId: number, oneTimeId: number }
  /** The initiator's ephemeral key of the X3DH this session came from (we responded). */
  initiation?: Uint8Array
}

/** A sealed envelope, opened: who sent it (certified) and what it holds, not yet decrypted. */
export interface Opened {
  sender: PeerId
  certificate: VerifiedDeviceCertificate
  /** The sender's identity key, as contacts store it (protobuf, base64). */
  identity: string
  content: SealedContent
}

/** Why an envelope could not be opened or decrypted; counted under this name. */
export class SealError extends Error {
  constructor (readonly reason: 'invalid' | 'forged' | 'replayed' | 'noSession', message: string) { super(message) }
}

/**
 * End-to-end encryption of 1:1 messages: X3DH from prekey bundles, a Double Ratchet session per
 * device pair, and sealed sender (the sender's certificate travels inside the ciphertext). The
 * sessions live in the store, sealed at rest, and each new state is written in the same batch
 * as the message it belongs to; {@link locks} keeps one step per peer at a time.
 */
export class EndToEnd {
  readonly keys: DeviceKeys
  readonly locks = new PeerLocks()
  private readonly sessions = new Map<string, Session>()
  private readonly verifiedBindings = new Set<string>()

  constructor (private readonly store: KithStore, deviceKey: PrivateKey, private readonly certificate: Uint8Array) {
    this.keys = new DeviceKeys(store, deviceKey, certificate)
  }

  async start (): Promise<void> { await this.keys.load() }

  async session (peer: string): Promise<Session | undefined> {
    let session = this.sessions.get(peer)
    if (session == null) {
      session = await this.store.getSecret<Session>(`e2ee/session/${peer}`)
      if (session != null) this.sessions.set(peer, session)
    }
    return session
  }

  /** The write that stores a session; call {@link remember} once it is committed. */
  saveOp (peer: string, session: Session): StoreOp { return this.store.putLatestSecret(`e2ee/session/${peer}`, session) }
  remember (peer: string, session: Session): void { this.sessions.set(peer, session) }

  /**
   * Open a session with a device from its bundle (X3DH as initiator). Checks that the bundle's
   * certificate is for `device` and its signed prekey is signed by the device key.
   *
   * @throws when the bundle is malformed or does not verify
   */
  initiate (device: PeerId, bundleBytes: Uint8Array): { session: Session, certificate: VerifiedDeviceCertificate } {
    if (bundleBytes.length === 0 || bundleBytes.length > LIMITS.maxBundleBytes) throw new InvalidMessageError('no usable prekey bundle')
    const b = PreKeyBundle.decode(bundleBytes)
    const certificate = verifyDeviceCertificate(b.certificate, { device })
    const bundle = {
      identityDhKey: b.identityDhKey,
      signedPreKey: { id: b.signedPrekeyId, publicKey: b.signedPrekey, signature: b.signedPrekeySignature },
      ...(b.oneTimePrekeyId !== 0 ? { oneTimePreKey: { id: b.oneTimePrekeyId, publicKey: b.oneTimePrekey } } : {})
    }
    const devicePublicKey = device.publicKey
    if (devicePublicKey == null) throw new InvalidMessageError('peer id holds no public key')
    verifyPreKeyBundle(bundle, devicePublicKey)
    const x = x3dhInitiate(this.keys.identityDh, bundle, devicePublicKey)
    return {
      certificate,
      session: {
        state: initSender(x.sharedSecret, bundle.signedPreKey.publicKey),
        ad: x.associatedData,
        theirDh: b.identityDhKey,
        prekey: { ephemeral: x.ephemeralPublicKey, signedId: x.signedPreKeyId, oneTimeId: x.usedOneTimePreKeyId ?? 0 }
      }
    }
  }

  /**
   * Encrypt `message` in `session` and seal it for the recipient. Pure: returns the body and the
   * session's next state (store it with the message).
   */
  encrypt (session: Session, message: Message, envelopeAad: Uint8Array): { body: Uint8Array, session: Session } {
    const { state, header, ciphertext } = ratchetEncrypt(session.state, Message.encode(message), session.ad)
    const content: SealedContent = {
      certificate: new Uint8Array(this.certificate),
      identityDhKey: new Uint8Array(this.keys.identityDh.publicKey),
      identityDhSignature: new Uint8Array(this.keys.identityDhSignature),
      prekeyEphemeral: new Uint8Array(session.prekey?.ephemeral ?? []),
      prekeySignedId: session.prekey?.signedId ?? 0,
      prekeyOneTimeId: session.prekey?.oneTimeId ?? 0,
      header: new Uint8Array(encodeHeader(header)),
      ciphertext: new Uint8Array(ciphertext),
      padding: new Uint8Array()
    }
    const unpadded = SealedContent.encode(content).length
    content.padding = new Uint8Array(paddingFor(unpadded + 3)) // field tag and length bytes
    const body = seal(session.theirDh, envelopeAad, SealedContent.encode(content))
    return { body, session: { ...session, state } }
  }

  /**
   * Open the seal, then check the sender's device certificate and its signature over its DH
   * identity key.
   *
   * @throws {SealError}
   */
  open (body: Uint8Array, envelopeAad: Uint8Array): Opened {
    let content: SealedContent
    try {
      content = SealedContent.decode(unseal(this.keys.identityDh, envelopeAad, body))
    } catch {
      throw new SealError('forged', 'the seal does not open')
    }
    let certificate: VerifiedDeviceCertificate
    try {
      certificate = verifyDeviceCertificate(content.certificate)
    } catch (err: any) {
      throw new SealError('forged', `bad sender certificate: ${err.message}`)
    }
    const deviceKey = certificate.device.publicKey
    const binding = `${certificate.device.toString()}/${Buffer.from(content.identityDhKey).toString('base64')}/${Buffer.from(content.identityDhSignature).toString('base64')}`
    if (!this.verifiedBindings.has(binding)) {
      if (deviceKey == null || !ed25519Verify(deviceKey, dhIdentityPayload(content.identityDhKey), content.identityDhSignature)) {
        throw new SealError('forged', 'the sender identity key is not signed by its device')
      }
      // The same device sends the same binding with every message: check it once.
      if (this.verifiedBindings.size >= 1024) this.verifiedBindings.clear()
      this.verifiedBindings.add(binding)
    }
    return { sender: certificate.device, certificate, identity: Buffer.from(publicKeyToProtobuf(certificate.identity)).toString('base64'), content }
  }

  /**
   * Decrypt an opened envelope in the sender's session. A message carrying X3DH fields from an
   * initiation the current session did not come from opens a new session (we respond to X3DH).
   * Pure apart from reading keys: returns the message, the session's next state and the writes
   * (the used one-time prekey's deletion) to commit with it.
   *
   * @throws {SealError}
   */
  async decrypt (opened: Opened, current: Session | undefined): Promise<{ message: Message, session: Session, ops: StoreOp[] }> {
    const { content } = opened
    try {
      const header = decodeHeader(content.header)
      const initiation = content.prekeyEphemeral.length > 0 ? content.prekeyEphemeral : undefined
      let session = current
      let ops: StoreOp[] = []
      if (initiation != null && (session?.initiation == null || !sameBytes(session.initiation, initiation))) {
        const responder = await this.keys.responderKeys(content.prekeySignedId, content.prekeyOneTimeId)
        if (responder == null) throw new SealError('noSession', 'the prekeys this message names are gone')
        const x = x3dhRespond(responder.keys, content.identityDhKey, initiation)
        session = { state: initReceiver(x.sharedSecret, responder.keys.signedPreKey), ad: x.associatedData, theirDh: content.identityDhKey, initiation }
        ops = responder.ops
      }
      if (session == null) throw new SealError('noSession', 'no session with this device')
      const { state, plaintext } = ratchetDecrypt(session.state, header, content.ciphertext, session.ad)
      // A message from them proves they have the session: stop sending X3DH fields.
      const { prekey: _, ...rest } = session
      return { message: Message.decode(plaintext, { limits: { addrs: LIMITS.maxAddrs } }), session: { ...rest, state }, ops }
    } catch (err: any) {
      if (err instanceof SealError) throw err
      if (err?.name === 'DuplicateMessageError') throw new SealError('replayed', 'message already received')
      if (err?.name === 'InvalidMessageError' || err instanceof TypeError) throw new SealError('invalid', `malformed: ${err.message}`)
      throw new SealError('forged', `does not decrypt: ${err?.name ?? err}`)
    }
  }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(b)
}

