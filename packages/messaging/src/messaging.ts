import {
  AckStatus, ContactExistsError, KithError, ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, IdentityChangedError, InvalidMessageError, PREKEYS_PROTOCOL, DM_PROTOCOL, ENCRYPTION_NONE, ENVELOPE_VERSION, EmptyMessageError, Envelope,
  INVITE_TOKEN_BYTES, INVITE_TTL_MS, InvalidInviteError, LIMITS, MESSAGE_ID_BYTES, MessageKind, MessageTooLargeError,
  UnknownContactError, decodeEnvelope, decodeFileOffer, decodeInvite, encodeFileOffer, encodeInvite, random, toHex, utf8Length
} from '@kith/core'
import { Message } from '@kith/core'
import type { FileOffer } from '@kith/core'
import { signMessage, verifyDeviceCertificate } from '@kith/crypto'
import { TypedEventEmitter } from '@libp2p/interface'
import { peerIdFromMultihash, peerIdFromString } from '@libp2p/peer-id'
import { RateLimiter } from '@libp2p/utils'
import * as Digest from 'multiformats/hashes/digest'
import { PeerSender } from './peer-sender.js'
import { ContactBook, checkAlias, decodeAddrs, identityOf } from './contacts.js'
import { EndToEnd, SealError } from './e2ee/end-to-end.js'
import { fetchPrekeys, servePrekeys } from './e2ee/prekeys-protocol.js'
import { PeerLocks } from './e2ee/peer-locks.js'
import type { Session, Opened } from './e2ee/end-to-end.js'
import { decodeFrame, encodeAck, openEnvelope, validMessage } from './inbound.js'
import type { DecodedFrame } from './inbound.js'
import { InboundBudget, serveInbound } from './inbound-stream.js'
import { authorise } from './authorise.js'
import type { Verdict } from './authorise.js'
import { emptyMetrics } from './metrics.js'
import {
  DIAL_TIMEOUT_MS, FLOOD_BAN_MS, LOCATE_EVERY_MS, MAX_BANNED, MAX_QUEUED_FRAMES_TOTAL, RATE_BURST, RATE_PER_SECOND, RECEIPT_TOPIC,
  STRANGER_FRAMES_PER_SECOND, STRANGER_SESSIONS_PER_SECOND
} from './constants.js'
import type { ControlHandler, Messaging, MessagingComponents, MessagingEvents, MessagingInit } from './index.js'
import type { MessagingMetrics } from './metrics.js'
import { contactDevices, messageFileOf } from '@kith/store'
import type { ContactRecord, IncomingClaim, KithStore, MessageRecord, OutboxEntry, StoreOp } from '@kith/store'
import type { Connection, IdentifyResult, Logger, PeerId, Startable, Stream } from '@libp2p/interface'

/** The /kith/dm/1.0.0 service: durable outbox, signed envelopes, acks, contacts-only inbox. */
export class DefaultMessaging extends TypedEventEmitter<MessagingEvents> implements Messaging, Startable {
  readonly metrics: MessagingMetrics = emptyMetrics()
  private readonly components: MessagingComponents
  private readonly init: MessagingInit
  private readonly log: Logger
  private readonly senders = new Map<string, PeerSender>()
  private readonly limiter: RateLimiter
  /** Frames from every peer that is neither a contact's device nor ours: one budget for all of them. */
  private readonly strangerFrames: RateLimiter
  /** Session openings (X3DH) for strangers holding invites: one budget for all of them. */
  private readonly strangers: RateLimiter
  /** Inbound frames read but not yet handled, across all streams. */
  private readonly inboundBudget = new InboundBudget(MAX_QUEUED_FRAMES_TOTAL)
  private readonly inboundOrder = new PeerLocks()
  private invitesCheckedAt = 0
  private liveInvites = false
  private readonly banned = new Map<string, number>()
  private readonly controlHandlers = new Map<string, ControlHandler>()
  private readonly recipients = new Map<string, Uint8Array>()
  /** Per peer, the envelopes sealed this run that carry our certificate: an ack of one shows the peer took it. */
  private readonly certifying = new Map<string, Set<string>>()
  /** Envelopes already handed to their recipient's mailboxes (this run: after a restart they go again, and mailboxes drop the copies). */
  private readonly deposited = new Set<string>()
  /** When each unreachable peer was last looked up, and which ones have a lookup or deposit under way. */
  private readonly located = new Map<string, number>()
  private readonly reaching = new Set<string>()
  private readonly reachAgain = new Set<string>()
  private readonly self: Uint8Array
  /** End-to-end encryption; absent when the node runs in the clear (benchmarks, tests). */
  private readonly e2e: EndToEnd | undefined
  private readonly contacts: ContactBook
  private readonly encryption: number
  /** Our identity key, as contacts store theirs: own devices' envelopes carry it. */
  private readonly identity: string
  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => { this.senders.get(evt.detail.toString())?.wake() }
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => { void this.contacts.updateAddrs(evt.detail) }

  constructor (components: MessagingComponents, init: MessagingInit) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('kith:messaging')
    this.self = components.peerId.toMultihash().bytes
    const perSecond = init.ratePerSecond ?? RATE_PER_SECOND
    const burst = init.rateBurst ?? RATE_BURST
    this.limiter = new RateLimiter({ points: burst, duration: Math.max(1, Math.round(burst / perSecond)) })
    this.strangerFrames = new RateLimiter({ points: init.strangerFramesPerSecond ?? STRANGER_FRAMES_PER_SECOND, duration: 1 })
    this.strangers = new RateLimiter({ points: init.strangerSessionsPerSecond ?? STRANGER_SESSIONS_PER_SECOND, duration: 1 })
    this.contacts = new ContactBook({
      store: init.store,
      peerStore: components.peerStore,
      metrics: this.metrics,
      log: this.log,
      dispatch: (type, detail) => { this.safeDispatch(type, detail) }
    })
    this.e2e = init.encryption === 'none' ? undefined : new EndToEnd(init.store, components.privateKey, init.certificate)
    this.identity = identityOf(verifyDeviceCertificate(init.certificate))
    this.encryption = this.e2e != null ? ENCRYPTION_SEALED : ENCRYPTION_NONE
    this.handleControl(RECEIPT_TOPIC, async (from, payload) => ({ ops: [], after: () => { void this.receipted(from, payload) } }))
  }

  readonly [Symbol.toStringTag] = '@kith/messaging'

  async start (): Promise<void> {
    if (this.e2e != null) {
      await this.e2e.start()
      await servePrekeys(this.components.registrar, this.init.store, this.e2e, peer => this.isOwnDevice(peer))
    }
    await this.components.registrar.handle(DM_PROTOCOL, (stream, connection) => { void this.handleStream(stream, connection) }, {
      maxInboundStreams: 16,
      // Contacts behind NAT are reached through a friend's relay: a limited connection.
      runOnLimitedConnection: true
    })
    this.components.events.addEventListener('peer:connect', this.onPeerConnect)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    for (const contact of await this.init.store.listContacts()) await this.contacts.remember(contact)
    for (const entry of await this.init.store.pendingOutbox()) this.sender(entry.peer).enqueue(entry)
  }

  /** Reach out to every contact: either side coming back online wakes the other's outbox. */
  afterStart (): void {
    void this.init.store.listContacts().then(contacts => {
      for (const contact of contacts) {
        void this.components.connectionManager.openConnection(peerIdFromString(contact.peerId), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
          .catch(err => { this.log('contact %s is not reachable: %s', contact.name, err?.message) })
      }
    })
  }

  /** Whether `peer` is another device of this user (its copies are ours, not a contact's). */
  private isOwnDevice (peer: string): boolean {
    return this.init.ownDevices?.().includes(peer) === true
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('peer:connect', this.onPeerConnect)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    for (const sender of this.senders.values()) sender.stop()
    this.senders.clear()
    await this.components.registrar.unhandle(DM_PROTOCOL)
    if (this.e2e != null) { this.e2e.keys.stop(); await this.components.registrar.unhandle(PREKEYS_PROTOCOL) }
  }

  private async fetchBundle (peer: string): Promise<Uint8Array> {
    try {
      return await fetchPrekeys(this.components.connectionManager, peerIdFromString(peer))
    } catch (err: any) {
      // Offline: its presence record carries a bundle (without a one-time prekey).
      const published = await this.init.reach?.prekeys?.(peer).catch(() => undefined)
      if (published != null && published.length > 0) return published
      throw new InvalidMessageError(`no encrypted session with ${peer} yet, and its prekeys could not be fetched (${err.message}): try again when it is online`)
    }
  }

  publishedPrekeys (): Uint8Array | undefined {
    return this.e2e?.keys.publicBundle()
  }

  async send (peer: string, text: string): Promise<MessageRecord> {
    if (text.length === 0) throw new EmptyMessageError('message is empty')
    if (utf8Length(text) > LIMITS.maxTextBytes) throw new MessageTooLargeError(`message is longer than ${LIMITS.maxTextBytes} bytes`)
    return await this.sendMessage(peer, messageOf({ kind: MessageKind.TEXT, text }), { text })
  }

  async sendFile (peer: string, offer: FileOffer): Promise<MessageRecord> {
    const file = encodeFileOffer(offer)
    return await this.sendMessage(peer, messageOf({ kind: MessageKind.FILE, file }), { text: '', file: messageFileOf(offer) })
  }

  /**
   * Write a message for history and the outbox (one batch, under the session locks), then
   * queue it: one envelope for each of the contact's devices, and a copy (naming the
   * conversation) for each of our own other devices, all with the same message id.
   */
  private async sendMessage (peer: string, message: Message, content: Pick<MessageRecord, 'text' | 'file'>): Promise<MessageRecord> {
    const contact = await this.init.store.getContact(peer) ?? await this.init.store.getContactByDevice(peer)
    if (contact == null) throw new UnknownContactError(`no contact ${peer}`)
    if (contact.changedIdentity != null) throw new IdentityChangedError(`${contact.name}'s identity key changed: compare safety numbers (kith verify ${contact.name}) and accept the new key (kith verify ${contact.name} --accept) before sending`)
    const conversation = contact.peerId
    const theirs = contactDevices(contact)
    const ours = this.init.ownDevices?.() ?? []
    const { written } = await this.withSessions(theirs, ours, async (sessions) => {
      const id = random(MESSAGE_ID_BYTES)
      const ts = Date.now()
      const envelopes: Array<{ peer: string, envelope: Uint8Array, message: Uint8Array }> = []
      const next = new Map<string, Session | undefined>()
      for (const [device, session] of sessions) {
        const copy = ours.includes(device) ? { ...message, sentTo: conversation } : message
        const sealed = await this.seal(device, copy, session, id, ts)
        envelopes.push({ peer: device, envelope: sealed.envelope, message: sealed.message })
        next.set(device, sealed.next)
      }
      // Issued under the session locks, so writes land in the order the ratchets advanced, but
      // not awaited there: back-to-back messages then share one batch (group commit).
      const written = this.init.store.appendOutgoing({ id: toHex(id), conversation, from: this.components.peerId.toString(), ...content, ts }, envelopes,
        [...next].flatMap(([device, session]) => this.sessionOps(device, session)))
      return { result: { written }, sessions: next }
    })
    const { record, entries } = await written
    for (const entry of entries) this.sender(entry.peer).enqueue(entry)
    return record
  }

  async sendControl (peer: string, topic: string, payload: Uint8Array, extra: StoreOp[] = []): Promise<void> {
    if (utf8Length(topic) === 0 || utf8Length(topic) > LIMITS.maxControlTopicBytes) throw new InvalidMessageError(`a control topic is 1 to ${LIMITS.maxControlTopicBytes} bytes`)
    if (payload.length > LIMITS.maxControlBytes) throw new MessageTooLargeError(`a control message is at most ${LIMITS.maxControlBytes} bytes`)
    const contact = await this.init.store.getContactByDevice(peer)
    if (contact == null && !this.isOwnDevice(peer)) throw new UnknownContactError(`no contact ${peer}`)
    // Control messages carry keys and group secrets: held, like texts, until a changed identity key is accepted.
    if (contact?.changedIdentity != null) throw new IdentityChangedError(`${contact.name}'s identity key changed: compare safety numbers (kith verify ${contact.name}) and accept the new key before this can go`)
    const message = messageOf({ kind: MessageKind.CONTROL, topic, payload: new Uint8Array(payload) })
    const entry = await this.withSession(peer, undefined, async (session) => {
      const { id, envelope, message: sealed, next } = await this.seal(peer, message, session)
      const queued = await this.init.store.queueControl(peer, { id, envelope, message: sealed }, [...this.sessionOps(peer, next), ...extra])
      return { result: queued, session: next }
    })
    this.sender(peer).enqueue(entry)
  }

  handleControl (topic: string, handler: ControlHandler): void {
    this.controlHandlers.set(topic, handler)
  }

  /**
   * A control message from a contact, for the service that handles its topic: the store ops
   * that service returns go to `into.ops` (the batch that takes the message in), what it does
   * afterwards to `into.afters`. INVALID (counted) when no service handles its topic or the
   * service refuses it with a named error (a {@link KithError}) or can't parse it (a
   * SyntaxError or RangeError); RETRY when it fails otherwise, or the contact's identity key
   * changed and the user has not accepted it yet: the sender keeps it and sends it again. The
   * service hears which device sent it (`device`: one of the contact's, or of our own).
   */
  private async acceptControl (contact: ContactRecord, device: string, hexId: string, message: Message, into: { ops: StoreOp[], afters: Array<() => void> }): Promise<AckStatus> {
    const handler = this.controlHandlers.get(message.topic)
    const current = await this.init.store.getContact(contact.peerId) ?? contact
    if (handler == null) { this.metrics.invalid++; return AckStatus.INVALID }
    // Held until the user accepts the contact's new identity key, not dropped.
    if (current.changedIdentity != null) return AckStatus.RETRY
    try {
      const { ops, after } = await handler(device, message.payload)
      into.ops.push(...ops, this.init.store.seenIdOp(hexId, contact.peerId))
      if (after != null) into.afters.push(after)
      return AckStatus.OK
    } catch (err: any) {
      // A named error is the service's judgement of the content, and a payload that does not
      // parse (JSON, a protobuf past its limits) will never parse: refused for good.
      if (err instanceof KithError || err instanceof SyntaxError || err instanceof RangeError) {
        this.log('refused a %s control message from %s: %s', message.topic, contact.peerId, err.message)
        this.metrics.invalid++
        return AckStatus.INVALID
      }
      // Anything else (its state is behind, a write failed) says "not now": it comes again later.
      this.log('could not take a %s control message from %s yet: %s', message.topic, contact.peerId, err?.message)
      return AckStatus.RETRY
    }
  }

  /**
   * Run `fn` holding the session locks of the devices a message goes to, with their sessions
   * (opened from a fetched bundle where there is none yet); the sessions `fn` returns become
   * current once `fn` (which committed them) is done. A device whose session cannot be opened
   * (offline, and no published bundle) is left out and logged: the contact's other devices, or
   * history sync between our own devices, bring it the message. At least one of `theirs` must
   * open, else this throws as {@link withSession} does.
   */
  private async withSessions<T> (theirs: string[], ours: string[], fn: (sessions: Map<string, Session | undefined>) => Promise<{ result: T, sessions: Map<string, Session | undefined> }>): Promise<T> {
    if (ours.length === 0 && theirs.length === 1) {
      const peer = theirs[0] as string
      return await this.withSession(peer, undefined, async (session) => {
        const { result, sessions } = await fn(new Map([[peer, session]]))
        return { result, session: sessions.get(peer) }
      })
    }
    const e2e = this.e2e
    if (e2e == null) return (await fn(new Map([...theirs, ...ours].map(p => [p, undefined])))).result
    return await e2e.locks.run([...theirs, ...ours], async () => {
      const sessions = new Map<string, Session | undefined>()
      let firstError: unknown
      for (const device of [...theirs, ...ours]) {
        try {
          sessions.set(device, await e2e.session(device) ?? e2e.initiate(peerIdFromString(device), await this.fetchBundle(device)).session)
        } catch (err: any) {
          firstError ??= err
          this.log('no session with device %s, it gets this message later: %s', device, err?.message)
        }
      }
      if (!theirs.some(d => sessions.has(d))) throw firstError instanceof InvalidMessageError ? firstError : new InvalidMessageError(`cannot open an encrypted session: ${(firstError as any)?.message}`)
      const { result, sessions: next } = await fn(sessions)
      for (const [device, session] of next) if (session != null) e2e.remember(device, session)
      return result
    })
  }

  /**
   * Run `fn` holding the peer's session lock, with its session (opened from `bundle` when there
   * is none yet); the session `fn` returns becomes current once `fn` (which committed it) is done.
   */
  private async withSession<T> (peer: string, bundle: Uint8Array | undefined, fn: (session: Session | undefined) => Promise<{ result: T, session: Session | undefined }>): Promise<T> {
    if (this.e2e == null) return (await fn(undefined)).result
    const e2e = this.e2e
    return await e2e.locks.run([peer], async () => {
      let session = bundle != null ? undefined : await e2e.session(peer)
      if (session == null) {
        const source = bundle ?? await this.fetchBundle(peer)
        try {
          session = e2e.initiate(peerIdFromString(peer), source).session
        } catch (err: any) {
          throw new InvalidMessageError(`cannot open an encrypted session with ${peer}: ${err.message}`)
        }
      }
      const { result, session: next } = await fn(session)
      if (next != null) e2e.remember(peer, next)
      return result
    })
  }

  private sessionOps (peer: string, session: Session | undefined): StoreOp[] {
    return session != null && this.e2e != null ? [this.e2e.saveOp(peer, session)] : []
  }

  async createInvite (): Promise<string> {
    const token = random(INVITE_TOKEN_BYTES)
    const expires = Date.now() + INVITE_TTL_MS
    let bundle: Uint8Array = new Uint8Array()
    if (this.e2e != null) {
      bundle = await this.e2e.keys.handOut({ inviteExpires: expires })
    }
    await this.init.store.putInvite({ token: toHex(token), expires })
    // Strangers may introduce themselves from now on (the answer is cached for a second).
    this.liveInvites = true
    this.invitesCheckedAt = Date.now()
    return encodeInvite({ peerId: this.self, name: this.init.name, addrs: this.ownAddrs(), token, expires, certificate: this.init.certificate, bundle })
  }

  async acceptInvite (code: string, alias: string): Promise<ContactRecord> {
    const invite = decodeInvite(code)
    let peerId: PeerId
    try {
      peerId = peerIdFromMultihash(Digest.decode(invite.peerId))
    } catch {
      throw new InvalidInviteError('invite code holds no valid peer id')
    }
    if (peerId.equals(this.components.peerId)) throw new InvalidInviteError('that is your own invite code')
    let identity: string
    try {
      identity = identityOf(verifyDeviceCertificate(invite.certificate, { device: peerId }))
    } catch (err: any) {
      throw new InvalidInviteError(`the invite's device certificate is not valid: ${err.message}`)
    }
    const name = checkAlias(alias)
    const taken = (await this.init.store.listContacts()).find(c => c.name === name && c.peerId !== peerId.toString())
    if (taken != null) throw new ContactExistsError(`you already have a contact named "${name}"`)

    const known = await this.init.store.getContact(peerId.toString())
    const contact: ContactRecord = { ...known, peerId: peerId.toString(), name, addrs: decodeAddrs(invite.addrs), addedAt: known?.addedAt ?? Date.now(), identity: known?.identity ?? identity }
    if (contact.identity !== identity) contact.changedIdentity = identity
    const introMessage = messageOf({ kind: MessageKind.INTRO, name: this.init.name, inviteToken: new Uint8Array(invite.token), addrs: this.ownAddrs(), certificate: this.init.certificate as Uint8Array<ArrayBuffer> })
    const entry = await this.withSession(contact.peerId, this.e2e != null ? invite.bundle : undefined, async (session) => {
      const intro = await this.seal(contact.peerId, introMessage, session)
      const queued = await this.init.store.addContactWithIntro(contact, { id: intro.id, envelope: intro.envelope, message: intro.message }, this.sessionOps(contact.peerId, intro.next))
      return { result: queued, session: intro.next }
    })
    await this.contacts.remember(contact)
    this.sender(contact.peerId).enqueue(entry)
    this.safeDispatch(contact.changedIdentity != null ? 'contact:identity-changed' : 'contact', contact)
    return contact
  }

  isBanned (peer: PeerId): boolean {
    const until = this.banned.get(peer.toString())
    if (until == null) return false
    if (until > Date.now()) return true
    this.banned.delete(peer.toString())
    return false
  }

  /** Unacked envelopes, for one peer or all. */
  pending (peer?: string): number {
    if (peer != null) return this.senders.get(peer)?.pending ?? 0
    let total = 0
    for (const sender of this.senders.values()) total += sender.pending
    return total
  }

  waitingInMailboxes (): number { return this.deposited.size }

  // ---- sending ----

  /**
   * Make the envelope for `message`: sealed and end-to-end encrypted in `session` (whose next
   * state is returned), or signed in the clear when encryption is off.
   */
  private async seal (peer: string, message: Message | Uint8Array, session: Session | undefined, id = random(MESSAGE_ID_BYTES), ts = Date.now()): Promise<{ id: string, envelope: Uint8Array, message: Uint8Array, ts: number, next: Session | undefined }> {
    const recipient = this.recipientBytes(peer)
    const timestamp = BigInt(ts)
    const encoded = message instanceof Uint8Array ? message : Message.encode(message)
    let body: Uint8Array
    let next: Session | undefined
    let encryption = this.encryption
    if (this.e2e != null) {
      if (session == null) throw new Error('no session')
      const sealed = this.e2e.encrypt(session, encoded, envelopeAad(id, recipient, timestamp))
      body = sealed.body
      next = sealed.session
      encryption = sealed.encryption
      if (sealed.carriesCertificate) this.certifying.set(peer, (this.certifying.get(peer) ?? new Set()).add(toHex(id)))
    } else {
      body = await signMessage(this.components.privateKey, { id, recipient, timestamp }, Message.decode(encoded))
    }
    const envelope = Envelope.encode({ version: ENVELOPE_VERSION, id, recipient: new Uint8Array(recipient), timestamp, encryption, body: new Uint8Array(body) })
    return { id: toHex(id), envelope, message: encoded, ts, next }
  }

  /** A peer's multihash bytes, parsed once per peer rather than once per message. */
  private recipientBytes (peer: string): Uint8Array {
    let bytes = this.recipients.get(peer)
    if (bytes == null) {
      bytes = peerIdFromString(peer).toMultihash().bytes
      this.recipients.set(peer, bytes)
    }
    return bytes
  }

  private sender (peer: string): PeerSender {
    let sender = this.senders.get(peer)
    if (sender == null) {
      const peerId = peerIdFromString(peer)
      sender = new PeerSender({
        log: this.components.logger.forComponent(`kith:messaging:send:${peer.slice(-8)}`),
        ...(this.init.window != null ? { window: this.init.window } : {}),
        openStream: async () => await this.components.connectionManager.openStream(peerId, DM_PROTOCOL, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS), runOnLimitedConnection: true }),
        sent: (entries) => {
          this.metrics.transmitted += entries.length
          // A copy on its way to one of our own devices says nothing about the contact's.
          if (!this.isOwnDevice(peer)) void this.updateStatus(this.init.store.markSent(entries.map(e => e.id)))
        },
        failed: () => { void this.unreachable(peer) },
        reset: async () => { await this.renewSession(peer) },
        deferred: (entry, delay) => {
          this.log('%s can not take %s yet, again in %d ms', peer, entry.id, Math.round(delay))
          if (!this.isOwnDevice(peer)) void this.updateStatus(this.init.store.markWaiting([entry.id], 'retry'))
        },
        settled: (entries, status) => {
          for (const entry of entries) this.deposited.delete(entry.id)
          if (status === 'delivered') {
            this.metrics.delivered += entries.length
            void this.sessionEstablished(peer, entries)
          }
          void this.updateStatus(this.init.store.settle(entries, this.isOwnDevice(peer) ? undefined : status))
        }
      })
      this.senders.set(peer, sender)
    }
    return sender
  }

  /**
   * The peer's device could not open what we sent (it answered RESET: it lost its session, or we
   * were restored from an older copy of our home and reused its keys): open a new session from a
   * fresh bundle and seal every unacked envelope again under it, same ids, written with the new
   * session in one batch before any of them goes out. The receiver drops by id whatever it
   * already has, so nothing is duplicated; nothing is lost, since nothing was settled.
   */
  private async renewSession (peer: string): Promise<void> {
    const e2e = this.e2e
    const sender = this.senders.get(peer)
    if (e2e == null || sender == null) return
    this.metrics.resets++
    this.log('%s could not open what we sent: renewing the session and sealing %d envelopes again', peer, sender.pending)
    if (!this.isOwnDevice(peer)) await this.updateStatus(this.init.store.markWaiting(sender.outstanding().map(e => e.id), 'reset'))
    const bundle = await this.fetchBundle(peer)
    await e2e.locks.run([peer], async () => {
      // Everything outstanding now, under the lock: what was sealed meanwhile in the old session
      // too, and what waits to be tried again after a RETRY.
      const entries = sender.outstanding()
      let session = e2e.renew(peerIdFromString(peer), bundle, await e2e.session(peer))
      const resealed: Array<{ entry: OutboxEntry, envelope: Uint8Array }> = []
      for (const entry of entries) {
        // Entries written before messages were kept with them can only go as they are.
        if (entry.message == null) continue
        const { id, timestamp } = decodeEnvelope(entry.envelope)
        const sealed = await this.seal(peer, entry.message, session, id, Number(timestamp))
        if (sealed.next != null) session = sealed.next
        resealed.push({ entry, envelope: sealed.envelope })
      }
      await this.init.store.resealOutbox(resealed.map(r => ({ ...r.entry, envelope: r.envelope })), [e2e.saveOp(peer, session)])
      e2e.remember(peer, session)
      for (const { entry, envelope } of resealed) entry.envelope = envelope
    })
  }

  /**
   * A peer could not be reached: look for fresh addresses (then retry directly at once), else
   * hand what waits for it to its mailboxes and show those messages as `stored`. Direct
   * delivery keeps being retried either way; the recipient drops whichever copy comes second.
   */
  private async unreachable (peer: string): Promise<void> {
    const reach = this.init.reach
    if (reach == null) return
    // One at a time per peer; failures meanwhile make it run once more, with what is queued then.
    if (this.reaching.has(peer)) { this.reachAgain.add(peer); return }
    this.reaching.add(peer)
    try {
      do {
        this.reachAgain.delete(peer)
        if (Date.now() - (this.located.get(peer) ?? 0) > LOCATE_EVERY_MS) {
          this.located.set(peer, Date.now())
          const found = await reach.locate(peer).catch(() => false)
          this.log('looked %s up: %s', peer, found ? 'new addresses' : 'nothing new')
          if (found) { this.senders.get(peer)?.wake(); continue }
        }
        const fresh = (this.senders.get(peer)?.unacked() ?? []).filter(e => !this.deposited.has(e.id))
        if (fresh.length === 0) continue
        const held = await reach.deposit(peer, fresh.map(e => e.envelope))
        this.log('%d envelopes for %s held at %d mailboxes', fresh.length, peer, held)
        if (held === 0) continue
        for (const entry of fresh) this.deposited.add(entry.id)
        this.metrics.deposited += fresh.length
        await this.updateStatus(this.init.store.markStored(fresh.map(e => e.id), held))
      } while (this.reachAgain.has(peer))
    } catch (err: any) {
      this.log('could not hand mail for %s to its mailboxes: %s', peer, err?.message)
    } finally {
      this.reaching.delete(peer)
    }
  }

  /** A contact's receipt for envelopes it took from a mailbox: they are delivered. */
  private async receipted (peer: string, payload: Uint8Array): Promise<void> {
    const ids = new Set<string>()
    for (let i = 0; i + MESSAGE_ID_BYTES <= payload.length; i += MESSAGE_ID_BYTES) ids.add(toHex(payload.subarray(i, i + MESSAGE_ID_BYTES)))
    const entries = (await this.init.store.pendingOutbox(peer)).filter(e => ids.has(e.id))
    this.senders.get(peer)?.forget(ids)
    if (entries.length === 0) return
    this.metrics.receipted += entries.length
    this.metrics.delivered += entries.length
    for (const entry of entries) this.deposited.delete(entry.id)
    await this.updateStatus(this.init.store.settle(entries, 'delivered'))
  }

  async receiveDeposited (envelopes: Uint8Array[]): Promise<boolean[]> {
    const receipts = new Map<string, Uint8Array[]>()
    const { statuses } = await this.receive(envelopes, this.components.peerId, receipts)
    this.metrics.drained += envelopes.length
    for (const [peer, ids] of receipts) {
      void this.sendControl(peer, RECEIPT_TOPIC, Buffer.concat(ids)).catch(err => { this.log('could not send a receipt to %s: %s', peer, err?.message) })
    }
    // Stored, or refused for good: the mailbox may let them go. The rest wait for a later drain.
    return envelopes.map((_, i) => statuses[i] != null && statuses[i] !== AckStatus.RESET && statuses[i] !== AckStatus.RETRY)
  }

  /**
   * The peer's device acked `entries`, over a connection Noise authenticated as that device, so
   * it holds our session: stop sending X3DH fields and seal with the session's keys from now on.
   * Once it has taken an envelope that carried our certificate, stop sending that too. (An ack
   * of one that left it out proves nothing: the peer may have answered RETRY to the one that
   * carried a new certificate, keeping no trace of it.)
   */
  private async sessionEstablished (peer: string, entries: OutboxEntry[]): Promise<void> {
    const e2e = this.e2e
    const carrying = this.certifying.get(peer)
    const certificateTaken = carrying != null && entries.some(e => carrying.has(e.id))
    const settled = (session: Session | undefined): boolean => session == null || (session.prekey == null && (!certificateTaken || e2e?.acknowledged(session) === true))
    if (e2e == null || settled(await e2e.session(peer))) return
    try {
      await e2e.locks.run([peer], async () => {
        const session = await e2e.session(peer)
        if (session == null || settled(session)) return
        const confirmed = e2e.confirmed(session, certificateTaken)
        await this.init.store.commit([e2e.saveOp(peer, confirmed)])
        e2e.remember(peer, confirmed)
        if (certificateTaken && e2e.acknowledged(confirmed)) this.certifying.delete(peer)
      })
    } catch (err) {
      this.log.error('could not record an established session: %e', err)
    }
  }

  private async updateStatus (change: Promise<MessageRecord[]>): Promise<void> {
    try {
      for (const record of await change) this.safeDispatch('message:status', record)
    } catch (err) {
      this.log.error('could not record a status change: %e', err)
    }
  }

  // ---- receiving ----

  private async handleStream (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer
    if (this.isBanned(remote)) { stream.abort(new Error('banned')); return }
    // Contacts and our own devices each have a rate of their own; everyone else shares one,
    // since peer ids cost nothing to make. Asked again after every batch: a stream that began
    // with a stranger's introduction goes on as a contact's.
    const device = remote.toString()
    const isKnown = async (): Promise<boolean> => this.isOwnDevice(device) || await this.init.store.getContactByDevice(device) != null
    let known = await isKnown()
    const admit = (): boolean => {
      if (known ? consumes(this.limiter, device) : consumes(this.strangerFrames, 'strangers')) return true
      this.flooded(connection)
      return false
    }
    try {
      const state: InboundState = { reset: false }
      // One batch at a time per peer, across its streams: a copy resent on a new stream can't be
      // claimed by one batch while a later message is stored by another (order is kept).
      await serveInbound(stream, async frames => await this.inboundOrder.run([device], async () => {
        const result = await this.receive(frames, remote, undefined, state)
        known = await isKnown()
        return result
      }), admit, this.inboundBudget)
    } catch (err: any) {
      if (err?.name === 'InvalidDataLengthError' || err?.name === 'InvalidDataLengthLengthError') this.metrics.invalid++
      this.log('inbound stream from %p dropped: %s', remote, err?.message)
    }
  }

  /**
   * Handle frames that arrived together: cheap checks, one lookup for known ids (a resent
   * envelope is recognised before any crypto), then opening (decrypting, or checking the
   * signature), contacts, and one batch for all new messages. Returns the acks in frame order;
   * `drop` when a frame could not even be acked.
   */
  private async receive (frames: Uint8Array[], remote: PeerId, receipts?: Map<string, Uint8Array[]>, stream: InboundState = { reset: false }): Promise<{ acks: Uint8Array[], statuses: AckStatus[], drop: boolean }> {
    const decoded = frames.map(frame => decodeFrame(frame, this.self, this.e2e != null ? SEALED_FORMS : ENCRYPTION_NONE))
    const claim = await this.init.store.claim(decoded.flatMap(d => d.ok ? [d.hexId] : []))
    try {
      const statuses: AckStatus[] = []
      const ids: Uint8Array[] = []
      const pending: Pending[] = []
      let drop = false
      for (const d of decoded) {
        if (!d.ok) {
          this.metrics[d.reason]++
          if (d.id == null) {
            // A drain goes on past an undecodable envelope (the mailbox then deletes it); a stream is dropped.
            if (receipts != null) { ids.push(new Uint8Array(MESSAGE_ID_BYTES)); statuses.push(AckStatus.INVALID); continue }
            drop = true
            break
          }
          ids.push(d.id); statuses.push(AckStatus.INVALID)
          continue
        }
        ids.push(d.id)
        if (claim.known.has(d.hexId)) { this.metrics.duplicates++; statuses.push(AckStatus.DUPLICATE); continue }
        statuses.push(AckStatus.OK)
        pending.push({ at: statuses.length - 1, frame: d })
      }
      if (this.e2e != null) {
        await this.receiveSealed(this.e2e, pending, statuses, claim, remote, stream, receipts)
      } else {
        const { accepted, ops, afters } = await this.openSigned(pending, statuses, remote)
        await this.storeAccepted(accepted, statuses, claim, ops)
        for (const after of afters) after()
      }
      return { acks: this.acks(ids, statuses), statuses, drop }
    } finally {
      claim.release()
    }
  }

  /** Signed envelopes in the clear: verify, check contacts. */
  private async openSigned (pending: Pending[], statuses: AckStatus[], remote: PeerId): Promise<{ accepted: Accepted[], ops: StoreOp[], afters: Array<() => void> }> {
    const accepted: Accepted[] = []
    const ops: StoreOp[] = []
    const afters: Array<() => void> = []
    for (const { at, frame } of pending) {
      const opened = await openEnvelope(frame.envelope, remote)
      if (typeof opened === 'string') { this.metrics[opened]++; statuses[at] = AckStatus.INVALID; continue }
      const from = opened.sender.toString()
      if (opened.message.kind === MessageKind.INTRO) {
        let identity: string
        try {
          identity = identityOf(verifyDeviceCertificate(opened.message.certificate, { device: opened.sender }))
        } catch {
          this.metrics.forged++
          statuses[at] = AckStatus.INVALID
          continue
        }
        statuses[at] = await this.contacts.acceptIntro(opened.sender, identity, opened.message)
        continue
      }
      const contact = await this.init.store.getContact(from)
      if (contact == null) { this.metrics.refusedNotContact++; statuses[at] = AckStatus.REFUSED; continue }
      if (opened.message.kind === MessageKind.CONTROL) {
        statuses[at] = await this.acceptControl(contact, from, frame.hexId, opened.message, { ops, afters })
        continue
      }
      accepted.push({ at, message: incomingRecord(frame, from, from, opened.message) })
    }
    return { accepted, ops, afters }
  }

  /**
   * Sealed envelopes: open the seals and decide who sent each (before any X3DH or ratchet work),
   * then, holding the senders' session locks, decrypt in order and store the messages with the
   * sessions' new states in one batch. What can't be taken now (RESET, RETRY) leaves no trace:
   * its session step is not kept, so the same envelope, sent again, opens again.
   */
  private async receiveSealed (e2e: EndToEnd, pending: Pending[], statuses: AckStatus[], claim: IncomingClaim, remote: PeerId, stream: InboundState, receipts?: Map<string, Uint8Array[]>): Promise<void> {
    const opened: Array<{ at: number, frame: DecodedFrame, sealed: Opened, sender: Sender }> = []
    const drained = remote.equals(this.components.peerId)
    for (const { at, frame } of pending) {
      let sealed: Opened
      try {
        sealed = e2e.open(frame.envelope.body, envelopeAad(frame.id, this.self, frame.envelope.timestamp), frame.envelope.encryption)
      } catch (err: any) {
        this.log('could not open a sealed envelope: %s', err?.message)
        const reason = err instanceof SealError ? err.reason : 'invalid'
        this.metrics[reason]++
        // A seal tag no session expects: the sender's session is one we lost or never had.
        statuses[at] = reason === 'noSession' ? AckStatus.RESET : AckStatus.INVALID
        continue
      }
      // On /kith/dm the sender delivers its own envelopes (Noise proved who it is); only our mailbox drains hand on others'.
      if (!drained && !sealed.sender.equals(remote)) { this.metrics.forged++; statuses[at] = AckStatus.INVALID; continue }
      const { verdict, contact } = await this.authoriseSender(sealed)
      if ('status' in verdict) { this.metrics[verdict.reason]++; statuses[at] = verdict.status; continue }
      // Strangers (invite holders) share one budget for the X3DH they cost us: peer ids are free.
      if (verdict.as === 'stranger' && !consumes(this.strangers, 'strangers')) { this.metrics.notYet++; statuses[at] = AckStatus.RETRY; continue }
      opened.push({ at, frame, sealed, sender: { as: verdict.as, ...(verdict.as === 'contact' && contact != null ? { contact } : {}) } })
    }
    const afters: Array<() => void> = []
    await e2e.locks.run(opened.map(o => o.sealed.sender.toString()), async () => {
      const sessions = new Map<string, Session>()
      const ops: StoreOp[] = []
      const accepted: Accepted[] = []
      // After a RESET on this stream, nothing more from it is taken: the sender seals all of it
      // again in a new session and sends it in order, so a later message can't land first.
      const firstReset = statuses.indexOf(AckStatus.RESET)
      let resetFrom = drained ? Infinity : stream.reset ? -1 : firstReset >= 0 ? firstReset : Infinity
      for (const { at, frame, sealed, sender } of opened) {
        const from = sealed.sender.toString()
        if (at > resetFrom) { statuses[at] = AckStatus.RESET; continue }
        let result
        try {
          result = await e2e.decrypt(sealed, sessions.get(from) ?? await e2e.session(from))
        } catch (err: any) {
          this.log('could not decrypt a message from %s: %s', from, err?.message)
          const reason = err instanceof SealError ? err.reason : 'invalid'
          this.metrics[reason]++
          statuses[at] = reason === 'invalid' ? AckStatus.INVALID : AckStatus.RESET
          if (statuses[at] === AckStatus.RESET && !drained) resetFrom = Math.min(resetFrom, at)
          continue
        }
        const { message } = result
        if (!validMessage(message)) { this.metrics.invalid++; statuses[at] = AckStatus.INVALID; continue }
        const taken: { ops: StoreOp[], afters: Array<() => void> } = { ops: [], afters: [] }
        statuses[at] = await this.take(sender, sealed, frame, message, taken, accepted, at)
        if (statuses[at] === AckStatus.RETRY) { this.metrics.notYet++; continue }
        // Taken or refused for good: the message's keys are spent, and the session moves on.
        sessions.set(from, result.session)
        ops.push(...result.ops, ...taken.ops)
        afters.push(...taken.afters)
        // Mail from a mailbox gets an end-to-end receipt (but receipts themselves do not).
        if (receipts != null && statuses[at] === AckStatus.OK && !(message.kind === MessageKind.CONTROL && message.topic === RECEIPT_TOPIC)) {
          receipts.set(from, [...receipts.get(from) ?? [], frame.id])
        }
      }
      await this.storeAccepted(accepted, statuses, claim, [...ops, ...[...sessions].map(([peer, session]) => e2e.saveOp(peer, session))])
      for (const [peer, session] of sessions) e2e.remember(peer, session)
    })
    if (!drained && statuses.includes(AckStatus.RESET)) stream.reset = true
    for (const after of afters) after()
  }

  /** Who sent an opened envelope, from what we know of the device (see {@link authorise}). */
  private async authoriseSender (sealed: Opened): Promise<{ verdict: Verdict, contact: ContactRecord | undefined }> {
    const device = sealed.sender.toString()
    const contact = await this.init.store.getContactByDevice(device)
    const verdict = authorise({
      device,
      identity: sealed.identity,
      ...(contact != null ? { contact } : {}),
      ownIdentity: this.identity,
      ownDevice: this.isOwnDevice(device),
      ownRevoked: this.init.ownRevoked?.(device) === true,
      initiates: sealed.content.prekeyEphemeral.length > 0,
      liveInvites: contact == null && sealed.identity !== this.identity && await this.hasLiveInvites()
    })
    return { verdict, contact }
  }

  /**
   * Take a decrypted message from an authorised sender: an introduction, a control message for
   * its service, a text or file for history (`accepted`), or a copy of what another of our
   * devices sent. Returns the ack's status; RETRY leaves nothing behind.
   */
  private async take (sender: Sender, sealed: Opened, frame: DecodedFrame, message: Message, into: { ops: StoreOp[], afters: Array<() => void> }, accepted: Accepted[], at: number): Promise<AckStatus> {
    const from = sealed.sender.toString()
    if (message.kind === MessageKind.INTRO) {
      const status = await this.contacts.acceptIntro(sealed.sender, sealed.identity, message)
      if (status === AckStatus.OK) into.ops.push(this.init.store.seenIdOp(frame.hexId, from))
      return status
    }
    // A stranger may only introduce itself.
    if (sender.as === 'stranger') { this.metrics.refusedNotContact++; return AckStatus.REFUSED }
    const { contact } = sender
    if (contact != null) await this.contacts.checkIdentity(contact, sealed.identity)
    if (message.kind === MessageKind.CONTROL) return await this.acceptControl(contact ?? ownDevice(from), from, frame.hexId, message, into)
    if (contact != null) {
      accepted.push({ at, message: incomingRecord(frame, contact.peerId, from, message) })
      return AckStatus.OK
    }
    // A copy of what another of our devices sent: filed under the conversation it names, once
    // that contact is known here (its record is on its way from the same device).
    const conversation = await this.init.store.getContact(message.sentTo)
    if (conversation == null) return AckStatus.RETRY
    accepted.push({ at, message: { ...incomingRecord(frame, conversation.peerId, from, message), status: 'sent' } })
    return AckStatus.OK
  }

  /** Whether an invite of ours is still out (checked at most once a second). */
  private async hasLiveInvites (): Promise<boolean> {
    if (Date.now() - this.invitesCheckedAt > 1_000) {
      this.invitesCheckedAt = Date.now()
      this.liveInvites = await this.init.store.hasLiveInvites(Date.now())
    }
    return this.liveInvites
  }

  /** Write accepted messages (and `ops`) in one batch; a copy that raced in is a duplicate. */
  private async storeAccepted (accepted: Accepted[], statuses: AckStatus[], claim: IncomingClaim, ops: StoreOp[]): Promise<void> {
    const stored = await this.init.store.appendClaimed(accepted.map(a => a.message), claim, ops)
    for (const [i, record] of stored.entries()) {
      if (record == null) {
        this.metrics.duplicates++
        statuses[(accepted[i] as Accepted).at] = AckStatus.DUPLICATE
      } else {
        this.metrics.received++
        this.safeDispatch('message', record)
      }
    }
  }

  private acks (ids: Uint8Array[], statuses: AckStatus[]): Uint8Array[] {
    return ids.map((id, i) => encodeAck(id, statuses[i] as AckStatus))
  }

  private flooded (connection: Connection): void {
    this.metrics.rateLimited++
    // Peer ids are free: remember a bounded number of bans, the oldest forgotten first.
    if (this.banned.size >= MAX_BANNED) this.banned.delete(this.banned.keys().next().value as string)
    this.banned.set(connection.remotePeer.toString(), Date.now() + FLOOD_BAN_MS)
    this.log('%p is flooding: disconnecting it for %d s', connection.remotePeer, FLOOD_BAN_MS / 1000)
    void this.components.connectionManager.closeConnections(connection.remotePeer).catch(() => {})
  }

  private ownAddrs (): Array<Uint8Array<ArrayBuffer>> {
    return this.components.addressManager.getAddresses().slice(0, LIMITS.maxAddrs).map(a => new Uint8Array(a.bytes))
  }

  private safeDispatch<K extends keyof MessagingEvents> (type: K, detail: MessagingEvents[K]['detail']): void {
    this.safeDispatchEvent(type, { detail })
  }
}

/** The envelope forms an end-to-end encrypted node accepts. */
const SEALED_FORMS = [ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED]

/** Who an authorised sender is: a contact (with its record), one of our devices, or a stranger introducing itself. */
interface Sender { as: 'contact' | 'own' | 'stranger', contact?: ContactRecord }

/** Take one point from `limiter` under `key`: false when its budget is spent for now. */
function consumes (limiter: RateLimiter, key: string): boolean {
  try {
    limiter.consume(key)
    return true
  } catch {
    return false
  }
}

/** What one inbound stream remembers across its batches: whether it answered RESET already. */
interface InboundState { reset: boolean }

/** A frame that passed the cheap checks and is new, at position `at` of its batch. */
interface Pending { at: number, frame: DecodedFrame }
/** A message to store, from the frame at position `at`. */
interface Accepted { at: number, message: Parameters<KithStore['appendIncoming']>[0] }

/** What a sealed envelope's outer layer authenticates: the envelope's visible fields. */
function envelopeAad (id: Uint8Array, recipient: Uint8Array, timestamp: bigint): Uint8Array {
  const ts = Buffer.alloc(8)
  ts.writeBigUInt64BE(timestamp)
  return Buffer.concat([id, recipient, ts])
}



/** A Message with every field it does not set empty. */
function messageOf (fields: Partial<Message> & Pick<Message, 'kind'>): Message {
  return { text: '', name: '', inviteToken: new Uint8Array(), addrs: [], certificate: new Uint8Array(), topic: '', payload: new Uint8Array(), file: new Uint8Array(), sentTo: '', ...fields }
}

/** One of our own devices, as a control message's sender. */
function ownDevice (peerId: string): ContactRecord {
  return { peerId, name: 'own device', addrs: [], addedAt: 0 }
}

/** The history record of a text or file (already validated) that arrived in `frame`. */
function incomingRecord (frame: DecodedFrame, conversation: string, from: string, message: Message): Accepted['message'] {
  const base = { id: frame.hexId, conversation, from, ts: Number(frame.envelope.timestamp) }
  return message.kind === MessageKind.FILE ? { ...base, text: '', file: messageFileOf(decodeFileOffer(message.file)) } : { ...base, text: message.text }
}
