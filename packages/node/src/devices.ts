import { createHash, timingSafeEqual } from 'node:crypto'
import { LinkCodeExpiredError, LinkCodeUsedError, NotIdentityDeviceError, UnknownDeviceError, LINK_PROTOCOL, random, toHex } from '@kith/core'
import { InvalidDeviceListError, issueDeviceCertificate, issueDeviceList, listHasDevice, verifyDeviceCertificate, verifyDeviceList } from '@kith/crypto'
import type { VerifiedDeviceList } from '@kith/crypto'
import { LINK_CODE_TTL_MS, LINK_SECRET_BYTES, LinkConfirmations, comparisonCode, decodeContact, encodeContact, encodeLinkCode, linkProof, serveLink } from '@kith/devices'
import type { LinkAnswer, LinkExchange, LinkRefusal, LinkRequestView } from '@kith/devices'
import type { Messaging } from '@kith/messaging'
import { contactDevices } from '@kith/store'
import type { ContactRecord, KithStore, StoreOp } from '@kith/store'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { IdentifyResult, Libp2p, Logger, PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/** Control topics between a user's devices and to contacts. */
export const DEVICES_TOPIC = 'kith/devices'
export const CONTACT_TOPIC = 'kith/contact'
/**
 * Between our own devices only: what each device is called (not part of the signed list, which
 * contacts see) and where each listens, so every device can reach every other one.
 */
export const INFO_TOPIC = 'kith/device-info'
const MAX_INFO_BYTES = 16 * 1024

export const LIST_SECRET = 'devices/list'
const NAMES_SECRET = 'devices/names'
const SEEN_SECRET = 'devices/seen'
/** Where our other devices listen (multiaddr strings), so each finds the others after a restart. */
export const ADDRS_SECRET = 'devices/addrs'
/** How far back history sync reaches on this device (ms since the epoch), as chosen at link time; absent: all of it. */
export const HISTORY_SINCE = 'devices/history-since'
/** Revoked devices a list keeps naming (the oldest are dropped first). */
const MAX_REVOKED_KEPT = 64
const LINK_PREFIX = 'devices/link/'

/** A device of this account, as `kith devices --json` shows it. */
export interface DeviceView {
  /** Its peer id. */
  device: string
  /** What it was called when linked ("laptop"); may be empty. */
  name: string
  /** This device. */
  self: boolean
  /** The device holding the identity key: the one that links and revokes. */
  identityDevice: boolean
  /** When it was certified, ms since the epoch. */
  linkedAt: number
  /** When this device last had a connection to it (ms since the epoch); absent: not seen yet. For `self`: now. */
  lastSeen?: number
}

/** A device just linked, as both devices report it. */
export interface LinkedDevice { device: string, name: string, comparison: string }

/** A link that ended without the user's confirmation: the device was not linked. */
export interface RefusedLink extends LinkRequestView {
  /** `rejected` (the user declined), `timeout` (no answer in time) or `gone` (the new device hung up). */
  reason: LinkRefusal
}

interface PendingLink { secret: string, expires: number, used?: string }

export interface DeviceManagerInit {
  libp2p: Libp2p<{ messaging: Messaging }>
  store: KithStore
  /** Present on the identity device only. */
  identityKey?: PrivateKey
  certificate: Uint8Array
  /** The user's profile name, handed to linked devices. */
  name: string
  log: Logger
  /** A new device proved a link code: the user must compare `comparison` and confirm ({@link DeviceManager.confirmLink}). */
  onLinkRequest?: (request: LinkRequestView) => void
  /** A held link ended without a confirmation. */
  onLinkRefused?: (refused: RefusedLink) => void
  onLinked: (linked: LinkedDevice) => void
  /** A device list changed: ours, or a contact's. */
  onListChanged?: () => void
  /** One of our other devices connected (history sync runs then). */
  onOwnDeviceConnected?: (device: string) => void
}

/**
 * This account's devices (docs/devices.md): the signed device list, kept and handed on; link
 * codes and the link exchange (identity device only); contacts' device lists as they push them;
 * contacts and lists passed between our own devices.
 */
export class DeviceManager {
  private list!: VerifiedDeviceList
  private otherDevices: string[] = []
  private names: Record<string, string> = {}
  private seen: Record<string, number> = {}
  private readonly self: string
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => { void this.connected(evt.detail.toString()) }
  /** The list seq each device has been sent (this run): a device that connects without it gets it. */
  private readonly pushed = new Map<string, number>()
  /** Contacts that could not be handed to one of our devices yet (no session: it was offline). */
  private readonly unsentContacts = new Map<string, Uint8Array[]>()
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => { void this.rememberAddrs(evt.detail) }
  /** A device that reconnects gets our list again: one small message, and a lost push heals. */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => { this.pushed.delete(evt.detail.toString()) }
  private addrs: Record<string, string[]> = {}
  private readonly onContact = (evt: CustomEvent<ContactRecord>): void => { void this.introduce(evt.detail) }
  /** Malformed or oversized link requests refused (identity device). */
  invalidLinkRequests = 0
  /** Links held until the user confirms the comparison code (identity device). */
  private readonly confirmations = new LinkConfirmations<{ linked: LinkedDevice, answer: LinkAnswer }>()

  constructor (private readonly init: DeviceManagerInit) {
    this.self = init.libp2p.peerId.toString()
  }

  private get messaging (): Messaging { return this.init.libp2p.services.messaging }

  async start (): Promise<void> {
    const { store } = this.init
    const stored = await store.getSecret<Uint8Array>(LIST_SECRET)
    if (stored != null) {
      this.setList(verifyDeviceList(stored))
    } else {
      if (this.init.identityKey == null) throw new NotIdentityDeviceError('this device has no device list and no identity key: link it again')
      this.setList(verifyDeviceList(issueDeviceList(this.init.identityKey, { seq: 1, devices: [this.init.certificate] })))
      await store.commit([store.putSecret(LIST_SECRET, this.list.bytes)])
    }
    this.names = await store.getSecret<Record<string, string>>(NAMES_SECRET) ?? {}
    this.seen = await store.getSecret<Record<string, number>>(SEEN_SECRET) ?? {}
    this.addrs = await store.getSecret<Record<string, string[]>>(ADDRS_SECRET) ?? {}
    if (this.init.identityKey != null) {
      await serveLink(this.init.libp2p, async (device, request, exchange) => await this.answerLink(device, request.proof, request.name, exchange), () => { this.invalidLinkRequests++ })
    }
    this.messaging.handleControl(DEVICES_TOPIC, async (from, payload) => await this.receiveList(from, payload))
    this.messaging.handleControl(CONTACT_TOPIC, async (from, payload) => await this.receiveContact(from, payload))
    this.messaging.handleControl(INFO_TOPIC, async (from, payload) => await this.receiveInfo(from, payload))
    this.messaging.addEventListener('contact', this.onContact)
    this.init.libp2p.addEventListener('peer:connect', this.onConnect)
    this.init.libp2p.addEventListener('peer:identify', this.onIdentify)
    this.init.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Reach our other devices (after libp2p has started): they exchange copies, lists and contacts. */
  afterStart (): void {
    for (const device of this.others()) this.dial(device)
  }

  /** Connect to one of our devices at the addresses we know for it (kept alive from then on). */
  private dial (device: string): void {
    const multiaddrs = (this.addrs[device] ?? []).flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    const peer = peerIdFromString(device)
    void this.init.libp2p.peerStore.merge(peer, { multiaddrs, tags: { [KEEP_ALIVE]: { value: 1 } } })
      .then(async () => await this.init.libp2p.dial(peer, { signal: AbortSignal.timeout(10_000) }))
      .catch(err => { this.init.log('our device %s is not reachable: %s', device, err?.message) })
  }

  async stop (): Promise<void> {
    this.init.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.init.libp2p.removeEventListener('peer:identify', this.onIdentify)
    this.init.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    this.messaging.removeEventListener('contact', this.onContact)
    if (this.init.identityKey != null) await this.init.libp2p.unhandle(LINK_PROTOCOL).catch(() => {})
  }

  /** Our other devices, from the latest list: messages are copied to them (asked for every message). */
  others (): string[] { return this.otherDevices }

  isOwnDevice (peer: string): boolean { return this.otherDevices.includes(peer) }

  /** Whether our device list revoked `peer`: what it sends is refused for good. */
  isRevoked (peer: string): boolean { return this.list.revoked.some(d => d.toString() === peer) }

  private setList (list: VerifiedDeviceList): void {
    this.list = list
    this.otherDevices = list.devices.map(d => d.device.toString()).filter(d => d !== this.self)
  }

  /** Our devices, for `kith devices`. */
  devices (): DeviceView[] {
    const identityDevice = this.list.devices[0]?.device.toString()
    return this.list.devices.map(d => {
      const device = d.device.toString()
      const lastSeen = device === this.self ? Date.now() : this.seen[device]
      return { device, name: this.names[device] ?? '', self: device === this.self, identityDevice: device === identityDevice, linkedAt: d.issuedAt, ...(lastSeen != null ? { lastSeen } : {}) }
    })
  }

  /**
   * The current and revoked devices of every user whose list we know, by identity fingerprint:
   * ours, and each contact's latest. Group admins keep each user's devices in their groups by it.
   */
  async deviceSets (): Promise<Map<string, { devices: string[], revoked: string[] }>> {
    const setOf = (list: VerifiedDeviceList): { devices: string[], revoked: string[] } => ({ devices: list.devices.map(d => d.device.toString()), revoked: list.revoked.map(String) })
    const sets = new Map([[this.list.identityFingerprint, setOf(this.list)]])
    for (const contact of await this.init.store.listContacts()) {
      if (contact.deviceList == null || contact.changedIdentity != null) continue
      try {
        const list = contactList(contact, Buffer.from(contact.deviceList, 'base64'))
        sets.set(list.identityFingerprint, setOf(list))
      } catch {}
    }
    return sets
  }

  /** The signed list, to hand a new contact or to publish. */
  signedList (): Uint8Array { return this.list.bytes }

  /**
   * A link code for a new device (identity device only): one use, {@link LINK_CODE_TTL_MS}.
   *
   * @throws {NotIdentityDeviceError} on any other device
   */
  async createLinkCode (): Promise<{ code: string, expires: number }> {
    if (this.init.identityKey == null) throw new NotIdentityDeviceError(`only the device holding your identity key (${this.list.devices[0]?.device.toString() ?? 'the first one'}) can link devices: run "kith device link" there`)
    const secret = random(LINK_SECRET_BYTES)
    const expires = Date.now() + LINK_CODE_TTL_MS
    await this.init.store.commit([this.init.store.putSecret(LINK_PREFIX + linkId(secret), { secret: toHex(secret), expires } satisfies PendingLink)])
    const addrs = this.init.libp2p.getMultiaddrs().map(a => new Uint8Array(a.decapsulateCode(421).bytes))
    return { code: encodeLinkCode({ peerId: this.init.libp2p.peerId.toMultihash().bytes, addrs, secret, expires }), expires }
  }

  /**
   * Remove a device from the account (identity device only): a new list without it goes to
   * every contact and to our other devices, so nobody encrypts to it from then on, and what it
   * sends is refused. Returns the devices left.
   *
   * @throws {NotIdentityDeviceError | UnknownDeviceError}
   */
  async revoke (deviceOrName: string): Promise<DeviceView[]> {
    const identityKey = this.init.identityKey
    if (identityKey == null) throw new NotIdentityDeviceError(`only the device holding your identity key (${this.list.devices[0]?.device.toString() ?? 'the first one'}) can revoke devices: run "kith device revoke" there`)
    const target = this.devices().find(d => d.device === deviceOrName || (d.name !== '' && d.name === deviceOrName))
    if (target == null) throw new UnknownDeviceError(`no device ${deviceOrName} in this account (see kith devices)`)
    if (target.self) throw new UnknownDeviceError('this device holds the identity key and cannot revoke itself')
    const devices = this.list.certificates.filter(c => verifyDeviceCertificate(c).device.toString() !== target.device)
    const revoked = [...this.list.revoked, peerIdFromString(target.device)].slice(-MAX_REVOKED_KEPT)
    const list = verifyDeviceList(issueDeviceList(identityKey, { seq: this.list.seq + 1, devices, revoked }))
    await this.init.store.commit([this.init.store.putSecret(LIST_SECRET, list.bytes)])
    this.setList(list)
    this.init.onListChanged?.()
    this.init.log('revoked %s', target.device)
    await this.pushList()
    await this.init.libp2p.hangUp(peerIdFromString(target.device)).catch(() => {})
    return this.devices()
  }

  /** New devices waiting for the user to confirm their comparison code (identity device). */
  linkRequests (): LinkRequestView[] { return this.confirmations.list() }

  /**
   * The user saw `comparison` on both screens: certify the new device waiting with it and hand
   * it the account. Resolves once it is linked.
   *
   * @throws {UnknownLinkRequestError} when no device waits with that code
   * @throws {LinkRejectedError} when it hung up meanwhile
   * @throws {InvalidLinkCodeError} when `comparison` is not six digits
   */
  async confirmLink (comparison: string): Promise<LinkedDevice> {
    return (await this.confirmations.confirm(comparison)).linked
  }

  /**
   * The user declined: the device waiting with `comparison` is not linked, and its code is spent.
   *
   * @throws {UnknownLinkRequestError | InvalidLinkCodeError}
   */
  rejectLink (comparison: string): LinkRequestView { return this.confirmations.reject(comparison) }

  /**
   * The identity device's side of a link: check the proof against our pending codes, then hold
   * the link (nothing certified, nothing handed over) until the user confirms that both screens
   * show the same comparison code; a refusal spends the code too.
   */
  private async answerLink (device: PeerId, proof: Uint8Array, name: string, exchange: LinkExchange): Promise<LinkAnswer> {
    if (this.init.identityKey == null) throw new NotIdentityDeviceError('this device does not hold the identity key')
    const { store } = this.init
    let match: { key: string, link: PendingLink, secret: Buffer } | undefined
    for (const [key, link] of await store.listSecrets<PendingLink>(LINK_PREFIX)) {
      const secret = Buffer.from(link.secret, 'hex')
      if (timingSafeEqual(Buffer.from(linkProof(secret, this.init.libp2p.peerId, device)), Buffer.from(proof))) { match = { key, link, secret }; break }
    }
    if (match == null) throw new LinkCodeUsedError('no link code of this device matches (it was used, or made on another device)')
    if (match.link.used != null) throw new LinkCodeUsedError('this link code was used already: make a new one with "kith device link"')
    if (match.link.expires <= Date.now()) throw new LinkCodeExpiredError('this link code has expired: make a new one with "kith device link"')
    const deviceKey = device.publicKey
    if (deviceKey == null) throw new LinkCodeUsedError('the new device has no public key')
    const { key, link, secret } = match
    const request = { device: device.toString(), name: name.trim(), comparison: comparisonCode(secret, this.init.libp2p.peerId, device) }
    const spent = { ...link, used: device.toString() }
    const { answer } = await this.confirmations.hold(key, request, link.expires, {
      signal: exchange.signal,
      waiting: async (view) => {
        await exchange.hold('compare the codes: the device holding your identity asks its user to confirm')
        this.init.log('%s waits for the user to confirm its comparison code', request.device)
        this.init.onLinkRequest?.(view)
      },
      refused: async (view, reason) => {
        await store.commit([store.putSecret(key, spent)])
        this.init.log('did not link %s: %s', request.device, reason)
        this.init.onLinkRefused?.({ ...view, reason })
      },
      certify: async () => await this.certify(device, deviceKey, request, key, spent)
    })
    return answer
  }

  /** The user confirmed: certify `device`, sign a list with it, spend its code, and hand over the account. */
  private async certify (device: PeerId, deviceKey: PublicKey, linked: LinkedDevice, codeKey: string, spent: PendingLink): Promise<{ linked: LinkedDevice, answer: LinkAnswer }> {
    const identityKey = this.init.identityKey
    if (identityKey == null) throw new NotIdentityDeviceError('this device does not hold the identity key')
    const { store } = this.init
    const serial = Math.max(...this.list.devices.map(d => d.serial)) + 1
    const certificate = issueDeviceCertificate(identityKey, deviceKey, { serial })
    const devices = [...this.list.certificates.filter(c => !verifyDeviceCertificate(c).device.equals(device)), certificate]
    const list = verifyDeviceList(issueDeviceList(identityKey, { seq: this.list.seq + 1, devices, revoked: this.list.revoked }))
    const names = { ...this.names, [linked.device]: linked.name }
    // The code is spent in the same batch that adds the device: a second use finds it used.
    await store.commit([
      store.putSecret(codeKey, spent),
      store.putSecret(LIST_SECRET, list.bytes),
      store.putSecret(NAMES_SECRET, names)
    ])
    this.setList(list)
    this.names = names
    this.init.onListChanged?.()
    this.init.onLinked(linked)
    // Not to the new device: it gets the list in our answer, and its node is not running yet.
    this.pushed.set(device.toString(), list.seq)
    void this.pushList()
    const contacts = await store.listContacts()
    return { linked, answer: { certificate: new Uint8Array(certificate), deviceList: new Uint8Array(list.bytes), name: this.init.name, contacts: contacts.map(c => new Uint8Array(encodeContact(c))) } }
  }

  /** Send our current list to every contact's devices and to our own other devices. */
  async pushList (): Promise<void> {
    const targets = new Set(this.others())
    for (const contact of await this.init.store.listContacts()) for (const device of contactDevices(contact)) targets.add(device)
    for (const device of targets) await this.sendList(device)
  }

  /** A new contact: it gets our device list, and our other devices get the contact. */
  private async introduce (contact: ContactRecord): Promise<void> {
    for (const device of contactDevices(contact)) await this.sendList(device)
    for (const device of this.others()) {
      const payload = encodeContact(contact)
      if (!await this.send(device, CONTACT_TOPIC, payload)) this.unsentContacts.set(device, [...this.unsentContacts.get(device) ?? [], payload])
    }
  }

  private async sendList (device: string): Promise<void> {
    const seq = this.list.seq
    if (this.pushed.get(device) === seq) return
    if (!await this.send(device, DEVICES_TOPIC, this.list.bytes)) return
    this.pushed.set(device, seq)
    if (this.isOwnDevice(device)) await this.send(device, INFO_TOPIC, this.info(device))
  }

  /**
   * Queue a control message (the outbox then delivers it, across restarts). False when there is
   * no session with the device and none could be opened (it is offline): tried again when it connects.
   */
  private async send (device: string, topic: string, payload: Uint8Array): Promise<boolean> {
    try {
      await this.messaging.sendControl(device, topic, payload)
      return true
    } catch (err: any) {
      this.init.log('could not send %s to %s yet: %s', topic, device, err?.message)
      return false
    }
  }

  /** A device connected: one of ours, or a contact's, gets what could not be sent to it before. */
  private async connected (device: string): Promise<void> {
    const own = this.isOwnDevice(device)
    if (!own && await this.init.store.getContactByDevice(device) == null) return
    await this.sendList(device)
    if (!own) return
    this.init.onOwnDeviceConnected?.(device)
    await this.sawDevice(device)
    const contacts = this.unsentContacts.get(device) ?? []
    this.unsentContacts.delete(device)
    for (const payload of contacts) if (!await this.send(device, CONTACT_TOPIC, payload)) this.unsentContacts.set(device, [...this.unsentContacts.get(device) ?? [], payload])
  }

  /** A device list from a contact's device (theirs) or from one of ours (ours). */
  private async receiveList (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[], after?: () => void }> {
    const { store } = this.init
    if (this.isOwnDevice(from)) {
      // Pushed to us by several devices, and again on each connection: only a newer one changes
      // anything (a device that is behind sends an older one; it gets ours in turn).
      const list = verifyDeviceList(payload, { identity: this.list.identity })
      if (list.seq <= this.list.seq) return { ops: [] }
      return { ops: [store.putSecret(LIST_SECRET, list.bytes)], after: () => { this.setList(list); this.init.onListChanged?.() } }
    }
    const contact = await store.getContactByDevice(from)
    if (contact == null) throw new Error('not a contact')
    // The list we have, sent again (each device pushes it once a run): nothing to do.
    if (contact.deviceList != null && Buffer.from(payload).toString('base64') === contact.deviceList) return { ops: [] }
    const updated = await this.unclaimed(contactWithList(contact, from, payload))
    this.init.log('%s has %d devices now', contact.name, updated.devices?.length)
    return { ops: [store.contactOp(updated)], after: () => { store.contactCommitted(updated); this.init.onListChanged?.() } }
  }

  /**
   * A contact's device list from its device's presence record (for contacts who missed a
   * push). Kept when newer than the one we hold; an older or equal one changes nothing.
   */
  async takePublishedList (device: string, bytes: Uint8Array): Promise<void> {
    const { store } = this.init
    const contact = await store.getContactByDevice(device)
    if (contact == null || (contact.deviceList != null && Buffer.from(bytes).toString('base64') === contact.deviceList)) return
    let updated: ContactRecord
    try {
      updated = await this.unclaimed(contactWithList(contact, device, bytes))
    } catch (err: any) {
      if (err?.name !== 'StaleDeviceListError') this.init.log('refused the device list in the presence record of %s: %s', device, err?.message)
      return
    }
    await store.putContact(updated)
    this.init.onListChanged?.()
  }

  /**
   * `contact` (with its new list) unless the list names a device that is ours or another
   * contact's: an identity key can certify any device key, so a list alone must not take over a
   * device someone else is known by.
   *
   * @throws {InvalidDeviceListError}
   */
  private async unclaimed (contact: ContactRecord): Promise<ContactRecord> {
    for (const device of contactDevices(contact)) {
      const other = await this.init.store.getContactByDevice(device)
      if (device === this.self || this.isOwnDevice(device) || (other != null && other.peerId !== contact.peerId)) {
        throw new InvalidDeviceListError(`${contact.name}'s device list names ${device}, a device of another user`)
      }
    }
    return contact
  }

  /** Names (from the identity device, where devices are named) and addresses of our devices, for `device`. */
  private info (device: string): Uint8Array {
    const addrs = Object.fromEntries(Object.entries(this.addrs).filter(([d]) => d !== device && this.isOwnDevice(d)))
    return new TextEncoder().encode(JSON.stringify({ ...(this.init.identityKey != null ? { names: this.names } : {}), addrs }))
  }

  /** Names and addresses of our devices, from another of ours: a device we could not reach we now dial. */
  private async receiveInfo (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[], after?: () => void }> {
    if (!this.isOwnDevice(from) || payload.length > MAX_INFO_BYTES) throw new Error('device info comes only from our own devices')
    const parsed: any = JSON.parse(new TextDecoder().decode(payload))
    const strings = (value: unknown, max: number): boolean => typeof value === 'string' && value.length <= max
    const names = from === this.list.devices[0]?.device.toString() && parsed?.names != null && typeof parsed.names === 'object'
      ? Object.fromEntries(Object.entries(parsed.names).filter(([k, v]) => strings(k, 128) && strings(v, 64))) as Record<string, string>
      : this.names
    const learnt: Record<string, string[]> = {}
    for (const [device, addrs] of Object.entries(parsed?.addrs ?? {})) {
      if (device === this.self || !this.isOwnDevice(device) || !Array.isArray(addrs)) continue
      learnt[device] = addrs.filter(a => strings(a, 256)).slice(0, 16)
    }
    const addrs = { ...this.addrs, ...learnt }
    return {
      ops: [this.init.store.putSecret(NAMES_SECRET, names), this.init.store.putSecret(ADDRS_SECRET, addrs)],
      after: () => {
        this.names = names
        this.addrs = addrs
        for (const device of Object.keys(learnt)) if (this.init.libp2p.getConnections(peerIdFromString(device)).length === 0) this.dial(device)
      }
    }
  }

  /** A contact one of our devices added. */
  private async receiveContact (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[], after?: () => void }> {
    if (!this.isOwnDevice(from)) throw new Error('contacts come only from our own devices')
    const contact = withDevices(decodeContact(payload))
    const { store } = this.init
    if (await store.getContact(contact.peerId) != null) return { ops: [] }
    return { ops: [store.contactOp(contact)], after: () => { store.contactCommitted(contact) } }
  }

  private async rememberAddrs ({ peerId, listenAddrs }: IdentifyResult): Promise<void> {
    const device = peerId.toString()
    if (!this.isOwnDevice(device)) return
    const addrs = listenAddrs.slice(0, 16).map(String)
    if (addrs.length === 0 || addrs.join() === (this.addrs[device] ?? []).join()) return
    this.addrs = { ...this.addrs, [device]: addrs }
    await this.init.store.commit([this.init.store.putSecret(ADDRS_SECRET, this.addrs)]).catch(() => {})
  }

  private async sawDevice (peer: string): Promise<void> {
    this.seen = { ...this.seen, [peer]: Date.now() }
    await this.init.store.commit([this.init.store.putSecret(SEEN_SECRET, this.seen)]).catch(() => {})
  }
}

/**
 * `contact` with the device list `bytes` that came from its device `from`: it must be newer than
 * the one held, signed by the identity key we know the contact by, and name `from`.
 *
 * @throws {StaleDeviceListError | InvalidDeviceListError | Error}
 */
function contactWithList (contact: ContactRecord, from: string, bytes: Uint8Array): ContactRecord {
  const list = contactList(contact, bytes, contact.deviceListSeq)
  if (!listHasDevice(list, from)) throw new Error('a device list that does not name its sender')
  return withList(contact, list)
}

/**
 * A contact's device list, verified: signed by the identity key we know the contact by and,
 * when `after` is given, newer than that seq.
 *
 * @throws {InvalidDeviceListError | StaleDeviceListError} (and InvalidDeviceListError when we know no identity key for it)
 */
function contactList (contact: ContactRecord, bytes: Uint8Array, after?: number): VerifiedDeviceList {
  if (contact.identity == null) throw new InvalidDeviceListError('no identity key is known for this contact')
  return verifyDeviceList(bytes, { identity: publicKeyFromProtobuf(Buffer.from(contact.identity, 'base64')), ...(after != null ? { after } : {}) })
}

/** `contact` with `list` as its latest device list. */
function withList (contact: ContactRecord, list: VerifiedDeviceList): ContactRecord {
  return { ...contact, devices: list.devices.map(d => d.device.toString()), revoked: list.revoked.map(String), deviceList: Buffer.from(list.bytes).toString('base64'), deviceListSeq: list.seq }
}

/** A short, stable name for a pending link code: never its secret. */
function linkId (secret: Uint8Array): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 32)
}

/** A contact handed over by another of our devices, with the devices its signed list names (a list that does not verify is dropped). */
export function withDevices (contact: ContactRecord): ContactRecord {
  if (contact.deviceList == null) return contact
  try {
    return withList(contact, contactList(contact, Buffer.from(contact.deviceList, 'base64')))
  } catch {}
  const { deviceList: _, ...rest } = contact
  return rest
}
