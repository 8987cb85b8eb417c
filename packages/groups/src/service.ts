import { randomBytes } from 'node:crypto'
import { EmptyMessageError, KithError, LIMITS, MessageTooLargeError, UnknownContactError } from '@kith/core'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { SYNC_PROTOCOL, catchUp, serveCatchUp } from './catch-up.js'
import { GroupChannel } from './channel.js'
import { KithGroup, decodeKeyPackage, encodeKeyPackage, InvalidGroupMessageError } from './group.js'
import { checkGroupName } from './group-meta.js'
import { deviceKeyPackage } from './mls.js'
import { GroupInvite } from './proto/group.js'
import { GroupReplica } from './replica.js'
import type { GroupPubSub } from './channel.js'
import type { GroupMessage } from './replica.js'
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { KithStore, MessageRecord, StoreOp } from '@kith/store'

/** Contacts fetch a fresh key package of this device here, to add it to a group. */
export const KEY_PACKAGE_PROTOCOL = '/kith/keypackage/1.0.0'
/** An admin hands a new member its Welcome and the group's topic secret here. */
export const GROUP_INVITE_PROTOCOL = '/kith/group-invite/1.0.0'

const MAX_FRAME_BYTES = 1024 * 1024
const TIMEOUT_MS = 10_000
const GROUPS = 'groups/'
const KEY_PACKAGES = 'mls/key-package/'

/** No group has that id or name. */
export class UnknownGroupError extends KithError { static override name = 'UnknownGroupError' }

/** A group as `kith groups` shows it. */
export interface GroupView { group: string, name: string, members: number, epoch: number, admin: boolean }

/** What the group service needs of the node around it. */
export interface GroupServiceInit {
  peerId: PeerId
  deviceKey: PrivateKey
  certificate: Uint8Array
  store: KithStore
  pubsub: GroupPubSub
  handle: (protocol: string, handler: (stream: Stream, connection: Connection) => void) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  dial: (peer: PeerId, protocol: string) => Promise<Stream>
  /** Whether a peer (id string) is one of our contacts: only contacts get key packages and invites. */
  isContact: (peer: string) => Promise<boolean>
}

export interface GroupServiceEvents {
  /** A text new to a group's history (ours or someone's). */
  'group:message': CustomEvent<MessageRecord>
}

interface Entry { channel: GroupChannel, topicSecret: Uint8Array }
interface StoredGroup { name: string, topicSecret: Uint8Array, state: Uint8Array }

/**
 * The groups this device is in: each a replica on its gossipsub channel, stored (state sealed
 * at rest) after every change together with the texts it brought, in one batch. Serves key
 * packages and invites to contacts, and catch-up to fellow members.
 */
export class GroupService extends TypedEventEmitter<GroupServiceEvents> {
  private readonly groups = new Map<string, Entry>()
  /** One change per group at a time, in order: a replica is not re-entrant. */
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor (private readonly init: GroupServiceInit) { super() }

  async start (): Promise<void> {
    for (const [name, stored] of await this.init.store.listSecrets<StoredGroup>(GROUPS)) {
      this.open(name.slice(GROUPS.length), KithGroup.fromBytes(stored.state), stored.topicSecret)
    }
    await this.init.handle(KEY_PACKAGE_PROTOCOL, (stream, connection) => { void this.serveKeyPackage(stream, connection) })
    await this.init.handle(GROUP_INVITE_PROTOCOL, (stream, connection) => { void this.serveInvite(stream, connection) })
    await this.init.handle(SYNC_PROTOCOL, (stream, connection) => {
      void serveCatchUp(stream, connection.remotePeer, id => this.groups.get(id)?.channel.replica).catch(() => {})
    })
  }

  async stop (): Promise<void> {
    for (const { channel } of this.groups.values()) channel.stop()
    this.groups.clear()
    for (const protocol of [KEY_PACKAGE_PROTOCOL, GROUP_INVITE_PROTOCOL, SYNC_PROTOCOL]) await this.init.unhandle(protocol)
  }

  /** Create a group with this device as its only member and admin. */
  async create (name: string): Promise<GroupView> {
    const own = await deviceKeyPackage(this.init.deviceKey, this.init.certificate)
    const group = await KithGroup.create(checkGroupName(name), own.publicPackage, own.privatePackage)
    const topicSecret = randomBytes(32)
    await this.save(group, topicSecret, [])
    this.open(group.id, group, topicSecret)
    return this.view(group.id)
  }

  list (): GroupView[] { return [...this.groups.keys()].map(id => this.view(id)) }

  /**
   * A group by id or name.
   *
   * @throws {UnknownGroupError}
   */
  resolve (idOrName: string): string {
    if (this.groups.has(idOrName)) return idOrName
    const named = [...this.groups.entries()].filter(([, e]) => e.channel.replica.head.meta().name === idOrName)
    if (named.length === 1) return (named[0] as [string, Entry])[0]
    throw new UnknownGroupError(named.length > 1 ? `several groups are named "${idOrName}": use the id` : `no group ${idOrName}`)
  }

  /** Whether `idOrName` names a group of ours. */
  has (idOrName: string): boolean {
    try { this.resolve(idOrName); return true } catch { return false }
  }

  /**
   * Add a contact's device: fetch a key package from it (it must be online), commit the add
   * for the group, and hand it the Welcome.
   */
  async add (idOrName: string, contactPeerId: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    if (!await this.init.isContact(contactPeerId)) throw new UnknownContactError(`${contactPeerId} is not a contact`)
    const contact = peerIdFromString(contactPeerId)
    if (this.entry(id).channel.replica.head.members().some(m => m.device === contactPeerId)) return this.view(id)
    const { keyPackage, keyPackageId } = await this.fetchKeyPackage(contact)
    const entry = this.entry(id)
    await this.serially(id, async () => {
      const { group, commit, welcome } = await entry.channel.replica.head.add([keyPackage])
      // The new state first, then the commit for the others, then the Welcome for the new member.
      await entry.channel.adopt(group, [commit])
      await this.save(group, entry.topicSecret, [])
      await this.invite(contact, { name: group.meta().name, topicSecret: entry.topicSecret, welcome, keyPackageId })
    })
    return this.view(id)
  }

  /** Send a text to a group. */
  async send (idOrName: string, text: string): Promise<MessageRecord> {
    if (text.length === 0) throw new EmptyMessageError('message is empty')
    if (Buffer.byteLength(text) > LIMITS.maxTextBytes) throw new MessageTooLargeError(`message is longer than ${LIMITS.maxTextBytes} bytes`)
    const id = this.resolve(idOrName)
    const entry = this.entry(id)
    const before = new Set(entry.channel.replica.history().map(m => m.id))
    await this.serially(id, async () => await entry.channel.send(text))
    const sent = entry.channel.replica.history().find(m => !before.has(m.id) && m.sender === this.init.peerId.toString())
    if (sent == null) throw new InvalidGroupMessageError('the text was not sent')
    const [record] = await this.persist(id, [sent])
    return record ?? await this.recordOf(id, sent)
  }

  /** Ask a member for what we missed (commits and texts). */
  async catchUp (idOrName: string, from: PeerId): Promise<void> {
    const id = this.resolve(idOrName)
    const entry = this.entry(id)
    await this.serially(id, async () => { await catchUp(await this.init.dial(from, SYNC_PROTOCOL), entry.channel.replica) })
    await this.persist(id, entry.channel.replica.history())
  }

  private open (id: string, group: KithGroup, topicSecret: Uint8Array): void {
    const channel = new GroupChannel(this.init.pubsub, new GroupReplica(group), topicSecret)
    channel.addEventListener('message', (evt) => { void this.persist(id, [evt.detail]).catch(() => {}) })
    // A member on the topic again (or for the first time since we started): ask it for what we
    // missed meanwhile. Gossip does not replay; it refuses us if it is no member.
    channel.addEventListener('peer', (evt) => {
      if (channel.replica.head.members().some(m => m.device === evt.detail.toString())) void this.catchUp(id, evt.detail).catch(() => {})
    })
    channel.start()
    this.groups.set(id, { channel, topicSecret })
  }

  /** Store the group's head state with these texts (the new ones), in one batch; announce them. */
  private async persist (id: string, messages: GroupMessage[]): Promise<MessageRecord[]> {
    const entry = this.groups.get(id)
    if (entry == null) return []
    const claim = await this.init.store.claim(messages.map(m => m.id))
    try {
      const records = await this.init.store.appendClaimed(messages.map(m => this.newRecord(id, m)), claim, [this.stateOp(entry.channel.replica.head, entry.topicSecret)])
      const stored = records.filter((r): r is MessageRecord => r != null)
      for (const record of stored) this.safeDispatchEvent('group:message', { detail: record })
      return stored
    } finally {
      claim.release()
    }
  }

  private async save (group: KithGroup, topicSecret: Uint8Array, ops: StoreOp[]): Promise<void> {
    await this.init.store.commit([this.stateOp(group, topicSecret), ...ops])
  }

  private stateOp (group: KithGroup, topicSecret: Uint8Array): StoreOp {
    return this.init.store.putLatestSecret(`${GROUPS}${group.id}`, { name: group.meta().name, topicSecret, state: group.toBytes() } satisfies StoredGroup)
  }

  private newRecord (id: string, m: GroupMessage): { id: string, conversation: string, from: string, text: string, ts: number, status: MessageRecord['status'] } {
    const mine = m.sender === this.init.peerId.toString()
    return { id: m.id, conversation: id, from: m.sender, text: m.text, ts: m.ts, status: mine ? 'sent' : 'received' }
  }

  private async recordOf (id: string, m: GroupMessage): Promise<MessageRecord> {
    return await this.init.store.getMessage(m.id) ?? { ...this.newRecord(id, m), seq: 0 }
  }

  private view (id: string): GroupView {
    const head = this.entry(id).channel.replica.head
    return { group: id, name: head.meta().name, members: head.members().length, epoch: Number(head.epoch), admin: head.isAdmin(head.ownLeaf) }
  }

  private entry (id: string): Entry {
    const entry = this.groups.get(id)
    if (entry == null) throw new UnknownGroupError(`no group ${id}`)
    return entry
  }

  private async serially<T> (id: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(fn)
    this.queues.set(id, run.catch(() => {}))
    return await run
  }

  // ---- key packages and invites, between contacts ----

  private async fetchKeyPackage (peer: PeerId): Promise<{ keyPackage: ReturnType<typeof decodeKeyPackage>, keyPackageId: Uint8Array }> {
    const stream = await this.init.dial(peer, KEY_PACKAGE_PROTOCOL)
    const bytes = (await lpStream(stream, { maxDataLength: MAX_FRAME_BYTES }).read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray()
    await stream.close().catch(() => {})
    const keyPackage = decodeKeyPackage(bytes)
    return { keyPackage, keyPackageId: keyPackage.initKey }
  }

  private async serveKeyPackage (stream: Stream, connection: Connection): Promise<void> {
    try {
      if (!await this.init.isContact(connection.remotePeer.toString())) throw new UnknownContactError('key packages are for contacts')
      const { publicPackage, privatePackage } = await deviceKeyPackage(this.init.deviceKey, this.init.certificate)
      // Kept (sealed) until a Welcome names it.
      await this.init.store.commit([this.init.store.putSecret(`${KEY_PACKAGES}${Buffer.from(publicPackage.initKey).toString('hex')}`, { publicPackage: encodeKeyPackage(publicPackage), privatePackage })])
      await lpStream(stream, { maxDataLength: MAX_FRAME_BYTES }).write(encodeKeyPackage(publicPackage))
      await stream.close()
    } catch (err: any) {
      stream.abort(err)
    }
  }

  private async invite (peer: PeerId, invite: { name: string, topicSecret: Uint8Array, welcome: Uint8Array, keyPackageId: Uint8Array }): Promise<void> {
    const stream = await this.init.dial(peer, GROUP_INVITE_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
    await lp.write(GroupInvite.encode(invite as GroupInvite))
    const answer = (await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray()
    await stream.close().catch(() => {})
    if (answer[0] !== 1) throw new InvalidGroupMessageError('the new member could not join')
  }

  private async serveInvite (stream: Stream, connection: Connection): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
    try {
      if (!await this.init.isContact(connection.remotePeer.toString())) throw new UnknownContactError('invites come from contacts')
      const invite = GroupInvite.decode((await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray())
      const key = `${KEY_PACKAGES}${Buffer.from(invite.keyPackageId).toString('hex')}`
      const stored = await this.init.store.getSecret<{ publicPackage: Uint8Array, privatePackage: any }>(key)
      if (stored == null) throw new InvalidGroupMessageError('the Welcome names no key package of ours')
      const group = await KithGroup.join(invite.welcome, decodeKeyPackage(stored.publicPackage), stored.privatePackage)
      if (!this.groups.has(group.id)) {
        await this.save(group, invite.topicSecret, [this.init.store.delSecret(key)])
        this.open(group.id, group, invite.topicSecret)
      }
      await lp.write(Uint8Array.of(1))
      await stream.close()
    } catch (err: any) {
      await lp.write(Uint8Array.of(0)).catch(() => {})
      stream.abort(err)
    }
  }
}
