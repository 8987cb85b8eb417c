import { ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, InvalidMessageError, LIMITS, Message, PreKeyBundle, SealedContent, padded } from '@kith/core'
import {
  decodeHeader, ed25519Verify, initReceiver, initSender, ratchetDecrypt, ratchetEncrypt,
  verifyDeviceCertificate, verifyPreKeyBundle, x3dhInitiate, x3dhRespond
} from '@kith/crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { DeviceKeys, dhIdentityPayload } from './device-keys.js'
import { PeerLocks } from './peer-locks.js'
import { seal, unseal } from './sealed-sender.js'
import { TAG_WINDOW, received, sealChains, sealTags, sessionSeal, sessionUnseal, tagOf } from './session-seal.js'
import type { SealChain } from './session-seal.js'
import { MAX_PREVIOUS, inSlot, replaceSlot, sameBytes, withPrevious } from './session.js'
import type { Session } from './session.js'
import type { VerifiedDeviceCertificate } from '@kith/crypto'
import type { KithStore, StoreOp } from '@kith/store'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** SealedContent's `bytes padding = 7`. */
const SEALED_CONTENT_PADDING_FIELD = 7

export { MAX_PREVIOUS }
export type { Session }

/** A sealed envelope, opened: who sent it (certified) and what it holds, not yet decrypted. */
export interface Opened {
  sender: PeerId
  certificate: VerifiedDeviceCertificate
  /** The sender's identity key, as contacts store it (protobuf, base64). */
  identity: string
  content: SealedContent
  /** The seal counter, when it was sealed with the session's keys (not an ephemeral key). */
  sealCounter?: number
  /** With `sealCounter`: the session it was sealed in, 0 for the current one, i for `previous[i - 1]`. */
  sealSlot?: number
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
  /** Session seal tags we expect next, hex → (peer, session slot, counter); and each slot's tags, to drop them. */
  private readonly tags = new Map<string, { peer: string, slot: number, counter: number }>()
  private readonly tagsOf = new Map<string, { key: Uint8Array, from: number, missed: number, tags: Map<number, string> }>()

  constructor (private readonly store: KithStore, deviceKey: PrivateKey, private readonly certificate: Uint8Array) {
    this.keys = new DeviceKeys(store, deviceKey, certificate)
  }

  async start (): Promise<void> {
    await this.keys.load()
    // A session-sealed envelope names no peer: know every session's next tags from the start.
    for (const [name, session] of await this.store.listSecrets<Session>('e2ee/session/')) this.remember(name.slice('e2ee/session/'.length), session)
  }

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
  remember (peer: string, session: Session): void {
    this.sessions.set(peer, session)
    // Seal chains stored before they had a tag key (kith 0.1) announce nothing we can recognise.
    const recognisable = (s: Session | undefined): SealChain | undefined => s?.sealIn?.tagKey != null ? s.sealIn : undefined
    for (let slot = 0; slot <= MAX_PREVIOUS; slot++) this.indexTags(peer, slot, recognisable(slot === 0 ? session : session.previous?.[slot - 1]))
  }

  /**
   * Keep the tags of `peer`'s session in `slot` known: the next TAG_WINDOW seal counters, and
   * the missed ones below them (envelopes that may still arrive out of order). Most calls change
   * nothing (a send) or move the window by one (a receive), so only the difference is hashed.
   * Tags are kept in counter order: missed counters were once in the window, so they are at the
   * front, and only the window's end is ever new.
   */
  private indexTags (peer: string, slot: number, chain: SealChain | undefined): void {
    const name = `${peer}/${slot}`
    const indexed = this.tagsOf.get(name)
    const sameKey = indexed != null && chain != null && Buffer.from(indexed.key).equals(chain.tagKey)
    const missed = chain?.missed ?? []
    if (sameKey && indexed.from === chain.next && indexed.missed === missed.length) return // a send: nothing moved
    const from = chain?.next ?? 0
    const keep = new Set(sameKey ? missed : [])
    for (const [counter, tag] of indexed?.tags ?? []) {
      if (sameKey && counter >= from) break
      if (keep.has(counter)) continue
      this.tags.delete(tag)
      indexed?.tags.delete(counter)
    }
    if (chain == null) { this.tagsOf.delete(name); return }
    const tags = sameKey ? indexed.tags : new Map<number, string>()
    const add = (first: number, bytes: Uint8Array[]): void => {
      for (const [i, tagBytes] of bytes.entries()) {
        const tag = Buffer.from(tagBytes).toString('hex')
        tags.set(first + i, tag)
        this.tags.set(tag, { peer, slot, counter: first + i })
      }
    }
    // A chain loaded from the store: its missed counters first, in order.
    if (!sameKey) for (const counter of missed) add(counter, sealTags(chain, counter, 1))
    // Counters already indexed are the start of the window: only its end is new.
    let first = from
    while (tags.has(first) && first < from + TAG_WINDOW) first++
    add(first, sealTags(chain, first, from + TAG_WINDOW - first))
    this.tagsOf.set(name, { key: chain.tagKey, from, missed: missed.length, tags })
  }

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
        theirCertificate: b.certificate,
        prekey: { ephemeral: x.ephemeralPublicKey, signedId: x.signedPreKeyId, oneTimeId: x.usedOneTimePreKeyId ?? 0 },
        ...sealChains(x.sharedSecret, true)
      }
    }
  }

  /**
   * A new session with a device that could not open what we sent in `current` (it lost its
   * state, or ours was restored from an older copy): X3DH from a fresh bundle, with `current`
   * kept as previous so what the device still sends in it opens.
   *
   * @throws when the bundle is malformed or does not verify
   */
  renew (device: PeerId, bundleBytes: Uint8Array, current: Session | undefined): Session {
    return withPrevious(this.initiate(device, bundleBytes).session, current)
  }

  /**
   * Encrypt an encoded Message in `session` and seal it for the recipient. Pure: returns the
   * body and the session's next state (store it with the message), and whether the body
   * carries our certificate (see {@link confirmed}).
   */
  encrypt (session: Session, message: Uint8Array, envelopeAad: Uint8Array): { body: Uint8Array, session: Session, encryption: number, carriesCertificate: boolean } {
    const { state, encodedHeader, ciphertext } = ratchetEncrypt(session.state, message, session.ad)
    // Established (they have answered, or we answered them): seal with the session's keys. They
    // hold our certificate and DH key from the session's start, so those stay out: half the bytes.
    const established = session.prekey == null && session.sealOut != null
    const known = established && this.acknowledged(session)
    const content: SealedContent = {
      certificate: known ? new Uint8Array() : new Uint8Array(this.certificate),
      identityDhKey: known ? new Uint8Array() : new Uint8Array(this.keys.identityDh.publicKey),
      identityDhSignature: known ? new Uint8Array() : new Uint8Array(this.keys.identityDhSignature),
      prekeyEphemeral: new Uint8Array(session.prekey?.ephemeral ?? []),
      prekeySignedId: session.prekey?.signedId ?? 0,
      prekeyOneTimeId: session.prekey?.oneTimeId ?? 0,
      header: encodedHeader as Uint8Array<ArrayBuffer>,
      ciphertext: ciphertext as Uint8Array<ArrayBuffer>,
      padding: new Uint8Array() // appended by padded(): it is the last field protons writes
    }
    const inner = padded(SealedContent.encode(content), SEALED_CONTENT_PADDING_FIELD)
    if (established && session.sealOut != null) {
      const sealed = sessionSeal(session.sealOut, envelopeAad, inner)
      return { body: sealed.body, session: { ...offered(session, known, this.certificate), state, sealOut: sealed.chain }, encryption: ENCRYPTION_SESSION_SEALED, carriesCertificate: !known }
    }
    return { body: seal(session.theirDh, envelopeAad, inner), session: { ...offered(session, known, this.certificate), state }, encryption: ENCRYPTION_SEALED, carriesCertificate: !known }
  }

  /** Whether the other device has acknowledged our current certificate in this session. */
  acknowledged (session: Session): boolean {
    return session.sentCertificate != null && sameBytes(session.sentCertificate, this.certificate)
  }

  /**
   * The session once the other device has acknowledged a message of it over a connection Noise
   * authenticated: no more X3DH fields. With `certificateTaken` (the acked message carried our
   * certificate), the certificate our envelopes carried is known to it too. Not simply our
   * current one: an envelope from before a restart may carry an older one, and an ack of an
   * envelope that left the certificate out says nothing about a new one the peer did not take.
   */
  confirmed (session: Session, certificateTaken: boolean): Session {
    const { prekey: _, ...rest } = session
    return { ...rest, ...(certificateTaken && session.offeredCertificate != null ? { sentCertificate: session.offeredCertificate } : {}) }
  }

  /**
   * Open the seal, then check the sender's device certificate (the envelope's, or for a
   * session-sealed one that leaves it out, the session's) and its signature over its DH identity
   * key.
   *
   * @throws {SealError}
   */
  open (body: Uint8Array, envelopeAad: Uint8Array, encryption: number = ENCRYPTION_SEALED): Opened {
    let content: SealedContent
    let sealCounter: number | undefined
    let sealSlot: number | undefined
    let sealedFor: string | undefined
    let sealedIn: Session | undefined
    try {
      if (encryption === ENCRYPTION_SESSION_SEALED) {
        const found = this.tags.get(Buffer.from(tagOf(body)).toString('hex'))
        sealedIn = found != null ? inSlot(this.sessions.get(found.peer), found.slot) : undefined
        const chain = sealedIn?.sealIn
        if (found == null || chain == null) throw new SealError('noSession', 'no session expects this seal')
        content = SealedContent.decode(sessionUnseal(chain, envelopeAad, body))
        sealCounter = found.counter
        sealSlot = found.slot
        sealedFor = found.peer
      } else {
        content = SealedContent.decode(unseal(this.keys.identityDh, envelopeAad, body))
      }
    } catch (err) {
      if (err instanceof SealError) throw err
      throw new SealError('forged', 'the seal does not open')
    }
    // A session-sealed envelope may leave the certificate out: the session's own is the sender's.
    const certificateBytes = content.certificate.length > 0 || sealedFor == null ? content.certificate : sealedIn?.theirCertificate
    if (certificateBytes == null) throw new SealError('noSession', 'the session holds no certificate for its sender')
    let certificate: VerifiedDeviceCertificate
    try {
      certificate = verifyDeviceCertificate(certificateBytes)
    } catch (err: any) {
      throw new SealError('forged', `bad sender certificate: ${err.message}`)
    }
    // Ephemeral seals always carry the DH identity key; session seals may leave it to the session.
    if (sealedFor == null || content.identityDhKey.length > 0) this.checkDhBinding(certificate, content)
    if (sealedFor != null && sealedFor !== certificate.device.toString()) throw new SealError('forged', 'sealed in one session, signed by another device')
    return { sender: certificate.device, certificate, identity: identityString(certificate), content, ...(sealCounter != null ? { sealCounter, sealSlot: sealSlot ?? 0 } : {}) }
  }

  /** Check that the sender's device signed the DH identity key it sent (once per binding). */
  private checkDhBinding (certificate: VerifiedDeviceCertificate, content: SealedContent): void {
    const binding = `${certificate.device.toString()}/${Buffer.from(content.identityDhKey).toString('base64')}/${Buffer.from(content.identityDhSignature).toString('base64')}`
    if (this.verifiedBindings.has(binding)) return
    const deviceKey = certificate.device.publicKey
    if (deviceKey == null || !ed25519Verify(deviceKey, dhIdentityPayload(content.identityDhKey), content.identityDhSignature)) {
      throw new SealError('forged', 'the sender identity key is not signed by its device')
    }
    // The same device sends the same binding with every session-opening message: check it once.
    if (this.verifiedBindings.size >= 1024) this.verifiedBindings.clear()
    this.verifiedBindings.add(binding)
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
      let ops: StoreOp[] = []
      // The sessions it may belong to, as slots: 0 is the current one, i is previous[i - 1].
      let slots: number[]
      let base = current
      if (opened.sealSlot != null) {
        slots = [opened.sealSlot]
      } else if (initiation != null) {
        const slot = [current, ...current?.previous ?? []].findIndex(s => s?.initiation != null && sameBytes(s.initiation, initiation))
        if (slot >= 0) {
          slots = [slot]
        } else {
          // A new X3DH from them: answer it, and keep what it replaces for envelopes still on their way.
          const responder = await this.keys.responderKeys(content.prekeySignedId, content.prekeyOneTimeId)
          if (responder == null) throw new SealError('noSession', 'the prekeys this message names are gone')
          const x = x3dhRespond(responder.keys, content.identityDhKey, initiation)
          base = withPrevious({ state: initReceiver(x.sharedSecret, responder.keys.signedPreKey), ad: x.associatedData, theirDh: content.identityDhKey, initiation, ...sealChains(x.sharedSecret, false) }, current)
          ops = responder.ops
          slots = [0]
        }
      } else {
        slots = [0, ...(current?.previous ?? []).map((_, i) => i + 1)]
      }
      let lastError: unknown = new SealError('noSession', 'no session with this device')
      for (const slot of slots) {
        const session = inSlot(base, slot)
        if (session == null || base == null) continue
        let decrypted
        try {
          decrypted = ratchetDecrypt(session.state, header, content.ciphertext, session.ad)
        } catch (err: any) {
          // A replay in one session says more than a failure in another.
          if ((lastError as any)?.name !== 'DuplicateMessageError') lastError = err
          continue
        }
        // A message from them proves they have the session: stop sending X3DH fields.
        let next: Session = { ...session, state: decrypted.state }
        if (next.prekey != null) { const { prekey: _, ...rest } = next; next = rest }
        // Keep the latest certificate they sent: the one their session-sealed envelopes leave out.
        if (content.certificate.length > 0) next.theirCertificate = content.certificate
        if (opened.sealCounter != null && next.sealIn != null) next.sealIn = received(next.sealIn, opened.sealCounter)
        return { message: Message.decode(decrypted.plaintext, { limits: { addrs: LIMITS.maxAddrs } }), session: replaceSlot(base, slot, next), ops }
      }
      throw lastError
    } catch (err: any) {
      if (err instanceof SealError) throw err
      if (err?.name === 'DuplicateMessageError') throw new SealError('replayed', 'message already received')
      if (err?.name === 'InvalidMessageError' || err instanceof TypeError) throw new SealError('invalid', `malformed: ${err.message}`)
      throw new SealError('forged', `does not decrypt: ${err?.name ?? err}`)
    }
  }
}

/** A certificate's identity key as contacts store it (protobuf, base64); verified certificates are cached objects, so this is too. */
function identityString (certificate: VerifiedDeviceCertificate): string {
  let identity = identityStrings.get(certificate)
  if (identity == null) {
    identity = Buffer.from(publicKeyToProtobuf(certificate.identity)).toString('base64')
    identityStrings.set(certificate, identity)
  }
  return identity
}
const identityStrings = new WeakMap<VerifiedDeviceCertificate, string>()

/** `session` noting the certificate its envelope carries, when it carries one. */
function offered (session: Session, omitted: boolean, certificate: Uint8Array): Session {
  if (omitted || (session.offeredCertificate != null && sameBytes(session.offeredCertificate, certificate))) return session
  return { ...session, offeredCertificate: new Uint8Array(certificate) }
}
