import { createHash, hkdfSync } from 'node:crypto'
import { join } from 'node:path'
import { KAD_PROTOCOL, NodeRunningError, UnknownContactError, UnknownFileError, random, toHex } from '@kith/core'
import { messaging } from '@kith/messaging'
import { GroupService } from '@kith/groups'
import type { GroupPubSub } from '@kith/groups'
import { generateIdentityKey, identityFingerprint, issueDeviceCertificate, verifyDeviceCertificate } from '@kith/crypto'
import { contactDevices, openStore } from '@kith/store'
import { autoNAT } from '@libp2p/autonat'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { ServerReservationStoreInit } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { StrictNoSign, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { TypedEventEmitter } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { createLibp2p } from 'libp2p'
import { HOME_FILES, loadHome, loadPorts, savePorts } from './home.js'
import { acceptIdentity, markVerified, verification } from './verify.js'
import type { Verification } from './verify.js'
import { recordCipher } from './data-key.js'
import { relayReservations } from './reservations.js'
import { RelayGate } from './relay-gate.js'
import type { RelayGateLimits } from './relay-gate.js'
import { Reach } from './reach.js'
import { FileSharing } from './sharing.js'
import { DeviceManager, HISTORY_SINCE } from './devices.js'
import { ReadState } from './read-state.js'
import type { FileView, SavedFile } from './sharing.js'
import { files } from '@kith/files'
import { historySync } from '@kith/history'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { MailboxServer, MailboxStore } from '@kith/mailbox'
import type { MailboxDb, MailboxSealing } from '@kith/mailbox'
import { DhtRecordStore, presenceDhtOptions, presenceKey } from '@kith/presence'
import { LevelDatastore } from 'datastore-level'
import { Level } from 'level'
import { MemoryLevel } from 'memory-level'
import { AUTO_DOWNLOAD_DEFAULT, RELAY_DEFAULTS } from './index.js'
import type { KithNode, KithNodeEvents, KithNodeOptions, KithServices, ContactView, MailboxOptions, NodeStatus, RelayOptions } from './index.js'
import type { Messaging, MessagingEvents, ReachHooks } from '@kith/messaging'
import type { ContactRecord, HistoryOptions, KithStore, MessageRecord } from '@kith/store'
import type { Libp2p, PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/** How often history sync runs again with each of our devices we are connected to (it costs one round when nothing differs). */
const HISTORY_RESYNC_MS = 30_000

/** Loopback is always allowed past the connection manager's per-IP rate limits. */
const LOOPBACK_ALLOW = ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128']

class DefaultKithNode extends TypedEventEmitter<KithNodeEvents> implements KithNode {
  readonly libp2p: Libp2p<KithServices>
  readonly store: KithStore
  readonly name: string
  readonly identity: PublicKey
  private readonly ownsStore: boolean

  readonly groups: GroupService
  /** The mailbox's database, when this node runs one: closed with the node. */
  mailboxDb: MailboxDb | undefined
  /** A temporary files folder made for a node without a home: removed with the node. */
  tempFilesDir: string | undefined

  readonly reach: Reach
  readonly sharing: FileSharing
  readonly devices: DeviceManager
  /** How far each conversation has been read, kept the same on all our devices. */
  readonly reading: ReadState

  constructor (libp2p: Libp2p<KithServices>, store: KithStore, name: string, identity: PublicKey, ownsStore: boolean, device: { privateKey: PrivateKey, certificate: Uint8Array, identityKey?: PrivateKey }, reach: Reach, groups: { syncEveryMs?: number } = {}, autoDownloadBytes = AUTO_DOWNLOAD_DEFAULT) {
    super()
    this.devices = new DeviceManager({
      libp2p,
      store,
      certificate: device.certificate,
      name,
      log: libp2p.logger.forComponent('kith:devices'),
      onLinked: (detail) => { this.safeDispatchEvent('device:linked', { detail }) },
      onLinkRequest: (detail) => { this.safeDispatchEvent('device:link-request', { detail }) },
      onLinkRefused: (detail) => { this.safeDispatchEvent('device:link-refused', { detail }) },
      onListChanged: () => { this.groupDevicesSoon() },
      onOwnDeviceConnected: (device) => { void this.syncHistory(device); void this.reading.connected(device) },
      ...(device.identityKey != null ? { identityKey: device.identityKey } : {})
    })
    this.reading = new ReadState({
      store,
      messaging: () => this.messaging,
      others: () => this.devices.others(),
      isOwnDevice: (peer) => this.devices.isOwnDevice(peer),
      log: libp2p.logger.forComponent('kith:read')
    })
    this.libp2p = libp2p
    this.store = store
    this.name = name
    this.identity = identity
    this.ownsStore = ownsStore
    this.reach = reach
    for (const type of ['message', 'message:status', 'contact', 'contact:identity-changed'] as const) {
      this.messaging.addEventListener(type, (evt: CustomEvent) => { this.safeDispatchEvent(type, { detail: evt.detail }) })
    }
    this.groups = new GroupService({
      peerId: libp2p.peerId,
      deviceKey: device.privateKey,
      certificate: device.certificate,
      store,
      pubsub: libp2p.services.pubsub as unknown as GroupPubSub,
      handle: async (protocol, handler) => { await libp2p.handle(protocol, handler, { runOnLimitedConnection: true }) },
      unhandle: async (protocol) => { await libp2p.unhandle(protocol) },
      dial: async (peer, protocol) => await libp2p.dialProtocol(peer, protocol, { signal: AbortSignal.timeout(10_000), runOnLimitedConnection: true }),
      // Contacts' devices and our own other devices: each device is its own group member.
      isContact: async (peer) => await store.getContactByDevice(peer) != null || this.devices.isOwnDevice(peer),
      contacts: async () => [...(await store.listContacts()).flatMap(contactDevices), ...this.devices.others()],
      sendControl: async (peer, topic, payload, extra) => { await this.messaging.sendControl(peer, topic, payload, extra) },
      handleControl: (topic, handler) => { this.messaging.handleControl(topic, handler) },
      ...groups
    })
    // Each new contact gets a key package of ours, to add us to groups with.
    this.messaging.addEventListener('contact', () => { void this.groups.offerKeyPackages().catch(() => {}) })
    // A new contact may be a relay for us.
    this.messaging.addEventListener('contact', () => { void libp2p.services.reservations.topUp() })
    // Group texts are messages too: `kith watch` and the API's event stream show them.
    this.groups.addEventListener('group:message', (evt) => { this.safeDispatchEvent('message', { detail: evt.detail }) })
    this.sharing = new FileSharing({
      files: libp2p.services.files,
      store,
      messaging: this.messaging,
      groups: this.groups,
      self: libp2p.peerId.toString(),
      ownDevices: () => this.devices.others(),
      log: libp2p.logger.forComponent('kith:sharing'),
      autoDownloadBytes,
      progress: (detail) => { this.safeDispatchEvent('file:progress', { detail }) }
    })
  }

  private groupDevicesTimer: ReturnType<typeof setTimeout> | undefined
  /** A device that connects may have handed us its key package since: groups may take it now. */
  private readonly onPeerConnect = (): void => { if (this.groups.administered().length > 0) this.groupDevicesSoon() }

  /** Keep each user's devices in the groups we administer, soon (changes come in bursts). */
  private groupDevicesSoon (): void {
    if (this.groupDevicesTimer != null || this.libp2p.status !== 'started') return
    this.groupDevicesTimer = setTimeout(() => {
      this.groupDevicesTimer = undefined
      void this.groupDevices().catch(err => { this.libp2p.logger.forComponent('kith:devices')('could not update group members: %s', err?.message) })
    }, 1_000)
  }

  /**
   * In each group we administer, add the devices a member's user has linked since (once we hold
   * or can fetch their key package) and remove the ones it revoked (docs/devices.md, "Groups").
   */
  private async groupDevices (): Promise<void> {
    const sets = await this.devices.deviceSets()
    for (const { group, members } of this.groups.administered()) {
      for (const identity of new Set(members.map(m => m.identity))) {
        const set = sets.get(identity)
        if (set == null) continue
        // Only devices its user revoked go (a device merely missing may be one we have not heard of yet).
        for (const member of members.filter(m => m.identity === identity && set.revoked.includes(m.device))) await this.groups.removeDevice(group, member.device)
        for (const device of set.devices.filter(d => d !== this.peerId.toString() && !members.some(m => m.device === d))) {
          // Without its key package yet (it has not been online): tried again when it connects.
          await this.groups.add(group, device).catch(() => {})
        }
      }
    }
  }

  /** Our devices a history sync is pulling from right now: one at a time each. */
  private readonly syncing = new Set<string>()
  /** Syncs again with the devices we are connected to, now and then: a copy that could not reach us directly comes this way. */
  private historyTimer: ReturnType<typeof setInterval> | undefined

  /**
   * Pull what this device lacks from another of ours (on every connection: the cost grows with
   * the difference). A newly linked device gets the history it chose at link time this way.
   */
  private async syncHistory (device: string): Promise<void> {
    if (this.syncing.has(device) || this.libp2p.status !== 'started') return
    this.syncing.add(device)
    const history = this.libp2p.services.history
    const onProgress = (evt: CustomEvent<{ peer: string, fetched: number, total: number }>): void => {
      if (evt.detail.peer === device) this.safeDispatchEvent('history:progress', { detail: { ...evt.detail, done: false } })
    }
    history.addEventListener('history:progress', onProgress)
    try {
      const since = await this.store.getSecret<number>(HISTORY_SINCE)
      const result = await history.sync(peerIdFromString(device), since != null ? { since } : {})
      this.safeDispatchEvent('history:progress', { detail: { peer: device, fetched: result.fetched, total: result.needed, done: true } })
    } catch (err: any) {
      this.safeDispatchEvent('history:progress', { detail: { peer: device, fetched: 0, total: 0, done: true, error: err?.message ?? String(err) } })
    } finally {
      history.removeEventListener('history:progress', onProgress)
      this.syncing.delete(device)
    }
  }

  get peerId (): PeerId { return this.libp2p.peerId }
  get messaging (): Messaging { return this.libp2p.services.messaging }

  async start (): Promise<void> {
    // Before messaging starts: it asks which devices are ours from its first envelope on.
    await this.devices.start()
    await this.reading.start()
    await this.libp2p.start()
    this.devices.afterStart()
    this.libp2p.addEventListener('peer:connect', this.onPeerConnect)
    this.historyTimer = setInterval(() => {
      for (const device of this.devices.others()) if (this.isOnline(device)) void this.syncHistory(device)
    }, HISTORY_RESYNC_MS)
    await this.groups.start()
    await this.reach.start()
    await this.sharing.start(this, this.libp2p)
  }

  async stop (): Promise<void> {
    if (this.libp2p.status === 'started') {
      this.sharing.stop(this, this.libp2p)
      this.libp2p.removeEventListener('peer:connect', this.onPeerConnect)
      clearTimeout(this.groupDevicesTimer)
      clearInterval(this.historyTimer)
      await this.devices.stop()
      await this.reach.stop()
      await this.groups.stop()
    }
    await this.libp2p.stop()
    await this.mailboxDb?.close()
    if (this.ownsStore) await this.store.close()
    if (this.tempFilesDir != null) await rm(this.tempFilesDir, { recursive: true, force: true })
  }

  status (): NodeStatus {
    return {
      peerId: this.peerId.toString(),
      name: this.name,
      identity: identityFingerprint(this.identity),
      addresses: this.libp2p.getMultiaddrs().map(String),
      connections: this.libp2p.getConnections().length,
      pending: this.messaging.pending(),
      metrics: { ...this.messaging.metrics },
      network: this.reach.status(),
      files: { ...this.libp2p.services.files.metrics, downloads: this.libp2p.services.files.downloads().length }
    }
  }

  async contacts (): Promise<ContactView[]> {
    const contacts = await this.store.listContacts()
    const sorted = contacts.sort((a, b) => a.addedAt - b.addedAt)
    return await Promise.all(sorted.map(async c => ({
      name: c.name,
      peerId: c.peerId,
      online: contactDevices(c).some(d => this.isOnline(d)),
      connection: this.connectionKind(c.peerId),
      devices: contactDevices(c).length,
      unread: await this.reading.unread(c.peerId),
      verified: c.verified === true,
      identityChanged: c.changedIdentity != null,
      groupReady: await this.groups.canAdd(c.peerId)
    })))
  }

  async resolveContact (nameOrPeerId: string): Promise<ContactRecord> {
    const contact = await this.store.findContact(nameOrPeerId)
    if (contact == null) throw new UnknownContactError(`no contact "${nameOrPeerId}" (see "kith contacts")`)
    return contact
  }

  async send (to: string, text: string): Promise<MessageRecord> {
    const group = await this.groupNamed(to)
    if (group != null) return await this.groups.send(group, text)
    return await this.messaging.send((await this.resolveContact(to)).peerId, text)
  }

  async sendFile (to: string, path: string, op?: string): Promise<MessageRecord> {
    const group = await this.groupNamed(to)
    return await this.sharing.send(group != null ? { group } : { peer: (await this.resolveContact(to)).peerId }, path, op)
  }

  async file (messageId: string): Promise<FileView> {
    return await this.sharing.view(await this.fileMessage(messageId))
  }

  async saveFile (messageId: string, dest: string, options: { overwrite?: boolean, op?: string } = {}): Promise<SavedFile> {
    return await this.sharing.save(await this.fileMessage(messageId), dest, options)
  }

  private async fileMessage (messageId: string): Promise<MessageRecord> {
    const record = /^[0-9a-f]{32}$/.test(messageId) ? await this.store.getMessage(messageId) : undefined
    if (record?.file == null) throw new UnknownFileError(`no message ${messageId} with a file (see "kith history")`)
    return record
  }

  async history (conversation: string, options?: HistoryOptions): Promise<MessageRecord[]> {
    return await this.store.history(await this.conversationOf(conversation), options)
  }

  async markRead (conversation: string): Promise<{ conversation: string, upTo: number }> {
    const id = await this.conversationOf(conversation)
    return { conversation: id, upTo: await this.reading.markRead(id) }
  }

  /** A conversation's id: a group's, or a contact's peer id (by alias or peer id). */
  private async conversationOf (nameOrId: string): Promise<string> {
    return await this.groupNamed(nameOrId) ?? (await this.resolveContact(nameOrId)).peerId
  }

  /** The id of the group `to` names, unless `to` names a contact: a contact's alias or peer id wins over a group's id or name. */
  private async groupNamed (to: string): Promise<string | undefined> {
    if (await this.store.findContact(to) != null) return undefined
    try {
      return this.groups.resolve(to)
    } catch {
      return undefined // no such group (or several of that name): it is looked up as a contact
    }
  }

  async verify (contact: string, action?: 'mark' | 'accept'): Promise<Verification> {
    let record = await this.resolveContact(contact)
    if (action === 'mark') record = await markVerified(this.store, record)
    if (action === 'accept') record = await acceptIdentity(this.store, record)
    return verification(this.identity, record)
  }

  async createInvite (): Promise<string> { return await this.messaging.createInvite() }

  async acceptInvite (code: string, alias: string): Promise<ContactRecord> {
    return await this.messaging.acceptInvite(code, alias)
  }

  /** How we are connected to a peer: directly (on any connection), only through a relay, or not. */
  private connectionKind (peerId: string): 'direct' | 'relayed' | 'none' {
    const connections = this.libp2p.getConnections(peerIdFromString(peerId))
    if (connections.length === 0) return 'none'
    return connections.some(c => !c.remoteAddr.toString().includes('/p2p-circuit')) ? 'direct' : 'relayed'
  }

  private isOnline (peerId: string): boolean {
    return this.libp2p.getConnections(peerIdFromString(peerId)).length > 0
  }
}

/**
 * Create and start a Kith node: libp2p (TCP + WebSockets, or the in-memory transport for
 * tests; Noise; yamux; identify; ping; kad-dht on `/kith/kad/1.0.0`; gossipsub; mDNS and
 * bootstrap discovery) with the Kith services on top.
 *
 * @throws {NoIdentityError} when `home` holds no identity and none is passed
 * @throws {NodeRunningError} when another node already runs on `home`
 */
export async function createKithNode (options: KithNodeOptions): Promise<KithNode> {
  const identity = options.privateKey != null
    ? await ephemeralIdentity(options.privateKey, options.identityKey, options.name)
    : await loadHome(requireHome(options), options.passphrase != null ? { passphrase: options.passphrase } : {})
  const name = options.name ?? identity.name

  let store = options.store
  const ownsStore = store == null
  if (store == null) {
    try {
      store = await openStore(join(requireHome(options), HOME_FILES.db), identity.dataKey != null ? recordCipher(identity.dataKey) : undefined)
    } catch (err: any) {
      if (/lock/i.test(String(err?.cause?.message ?? err?.message))) throw new NodeRunningError('a node is already running on this home folder', { cause: err })
      throw err
    }
  }

  const inMemory = options.transport === 'memory'
  // By default, listen where this home listened last time: contacts remember that address.
  const reusePorts = options.listen == null && !inMemory && options.home != null
  const saved = reusePorts ? await loadPorts(requireHome(options)) : {}
  const listen = options.listen ?? (inMemory ? [`/memory/${toHex(random(8))}`] : [`/ip4/0.0.0.0/tcp/${saved.tcp ?? 0}`, `/ip4/0.0.0.0/tcp/${saved.ws ?? 0}/ws`])
  const peerDiscovery = []
  if ((options.bootstrap?.length ?? 0) > 0) peerDiscovery.push(bootstrap({ list: options.bootstrap ?? [] }))
  if (options.mdns !== false && !inMemory) peerDiscovery.push(mdns())

  // Messaging calls back into Reach, which needs the libp2p node that holds messaging.
  let reach!: Reach // eslint-disable-line prefer-const
  // The files service asks the node who may fetch what.
  let node!: DefaultKithNode // eslint-disable-line prefer-const
  // A relay for friends counts a contact's linked devices as that contact, and our own as us.
  const self = peerIdFromPrivateKey(identity.privateKey).toString()
  const contactOf = async (peer: string): Promise<string | undefined> =>
    peer === self || node?.devices.isOwnDevice(peer) === true ? self : (await store.getContactByDevice(peer))?.peerId
  // A relay for friends also holds their mail while they are offline, sealed under the data key.
  const mailbox = options.relay != null ? await openMailbox(inMemory || options.home == null ? undefined : join(options.home, HOME_FILES.mailbox), contactOf, { ...options.mailbox, ...sealingOf(identity.dataKey) }) : undefined
  // The relay's own rules: reservations for friends' devices, circuits for strangers capped per source address.
  let relayed: Libp2p<KithServices> | undefined
  const relayGate = options.relay != null
    ? new RelayGate({ contactOf, connections: () => relayed?.getConnections() ?? [], reserved: () => relayed?.services.relay?.reservations.keys() ?? [], limits: gateLimits(options.relay) })
    : undefined
  const tempFilesDir = options.filesDir == null && (options.home == null || inMemory) ? await mkdtemp(join(tmpdir(), 'kith-files-')) : undefined
  const filesDir = options.filesDir ?? tempFilesDir ?? join(requireHome(options), HOME_FILES.files)
  /** Presence records refused, by reason: by our DHT validator (stored or fetched), by lookups, and by the DHT store (`dht-full`, `dht-rollback`, …). */
  const presenceRefused: Record<string, number> = {}
  // libp2p's datastore: what DHT peers make us keep is capped, never rolled back, and in the home
  // (plain LevelDB: DHT records are public) so that it survives restarts. The peer store stays in memory.
  const datastore = new DhtRecordStore({
    ...(options.home != null && !inMemory ? { store: () => new LevelDatastore(join(requireHome(options), HOME_FILES.dht)) } : {}),
    pinned: [presenceKey(verifyDeviceCertificate(identity.certificate).identity)],
    onRefused: (reason) => { presenceRefused[`dht-${reason}`] = (presenceRefused[`dht-${reason}`] ?? 0) + 1 }
  })
  // Peers banned for flooding may neither dial us nor be redialled (contacts are keep-alive).
  let banned: (peer: PeerId) => boolean = () => false
  try {
    const libp2p = await createLibp2p({
      privateKey: identity.privateKey,
      datastore,
      addresses: { listen },
      transports: inMemory ? [memory(), circuitRelayTransport()] : [tcp(), webSockets(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery,
      connectionManager: { allow: [...LOOPBACK_ALLOW, ...(options.allow ?? [])] },
      connectionGater: {
        denyDialPeer: async (peer) => banned(peer),
        denyInboundEncryptedConnection: async (peer) => banned(peer),
        // A relay serves its friends (any of their devices) only: a stranger gets no reservation (a relay sees who talks to whom).
        denyInboundRelayReservation: async (peer) => relayGate == null || await relayGate.denyReservation(peer),
        // Strangers may reach our friends through us, but only a few circuits per source address and in all.
        denyOutboundRelayedConnection: async (source) => relayGate != null && await relayGate.denyCircuit(source)
      },
      services: {
        identify: identify(),
        ping: ping(),
        autoNAT: autoNAT(),
        dcutr: dcutr(),
        reservations: relayReservations({ isContact: async (peer) => await store.getContactByDevice(peer) != null, public: options.public === true, disabled: inMemory }),
        ...(options.relay != null ? { relay: circuitRelayServer({ reservations: relayLimits(options.relay) }) } : {}),
        dht: kadDHT({
          protocol: KAD_PROTOCOL,
          // Every Kith node serves the DHT; AutoNAT-driven client mode comes with NAT traversal.
          clientMode: options.dhtClientMode ?? false,
          // Keep LAN and loopback addresses: Kith runs on home networks, not only the internet.
          peerInfoMapper: passthroughMapper,
          // Presence records: signed by their identity key, the newest wins.
          ...presenceDhtOptions({ onRefused: (reason) => { presenceRefused[reason] = (presenceRefused[reason] ?? 0) + 1 } })
        }),
        pubsub: gossipsub({
          allowPublishToZeroTopicPeers: true,
          // Group messages are end-to-end encrypted and authenticated by MLS: publish them
          // unsigned, with ids from their content, so no peer id rides on them.
          globalSignaturePolicy: StrictNoSign,
          msgIdFn: contentMessageId,
          scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']) },
          // Group members behind NAT are reached through a friend's relay.
          runOnLimitedConnection: true
        }),
        messaging: messaging({ store, name, certificate: identity.certificate, reach: lateHooks(() => reach), ownDevices: () => node?.devices.others() ?? [], ownRevoked: (peer) => node?.devices.isRevoked(peer) === true, ...options.messaging }),
        files: files({ store, dir: filesDir, authorize: async (peer, root) => await node.sharing.authorize(peer, root) }),
        history: historySync({ store, isOwnDevice: (peer) => node?.devices.isOwnDevice(peer.toString()) ?? false })
      },
      start: false
    })
    banned = (peer) => libp2p.services.messaging.isBanned(peer)
    relayed = libp2p
    reach = new Reach({
      libp2p,
      store,
      ...(identity.identityKey != null ? { identityKey: identity.identityKey } : {}),
      certificate: identity.certificate,
      deviceList: () => node.devices.signedList(),
      onDeviceList: (device, list) => { void node.devices.takePublishedList(device, list) },
      presenceRefused,
      ...(mailbox != null ? { mailbox: mailbox.server } : {}),
      ...(relayGate != null ? { relayGate } : {}),
      ...options.reach
    })
    node = new DefaultKithNode(libp2p, store, name, verifyDeviceCertificate(identity.certificate).identity, ownsStore, identity, reach, options.groups, options.autoDownloadBytes)
    node.mailboxDb = mailbox?.db
    node.tempFilesDir = tempFilesDir
    if (options.start !== false) {
      try {
        await node.start()
      } catch (err: any) {
        // The saved ports are taken (another program got them): fall back to fresh ones.
        if (reusePorts && (saved.tcp != null || saved.ws != null) && err?.name === 'UnsupportedListenAddressesError') {
          try { await libp2p.stop() } catch {}
          await savePorts(requireHome(options), {})
          if (ownsStore) await store.close()
          await mailbox?.db.close()
          return await createKithNode(options)
        }
        throw err
      }
      if (reusePorts) await savePorts(requireHome(options), listeningPorts(libp2p))
    }
    return node
  } catch (err) {
    if (ownsStore) await store.close()
    await mailbox?.db.close()
    if (tempFilesDir != null) await rm(tempFilesDir, { recursive: true, force: true })
    throw err
  }
}

/** Messaging's reach hooks, for a Reach made after messaging (it needs the libp2p node). */
function lateHooks (reach: () => Reach): ReachHooks {
  return {
    locate: async (peer) => await reach().locate(peer),
    deposit: async (peer, envelopes) => await reach().deposit(peer, envelopes),
    prekeys: async (peer) => await reach().publishedPrekeys(peer)
  }
}

/** The mailbox a relay keeps for its friends: its own LevelDB (in memory for in-memory nodes). */
async function openMailbox (path: string | undefined, contactOf: (peer: string) => Promise<string | undefined>, options: MailboxOptions = {}): Promise<{ db: MailboxDb, server: MailboxServer }> {
  const db: MailboxDb = path != null ? new Level<string, any>(path) : new MemoryLevel<string, any>()
  await db.open()
  const mailboxStore = new MailboxStore(db, options)
  try {
    await mailboxStore.open()
  } catch (err) {
    await db.close()
    throw err
  }
  return { db, server: new MailboxServer({ store: mailboxStore, contactOf }) }
}

/**
 * The mailbox's sealing under the home's data key (it records who writes to whom): values
 * sealed like every record, and peer ids in its keys replaced by HMACs under a key derived
 * from the data key. Nodes without a home (tests) keep their mailbox in memory, unsealed.
 */
function sealingOf (dataKey: Uint8Array | undefined): { sealing?: MailboxSealing } {
  if (dataKey == null) return {}
  const tagKey = new Uint8Array(hkdfSync('sha256', dataKey, new Uint8Array(0), 'kith/mailbox/key-tags/v1', 32))
  return { sealing: { ...recordCipher(dataKey), tagKey } }
}

function gateLimits (relay: RelayOptions): RelayGateLimits {
  return {
    reservationsPerContact: relay.reservationsPerContact ?? RELAY_DEFAULTS.reservationsPerContact,
    strangerCircuitsPerSource: relay.strangerCircuitsPerSource ?? RELAY_DEFAULTS.strangerCircuitsPerSource,
    strangerCircuits: relay.strangerCircuits ?? RELAY_DEFAULTS.strangerCircuits
  }
}

/** Reservation limits for a relay: friends relay generously (libp2p's defaults, 2 minutes and 128 KiB a connection, suit strangers). */
function relayLimits (relay: RelayOptions): ServerReservationStoreInit {
  return {
    maxReservations: relay.maxReservations ?? RELAY_DEFAULTS.maxReservations,
    applyDefaultLimit: true,
    defaultDurationLimit: relay.durationLimitMs ?? RELAY_DEFAULTS.durationLimitMs,
    defaultDataLimit: BigInt(relay.dataLimitBytes ?? RELAY_DEFAULTS.dataLimitBytes)
  }
}

function listeningPorts (libp2p: Libp2p): { tcp?: number, ws?: number } {
  const ports: { tcp?: number, ws?: number } = {}
  for (const addr of libp2p.getMultiaddrs().map(String)) {
    const match = /\/tcp\/(\d+)(\/ws)?(\/|$)/.exec(addr)
    if (match == null) continue
    if (match[2] != null) ports.ws ??= Number(match[1])
    else ports.tcp ??= Number(match[1])
  }
  return ports
}

/** An identity for a node given its key directly (tests): the given identity key, or a new one. */
async function ephemeralIdentity (privateKey: PrivateKey, identityKey: PrivateKey | undefined, name = 'kith user'): Promise<{ privateKey: PrivateKey, identityKey: PrivateKey, certificate: Uint8Array, name: string, dataKey: undefined }> {
  const identity = identityKey ?? await generateIdentityKey()
  return { privateKey, identityKey: identity, certificate: issueDeviceCertificate(identity, privateKey.publicKey), name, dataKey: undefined }
}

function requireHome (options: KithNodeOptions): string {
  if (options.home == null) throw new TypeError('createKithNode needs a home folder or a private key')
  return options.home
}

/** A gossipsub message id: the SHA-256 of its data (there is no author or sequence number to use). */
function contentMessageId (message: { data: Uint8Array }): Uint8Array {
  return createHash('sha256').update(message.data).digest()
}
