import { randomBytes } from 'node:crypto'
import { EmptyMessageError, InvalidMessageError, KithError, LIMITS, MessageTooLargeError, UnknownContactError } from '@kith/core'
import type { FileOffer } from '@kith/core'
import { fileOfferOf, messageFileOf } from '@kith/store'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from '@libp2p/interface'
import { SYNC_PROTOCOL, serveCatchUp } from './catch-up.js'
import { GroupChannel } from './channel.js'
import { KEY_PACKAGE_PROTOCOL, KEY_PACKAGE_TOPIC, KeyPackages } from './key-packages.js'
import type { KeyPackageMetrics } from './key-packages.js'
import { GroupPermissionError, KithGroup, InvalidGroupMessageError } from './group.js'
import type { GroupMember } from './group.js'
import { checkGroupName } from './group-meta.js'
import { deviceKeyPackage } from './mls.js'
import { GroupInvite } from './proto/group.js'
import { GroupReplica } from './replica.js'
import { fileInText, fileText } from './text.js'
import type { GroupPubSub } from './channel.js'
import type { GroupMessage, KeptCommit, PendingIntent } from './replica.js'
import type { Connection, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { KithStore, MessageRecord, StoreOp } from '@kith/store'

/** Control topic (over the 1:1 E2EE channel) on which an admin hands a new member its Welcome and the group's topic secret. */
export const INVITE_TOPIC = 'groups/invite'

const GROUPS = 'groups/'
const SYNC_EVERY_MS = 15_000
/** The first anti-entropy round after start: soon, for groups whose members moved to a new topic meanwhile. */
const FIRST_SYNC_MS = 1_000
/** The chain's kept commits of a group, `group-commits/<group>/<epoch, 16 hex digits>`. */
const COMMITS = 'group-commits/'

/** No group has that id or name. */
export class UnknownGroupError extends KithError { static override name = 'UnknownGroupError' }

/**
 * Where this device stands in a group: a member; `leaving` (asked to leave, waiting for an
 * admin to commit it); `left`; or `removed` by an admin. Those who left or were removed keep
 * the history up to then, and get nothing after.
 */
export type GroupState = 'member' | 'leaving' | 'left' | 'removed'

/** A group as `kith groups` shows it. */
export interface GroupView { group: string, name: string, members: number, epoch: number, admin: boolean, state: GroupState }

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
  /** Our contacts' peer ids. */
  contacts: () => Promise<string[]>
  /** The 1:1 E2EE channel's durable control messages (see Messaging.sendControl). */
  sendControl: (peer: string, topic: string, payload: Uint8Array, extra: StoreOp[]) => Promise<void>
  handleControl: (topic: string, handler: (from: string, payload: Uint8Array) => Promise<{ ops: StoreOp[], after?: () => void }>) => void
  /** How often each group catches up with a random member on its topic (default 15 s). */
  syncEveryMs?: number
}

export interface GroupServiceEvents {
  /** A text new to a group's history (ours or someone's). */
  'group:message': CustomEvent<MessageRecord>
}

interface Entry { channel: GroupChannel, joined: number, leaving: boolean, removed: boolean }
/**
 * A group as stored (sealed at rest): the head state and its topic secret, `joined` (the epoch
 * we joined at; absent: 0), and the admin actions still pending or not yet final (`intents`).
 */
interface StoredGroup { name: string, topicSecret: Uint8Array, state: Uint8Array, joined?: number, leaving?: boolean, removed?: boolean, intents?: PendingIntent[] }
type GroupSettings = Omit<StoredGroup, 'name' | 'state'>

/**
 * The groups this device is in: each a replica on its gossipsub channel, stored (state sealed
 * at rest) after every change together with the texts it brought, in one batch. Serves key
 * packages and invites to contacts, and catch-up to fellow members.
 */
export class GroupService extends TypedEventEmitter<GroupServiceEvents> {
  private readonly groups = new Map<string, Entry>()
  /** One change per group at a time, in order: a replica is not re-entrant. */
  private readonly queues = new Map<string, Promise<unknown>>()

  private syncTimer?: ReturnType<typeof setInterval>
  private firstSync?: ReturnType<typeof setTimeout>
  /** Resolves once the stored groups are open: control messages that arrive before wait for it. */
  private readonly ready = Promise.withResolvers<void>()
  private readonly keyPackages: KeyPackages

  constructor (private readonly init: GroupServiceInit) {
    super()
    this.keyPackages = new KeyPackages(init)
    // Taken from the moment messaging runs, so a Welcome queued for us is never refused.
    init.handleControl(KEY_PACKAGE_TOPIC, async (from, payload) => this.keyPackages.take(from, payload))
    init.handleControl(INVITE_TOPIC, async (from, payload) => { await this.ready.promise; return await this.takeInvite(from, payload) })
  }

  async start (): Promise<void> {
    try {
      for (const [name, stored] of await this.init.store.listSecrets<StoredGroup>(GROUPS)) {
        const id = name.slice(GROUPS.length)
        const commits = await this.init.store.listSecrets<KeptCommit>(`${COMMITS}${id}/`)
        this.open(id, KithGroup.fromBytes(stored.state), stored, commits.map(([key, kept]) => [BigInt(`0x${key.slice(-16)}`), kept]), await this.storedHistory(id))
      }
    } catch (err) {
      // Invites must not wait forever (holding their sender's session) for a start that failed.
      this.ready.resolve()
      throw err
    }
    await this.init.handle(KEY_PACKAGE_PROTOCOL, (stream, connection) => { void this.keyPackages.serve(stream, connection) })
    await this.init.handle(SYNC_PROTOCOL, (stream, connection) => {
      // Texts the requester handed over are stored like any others.
      void serveCatchUp(stream, connection.remotePeer, id => this.groups.get(id)?.channel.replica)
        .then(async ({ group, added }) => await this.persist(group, added)).catch(() => {})
    })
    this.ready.resolve()
    void this.offerKeyPackages().catch(() => {})
    const every = this.init.syncEveryMs ?? SYNC_EVERY_MS
    this.syncTimer = setInterval(() => { this.syncRound() }, every)
    this.syncTimer.unref?.()
    this.firstSync = setTimeout(() => { this.syncRound() }, Math.min(every, FIRST_SYNC_MS))
    this.firstSync.unref?.()
  }

  /**
   * Anti-entropy: for each group we are in, catch up with one member on the topic, picked at
   * random. Gossip can lose a message (a connection that drops at the wrong moment); this
   * brings it back without waiting for someone to come online. When no member is on our topic,
   * the group may have moved to a new one while we were away (a removal changes it): a member
   * picked at random is asked directly, and catching up brings us onto the new topic.
   */
  private syncRound (): void {
    const self = this.init.peerId.toString()
    for (const [id, entry] of this.groups) {
      if (this.state(entry) !== 'member' && this.state(entry) !== 'leaving') continue
      const devices = entry.channel.replica.head.members().map(m => m.device).filter(d => d !== self)
      const onTopic = new Set(this.init.pubsub.getSubscribers(entry.channel.topic).map(p => p.toString()))
      const here = devices.filter(d => onTopic.has(d))
      const pool = here.length > 0 ? here : devices
      const peer = pool[Math.floor(Math.random() * pool.length)]
      if (peer != null) void this.catchUp(id, peerIdFromString(peer)).catch(() => {})
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.syncTimer)
    clearTimeout(this.firstSync)
    for (const { channel } of this.groups.values()) channel.stop()
    this.groups.clear()
    for (const protocol of [KEY_PACKAGE_PROTOCOL, SYNC_PROTOCOL]) await this.init.unhandle(protocol)
  }

  /** Create a group with this device as its only member and admin. */
  async create (name: string): Promise<GroupView> {
    const own = await deviceKeyPackage(this.init.deviceKey, this.init.certificate)
    const group = await KithGroup.create(checkGroupName(name), own.publicPackage, own.privatePackage)
    const stored = { topicSecret: randomBytes(32), joined: Number(group.epoch) }
    await this.init.store.commit([this.stateOp(group, stored)])
    this.open(group.id, group, stored)
    return this.view(group.id)
  }

  list (): GroupView[] { return [...this.groups.keys()].map(id => this.view(id)) }

  /** The groups we are an admin of (as members, not leaving), with their members: to keep each user's devices in them. */
  administered (): Array<{ group: string, members: GroupMember[] }> {
    return [...this.groups.keys()].filter(id => { const v = this.view(id); return v.admin && v.state === 'member' }).map(id => ({ group: id, members: this.entry(id).channel.replica.head.members() }))
  }

  /**
   * Remove one device of a member (one its user revoked); the user's other devices stay.
   * Admins only; nothing to do when it is no member.
   *
   * @throws {GroupPermissionError} when we are no admin
   */
  async removeDevice (idOrName: string, device: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    if (!this.entry(id).channel.replica.head.members().some(m => m.device === device)) return this.view(id)
    this.requireAdmin(id, 'remove members')
    await this.serially(id, async () => { await this.entry(id).channel.intend({ kind: 'remove', who: device }) })
    return this.view(id)
  }

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

  /** The name of a group of ours, by id (undefined when we are in none with that id). */
  nameOf (id: string): string | undefined { return this.groups.get(id)?.channel.replica.head.meta().name }

  /** Whether `idOrName` names a group of ours. */
  has (idOrName: string): boolean {
    try { this.resolve(idOrName); return true } catch { return false }
  }

  /**
   * Add a contact's device, with the key package it gave us (or, when we hold none, one it
   * hands over now, online): commit the add, and queue the Welcome for it over the 1:1 E2EE
   * channel, so it joins when it is next online.
   *
   * @throws {NoKeyPackageError} when we hold no key package of the contact and it is offline
   */
  async add (idOrName: string, contactPeerId: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    if (!await this.init.isContact(contactPeerId)) throw new UnknownContactError(`${contactPeerId} is not a contact`)
    this.requireAdmin(id, 'add members')
    if (this.entry(id).channel.replica.head.members().some(m => m.device === contactPeerId)) return this.view(id)
    const { keyPackage, spent } = await this.keyPackages.of(peerIdFromString(contactPeerId))
    const entry = this.entry(id)
    await this.serially(id, async () => {
      await entry.channel.commitOwn(async head => {
        const { group, commit, welcome } = await head.add([keyPackage])
        // An add changes no topic: the new member joins the one we are on.
        const topicSecret = entry.channel.replica.topicSecret as Uint8Array<ArrayBuffer>
        // The group's new state, the Welcome queued for the new member, and its key package spent:
        // one batch, before the commit goes out (nothing goes out if it can't be queued).
        const invite = GroupInvite.encode({ name: group.meta().name, topicSecret, welcome: welcome as Uint8Array<ArrayBuffer>, keyPackageId: keyPackage.initKey as Uint8Array<ArrayBuffer> })
        await this.init.sendControl(contactPeerId, INVITE_TOPIC, invite, [this.stateOp(group, this.settingsOf(entry)), ...spent])
        return { group, commit }
      })
    })
    return this.view(id)
  }

  /** What contacts tried to make us store about key packages and were refused (see {@link KeyPackages}). */
  get keyPackageMetrics (): KeyPackageMetrics { return this.keyPackages.metrics }

  /** Whether we hold a key package of this contact (so it can be added while offline). */
  async canAdd (contactPeerId: string): Promise<boolean> { return await this.keyPackages.holds(contactPeerId) }

  /** Hand every contact that holds no key package of ours a fresh one (see {@link KeyPackages.offer}). */
  async offerKeyPackages (): Promise<void> { await this.keyPackages.offer() }

  /**
   * Remove a member (every device of its user). Admins only; committed at once, or as soon as
   * a commit racing for this epoch is settled.
   *
   * @throws {GroupPermissionError} when we are no admin, or the contact is no member
   */
  async remove (idOrName: string, contactPeerId: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    const who = this.memberIdentity(id, contactPeerId)
    this.requireAdmin(id, 'remove members')
    await this.serially(id, async () => { await this.entry(id).channel.intend({ kind: 'remove', who }) })
    return this.view(id)
  }

  /**
   * Make a member's user an admin. Admins only.
   *
   * @throws {GroupPermissionError} when we are no admin, or the contact is no member
   */
  async promote (idOrName: string, contactPeerId: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    const who = this.memberIdentity(id, contactPeerId)
    this.requireAdmin(id, 'promote members')
    await this.serially(id, async () => { await this.entry(id).channel.intend({ kind: 'promote', who }) })
    return this.view(id)
  }

  /**
   * Rename a group. Admins only.
   *
   * @throws {GroupPermissionError} when we are no admin
   * @throws {InvalidMessageError} when the name is empty or too long
   */
  async rename (idOrName: string, name: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    this.requireAdmin(id, 'rename the group')
    const checked = checkGroupName(name)
    await this.serially(id, async () => { await this.entry(id).channel.intend({ kind: 'rename', name: checked }) })
    return this.view(id)
  }

  /**
   * Leave a group: ask its admins to remove this device (the last admin first hands over to
   * another member). The request is kept and asked again whenever a member comes online,
   * until an admin commits it; the group then shows as `left`.
   */
  async leave (idOrName: string): Promise<GroupView> {
    const id = this.resolve(idOrName)
    const entry = this.entry(id)
    if (entry.removed || entry.leaving) return this.view(id)
    entry.leaving = true
    await this.persist(id, [])
    if (entry.channel.replica.head.members().length === 1) {
      // Nobody else is in it: nothing to commit.
      entry.channel.stop()
      return this.view(id)
    }
    await this.serially(id, async () => { await entry.channel.intend({ kind: 'leave' }) })
    return this.view(id)
  }

  /** Send a text to a group. */
  async send (idOrName: string, text: string): Promise<MessageRecord> {
    if (text.length === 0) throw new EmptyMessageError('message is empty')
    if (Buffer.byteLength(text) > LIMITS.maxTextBytes) throw new MessageTooLargeError(`message is longer than ${LIMITS.maxTextBytes} bytes`)
    // NUL starts the texts that carry files.
    if (text.startsWith('\u0000')) throw new InvalidMessageError('a text may not start with a NUL character')
    return await this.sendText(idOrName, text)
  }

  /** Send a file offer to a group (the chunks travel on `/kith/files/1.0.0`, from any member that has them). */
  async sendFile (idOrName: string, offer: FileOffer): Promise<MessageRecord> {
    return await this.sendText(idOrName, fileText(offer))
  }

  private async sendText (idOrName: string, text: string): Promise<MessageRecord> {
    const id = this.resolve(idOrName)
    const entry = this.entry(id)
    const state = this.state(entry)
    if (state === 'left' || state === 'removed') throw new GroupPermissionError(`you ${state === 'left' ? 'left' : 'were removed from'} this group`)
    const textId = randomBytes(16).toString('hex')
    // Stored with the state it advanced before it goes out (see GroupChannelInit.save).
    await this.serially(id, async () => { await entry.channel.send(text, textId) })
    const sent = entry.channel.replica.message(textId)
    if (sent == null) throw new InvalidGroupMessageError('the text was not sent')
    return await this.recordOf(id, sent)
  }

  /** The devices (peer ids) in a group now, ours included. @throws {UnknownGroupError} */
  members (idOrName: string): string[] {
    return this.entry(this.resolve(idOrName)).channel.replica.head.members().map(m => m.device)
  }

  /** Ask a member for what we missed (commits and texts). */
  async catchUp (idOrName: string, from: PeerId): Promise<void> {
    const id = this.resolve(idOrName)
    const entry = this.entry(id)
    // What it brings is announced by the channel, and stored from there like what arrives on the topic.
    await this.serially(id, async () => { await entry.channel.catchUp(await this.init.dial(from, SYNC_PROTOCOL)) })
  }

  private open (id: string, group: KithGroup, stored: GroupSettings, commits: Array<[bigint, KeptCommit]> = [], history: GroupMessage[] = []): void {
    const joined = stored.joined ?? 0
    const replica = new GroupReplica(group, BigInt(joined), commits, { topicSecret: stored.topicSecret, intents: stored.intents })
    // The history we hold, to hand to members who missed some of it (not announced again).
    replica.merge(history)
    const channel: GroupChannel = new GroupChannel(this.init.pubsub, replica, undefined, {
      // Every change the replica makes is stored, with the texts it brought, in one batch; before
      // anything it made goes out.
      save: async (texts) => {
        if (replica.removed) entry.removed = true
        await this.persist(id, texts)
      }
    })
    const entry: Entry = { channel, joined, leaving: stored.leaving === true, removed: stored.removed === true }
    this.groups.set(id, entry)
    // Once out of a group (left or removed), a device stays out: it no longer listens.
    if (entry.removed || (entry.leaving && group.members().length === 1)) return
    channel.addEventListener('change', () => { if (replica.removed) channel.stop() })
    // A member on the topic again (or for the first time since we started): ask it for what we
    // missed meanwhile (gossip does not replay), and ask again to leave if we are leaving.
    channel.addEventListener('peer', (evt) => {
      if (!channel.replica.head.members().some(m => m.device === evt.detail.toString())) return
      void this.catchUp(id, evt.detail).catch(() => {})
      if (entry.leaving) void this.serially(id, async () => { await channel.intend({ kind: 'leave' }) }).catch(() => {})
    })
    channel.start()
  }

  /**
   * Store the group's head state, with these texts (the new ones) and the changes to its kept
   * commits, in one batch; announce the texts.
   * One save per group at a time, so a later state is never overwritten by an earlier one.
   */
  private async persist (id: string, messages: GroupMessage[]): Promise<MessageRecord[]> {
    const entry = this.groups.get(id)
    if (entry == null) return []
    return await this.serially(`save/${id}`, async () => {
      const claim = await this.init.store.claim(messages.map(m => m.id))
      try {
        const commits = entry.channel.replica.takeCommitChanges().map(([epoch, kept]) => {
          const key = `${COMMITS}${id}/${epoch.toString(16).padStart(16, '0')}`
          return kept == null ? this.init.store.delSecret(key) : this.init.store.putSecret(key, kept)
        })
        const records = await this.init.store.appendClaimed(messages.map(m => this.newRecord(id, m)), claim, [this.stateOp(entry.channel.replica.head, this.settingsOf(entry)), ...commits])
        const stored = records.filter((r): r is MessageRecord => r != null)
        for (const record of stored) this.safeDispatchEvent('group:message', { detail: record })
        return stored
      } finally {
        claim.release()
      }
    })
  }

  private stateOp (group: KithGroup, { topicSecret, joined, leaving, removed, intents }: GroupSettings): StoreOp {
    return this.init.store.putLatestSecret(`${GROUPS}${group.id}`, { name: group.meta().name, topicSecret, state: group.toBytes(), joined: joined ?? 0, leaving: leaving === true, removed: removed === true, intents: intents ?? [] } satisfies StoredGroup)
  }

  /** What is stored with a group's state, as it stands. */
  private settingsOf (entry: Entry): GroupSettings {
    const { replica } = entry.channel
    return { topicSecret: replica.topicSecret as Uint8Array, joined: entry.joined, leaving: entry.leaving, removed: entry.removed, intents: replica.intents() }
  }

  private newRecord (id: string, m: GroupMessage): Omit<MessageRecord, 'seq'> {
    const mine = m.sender === this.init.peerId.toString()
    const file = fileInText(m.text)
    const content = file != null ? { text: '', file: messageFileOf(file) } : { text: m.text }
    return { id: m.id, conversation: id, from: m.sender, ...content, ts: m.ts, status: mine ? 'sent' : 'received', epoch: Number(m.epoch), signature: Buffer.from(m.signature).toString('hex'), ...(m.generation != null ? { generation: m.generation } : {}) }
  }

  /** A group's whole stored history, as texts (records from before epochs and signatures were stored count as epoch 0, and carry none: others drop them). */
  private async storedHistory (id: string): Promise<GroupMessage[]> {
    const texts: GroupMessage[] = []
    for (let page = await this.init.store.history(id, { limit: LIMITS.maxPageSize }); page.length > 0; page = await this.init.store.history(id, { limit: LIMITS.maxPageSize, before: (page[0] as MessageRecord).seq })) {
      texts.unshift(...page.map(r => ({ id: r.id, sender: r.from, ts: r.ts, text: r.file != null ? fileText(fileOfferOf(r.file)) : r.text, epoch: BigInt(r.epoch ?? 0), signature: Buffer.from(r.signature ?? '', 'hex'), ...(r.generation != null ? { generation: r.generation } : {}) })))
    }
    return texts
  }

  private async recordOf (id: string, m: GroupMessage): Promise<MessageRecord> {
    return await this.init.store.getMessage(m.id) ?? { ...this.newRecord(id, m), seq: 0 }
  }

  private view (id: string): GroupView {
    const entry = this.entry(id)
    const head = entry.channel.replica.head
    const state = this.state(entry)
    return { group: id, name: head.meta().name, members: head.members().length, epoch: Number(head.epoch), admin: state !== 'left' && state !== 'removed' && head.isAdmin(head.ownLeaf), state }
  }

  private state (entry: Entry): GroupState {
    if (entry.removed || entry.channel.replica.removed) return entry.leaving ? 'left' : 'removed'
    if (entry.leaving) return entry.channel.replica.head.members().length === 1 ? 'left' : 'leaving'
    return 'member'
  }

  /** The identity of the user whose device `peerId` is in the group. @throws {GroupPermissionError} */
  private memberIdentity (id: string, peerId: string): string {
    const member = this.entry(id).channel.replica.head.members().find(m => m.device === peerId)
    if (member == null) throw new GroupPermissionError('that contact is not a member of this group')
    return member.identity
  }

  private requireAdmin (id: string, action: string): void {
    const entry = this.entry(id)
    const head = entry.channel.replica.head
    const state = this.state(entry)
    if (state === 'left' || state === 'removed' || !head.isAdmin(head.ownLeaf)) throw new GroupPermissionError(`only admins may ${action}`)
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

  /**
   * A Welcome from a contact: join the group (the state saved in the batch that takes the
   * message in), unless we are in it already. The key package it names is spent; the contact
   * gets a fresh one.
   */
  private async takeInvite (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[], after?: () => void }> {
    const invite = GroupInvite.decode(payload)
    const { publicPackage, privatePackage, spent } = await this.keyPackages.own(invite.keyPackageId, from)
    const group = await KithGroup.join(invite.welcome, publicPackage, privatePackage)
    const inviter = group.members().find(m => m.device === from)
    if (inviter == null || !group.isAdmin(inviter.leaf)) throw new GroupPermissionError('a Welcome from someone who is no admin of the group')
    const refill = (): void => { void this.keyPackages.offer().catch(() => {}) }
    // New to us, one we had left or been removed from, or one we hold an older state of (an add
    // that lost a commit race, made again on the chosen chain): joined now.
    const known = this.groups.get(group.id)
    if (known != null && !known.removed && this.state(known) !== 'left' && group.epoch <= known.channel.replica.head.epoch) return { ops: spent, after: refill }
    const joined = { topicSecret: invite.topicSecret, joined: Number(group.epoch) }
    return {
      ops: [this.stateOp(group, joined), ...spent],
      after: () => {
        known?.channel.stop()
        this.open(group.id, group, joined)
        refill()
        // What was said since the Welcome, from whoever sent it.
        void this.catchUp(group.id, peerIdFromString(from)).catch(() => {})
      }
    }
  }
}
