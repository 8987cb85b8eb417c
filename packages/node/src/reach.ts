import { KithError, UnknownContactError } from '@kith/core'
import { MAILBOX_PROTOCOL, MailboxRefusedError, deposit, drain, register, unregister } from '@kith/mailbox'
import type { MailboxServer } from '@kith/mailbox'
import { lookupPresence, nextPresenceSeq, publishPresence, signPresence } from '@kith/presence'
import type { VerifiedPresence } from '@kith/presence'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { relayOf } from './reservations.js'
import type { RelayGate } from './relay-gate.js'
import type { Reachability } from './reservations.js'
import type { KithServices } from './index.js'
import type { ContactRecord, KithStore } from '@kith/store'
import type { Libp2p, Logger, PeerId, PrivateKey, Stream } from '@libp2p/interface'

/** Secrets naming the contacts that hold our mail: `mailbox/mine/<peer id>`. */
const MINE = 'mailbox/mine/'
/** The last presence sequence number we published (never reused, even across restarts). */
const PRESENCE_SEQ = 'presence/seq'
const DIAL_TIMEOUT_MS = 10_000
/** What `kith mailbox add` says when a contact refuses. */
const REFUSALS: Record<string, (name: string) => string> = {
  'not-a-mailbox': (name) => `${name} does not hold mail for friends (it must run kith start --relay)`,
  'not-a-friend': (name) => `${name} does not have you as a contact, so it will not hold your mail`
}

export interface ReachInit {
  libp2p: Libp2p<KithServices>
  store: KithStore
  /** Signs our presence record; absent on a linked device, which does not publish one yet (docs/devices.md). */
  identityKey?: PrivateKey
  /** Our signed device list, for our presence record. */
  deviceList?: () => Uint8Array
  /** A contact's record carried its user's device list. */
  onDeviceList?: (device: string, list: Uint8Array) => void
  certificate: Uint8Array
  /** Where to count presence records refused, by reason (shared with the DHT's validator). */
  presenceRefused?: Record<string, number>
  /** Our mailbox for friends, when we run one (`--relay`). */
  mailbox?: MailboxServer
  /** Our relay's rules for reservations and strangers' circuits, when we run one (`--relay`). */
  relayGate?: RelayGate
  /** Republish the presence record this often (default 20 minutes). */
  publishEveryMs?: number
  /** Drain our mailboxes this often (default 30 s), besides at start and when one connects. */
  drainEveryMs?: number
}

/** What `kith status` shows about reaching and being reached. */
export interface ReachStatus {
  reachability: Reachability
  /** Relays (peer ids) we hold reservations on. */
  relays: string[]
  /** Our relayed addresses. */
  relayAddresses: string[]
  /** The contacts that hold our mail (peer ids). */
  mailboxes: string[]
  /** Our outgoing envelopes held at contacts' mailboxes, not yet confirmed delivered. */
  waitingInMailboxes: number
  /** When we run a mailbox: what it holds for friends, and what it refused, by reason. */
  holding?: { recipients: number, envelopes: number, bytes: number, refused: Record<string, number> }
  /** When we run a relay: reservations held on us, and what it refused (reservations, strangers' circuits), by reason. */
  relaying?: { reservations: number, refused: Record<string, number> }
  /** When the presence record was last published (ms since the epoch), if ever. */
  presencePublishedAt?: number
  /** Presence records refused, by reason (forged, stale, …). */
  presenceRefused: Record<string, number>
}

/**
 * Finding contacts and being found: publishes our signed presence record in the DHT (addresses,
 * relayed addresses, mailboxes), looks contacts up by identity when they can't be reached,
 * hands mail for unreachable contacts to their mailboxes, and drains our own.
 */
export class Reach {
  private readonly init: ReachInit
  private readonly log: Logger
  /** The newest presence record seen per contact (peer id): lookups never go back to an older one. */
  private readonly seen = new Map<string, VerifiedPresence>()
  private readonly refused: Record<string, number>
  private publishTimer: ReturnType<typeof setTimeout> | undefined
  private drainTimer: ReturnType<typeof setInterval> | undefined
  private publishing: Promise<void> | undefined
  private publishAgain = false
  private draining: Promise<void> | undefined
  private publishedAt: number | undefined
  private stopped = false
  /** Aborted at stop, so a publish, lookup or drain under way does not hold the node up. */
  private running = new AbortController()
  /** The contacts that hold our mail (peer ids), as stored under `mailbox/mine/`. */
  private mine: string[] = []
  private readonly onSelfUpdate = (): void => { this.schedulePublish(2_000) }
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    if (this.mine.includes(evt.detail.toString())) void this.drain()
  }

  constructor (init: ReachInit) {
    this.init = init
    this.refused = init.presenceRefused ?? {}
    this.log = init.libp2p.logger.forComponent('kith:reach')
  }

  /** The prekey bundle in a contact's presence record (no one-time prekey), to open a session while it is offline. */
  async publishedPrekeys (peer: string): Promise<Uint8Array | undefined> {
    return (this.seen.get(peer) ?? await this.lookup(peer))?.prekeys
  }

  async start (): Promise<void> {
    this.stopped = false
    this.running = new AbortController()
    const { libp2p, mailbox, store } = this.init
    this.mine = (await store.listSecrets<number>(MINE)).map(([name]) => name.slice(MINE.length))
    if (mailbox != null) {
      await libp2p.handle(MAILBOX_PROTOCOL, (stream, connection) => { void mailbox.handler(stream, connection) }, { runOnLimitedConnection: true, maxInboundStreams: 8 })
      mailbox.start()
    }
    libp2p.addEventListener('self:peer:update', this.onSelfUpdate)
    libp2p.addEventListener('peer:connect', this.onConnect)
    this.schedulePublish(1_000)
    this.drainTimer = setInterval(() => { void this.drain() }, this.init.drainEveryMs ?? 30_000)
    void this.drain()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.running.abort()
    const { libp2p, mailbox } = this.init
    libp2p.removeEventListener('self:peer:update', this.onSelfUpdate)
    libp2p.removeEventListener('peer:connect', this.onConnect)
    clearTimeout(this.publishTimer)
    clearInterval(this.drainTimer)
    if (mailbox != null) {
      mailbox.stop()
      await libp2p.unhandle(MAILBOX_PROTOCOL)
    }
    await Promise.allSettled([this.publishing, this.draining])
  }

  /** A signal that fires after `ms`, or when the node stops. */
  private signal (ms: number): AbortSignal {
    return AbortSignal.any([this.running.signal, AbortSignal.timeout(ms)])
  }

  // ---- presence ----

  private schedulePublish (delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.publishTimer)
    this.publishTimer = setTimeout(() => { void this.publish() }, delayMs)
  }

  /** Publish our presence record now (one at a time; a change during a publish publishes again). */
  async publish (): Promise<void> {
    if (this.publishing != null) { this.publishAgain = true; return await this.publishing }
    const identityKey = this.init.identityKey
    if (identityKey == null) return
    this.publishing = (async () => {
      let nextIn = this.init.publishEveryMs ?? 20 * 60_000
      try {
        const record = await this.presenceRecord(identityKey)
        await publishPresence(this.init.libp2p.services.dht, identityKey, record, { signal: this.signal(30_000) })
        this.publishedAt = Date.now()
        this.log('published our presence record')
      } catch (err: any) {
        // Usually: no DHT peers yet. Try again soon.
        this.log('could not publish our presence record: %s', err?.message)
        nextIn = 10_000
      } finally {
        this.publishing = undefined
      }
      if (this.publishAgain) { this.publishAgain = false; nextIn = 0 }
      this.schedulePublish(nextIn)
    })()
    await this.publishing
  }

  private async presenceRecord (identityKey: PrivateKey): Promise<Uint8Array> {
    const { libp2p, store } = this.init
    const last = await store.getSecret<number>(PRESENCE_SEQ)
    const seq = nextPresenceSeq(last)
    await store.commit([store.putSecret(PRESENCE_SEQ, seq)])
    const own = libp2p.getMultiaddrs().map(a => a.decapsulateCode(421)) // without our /p2p/ suffix
    const addrs = own.filter(a => !a.toString().includes('/p2p-circuit'))
    const relays = libp2p.getMultiaddrs().filter(a => a.toString().includes('/p2p-circuit'))
    const mailboxes = []
    for (const peer of this.mine) {
      const known = await libp2p.peerStore.get(peerIdFromString(peer)).catch(() => undefined)
      // Addresses others can use first: loopback only helps senders on the same machine.
      const addrs = (known?.addresses ?? []).map(a => a.multiaddr).sort((x, y) => Number(isLoopback(x)) - Number(isLoopback(y)))
      for (const addr of addrs.slice(0, 3)) mailboxes.push(addr.encapsulate(`/p2p/${peer}`))
    }
    return signPresence(identityKey, {
      seq,
      certificate: this.init.certificate,
      device: libp2p.peerId,
      addrs: addrs.slice(0, 16),
      relays: relays.slice(0, 8),
      mailboxes: mailboxes.slice(0, 8),
      ...prekeysOf(libp2p.services.messaging.publishedPrekeys()),
      relay: this.init.mailbox != null,
      ...(this.init.deviceList != null ? { deviceList: this.init.deviceList() } : {})
    })
  }

  /**
   * Look a contact up by its identity: its presence record's addresses (direct and relayed) go
   * in the peer store. True when any of them were new.
   */
  async locate (peer: string): Promise<boolean> {
    const record = await this.lookup(peer)
    if (record == null) return false
    const peerId = peerIdFromString(peer)
    const known = new Set((await this.init.libp2p.peerStore.get(peerId).catch(() => undefined))?.addresses.map(a => a.multiaddr.toString()) ?? [])
    const found = [...record.addrs, ...record.relays]
    if (found.length === 0) return false
    await this.init.libp2p.peerStore.merge(peerId, { multiaddrs: found })
    return found.some(a => !known.has(a.toString()))
  }

  private async lookup (peer: string): Promise<VerifiedPresence | undefined> {
    const contact = await this.init.store.getContact(peer)
    if (contact?.identity == null) return undefined
    const previous = this.seen.get(peer)
    const record = await lookupPresence(this.init.libp2p.services.dht, publicKeyFromProtobuf(Buffer.from(contact.identity, 'base64')), {
      signal: this.signal(20_000),
      ...(previous != null ? { minSeq: previous.seq } : {}),
      onRefused: (reason) => { this.refused[reason] = (this.refused[reason] ?? 0) + 1 }
    }).catch((err: any) => { this.log('no presence record for %s: %s', peer, err?.message); return undefined })
    // One device per record for now: a record for another device of the same user is no use here.
    if (record == null || !record.device.equals(peerIdFromString(peer))) return previous
    this.seen.set(peer, record)
    if (record.deviceList.byteLength > 0) this.init.onDeviceList?.(peer, record.deviceList)
    return record
  }

  // ---- mailboxes: ours, and depositing at contacts' ----

  /**
   * Ask a contact to hold our mail while we are offline (it must run a mailbox, `--relay`, and
   * have us as a contact). It is then listed in our presence record.
   *
   * @throws {MailboxRefusedError} when the contact refuses
   */
  async addMailbox (contact: ContactRecord): Promise<void> {
    try {
      await this.withMailbox(contact.peerId, register)
    } catch (err: any) {
      if (err instanceof MailboxRefusedError) throw new MailboxRefusedError(err.reason, REFUSALS[err.reason]?.(contact.name) ?? err.message)
      throw new ContactUnreachableError(`${contact.name} could not be reached (${err?.message ?? err}): it must be online to accept`, { cause: err })
    }
    await this.init.store.commit([this.init.store.putSecret(MINE + contact.peerId, Date.now())])
    if (!this.mine.includes(contact.peerId)) this.mine = [...this.mine, contact.peerId]
    this.schedulePublish(0)
    void this.drain()
  }

  /** Stop using a contact's mailbox (it drops what it holds for us). */
  async removeMailbox (contact: ContactRecord): Promise<void> {
    if (!this.mine.includes(contact.peerId)) throw new UnknownContactError(`${contact.name} does not hold your mail`)
    await this.drain()
    await this.withMailbox(contact.peerId, unregister).catch(err => { this.log('could not unregister at %s: %s', contact.name, err?.message) })
    await this.init.store.commit([this.init.store.delSecret(MINE + contact.peerId)])
    this.mine = this.mine.filter(p => p !== contact.peerId)
    this.schedulePublish(0)
  }

  /**
   * Hand envelopes for `peer` to its mailboxes (from its presence record). Resolves with how
   * many mailboxes hold all of them.
   */
  async deposit (peer: string, envelopes: Uint8Array[]): Promise<number> {
    const record = this.seen.get(peer) ?? await this.lookup(peer)
    if (record == null) return 0
    let held = 0
    for (const addr of uniqueMailboxes(record)) {
      try {
        if (addr.peer === this.init.libp2p.peerId.toString()) {
          if (this.init.mailbox == null) continue
          const results = await this.init.mailbox.store.deposit(addr.peer, envelopes)
          if (results.every(r => r === 'stored' || r === 'duplicate')) held++
          continue
        }
        await this.init.libp2p.peerStore.merge(peerIdFromString(addr.peer), { multiaddrs: addr.addrs })
        const results = await this.withMailbox(addr.peer, async (stream) => await deposit(stream, envelopes))
        if (results.every(r => r === 'stored' || r === 'duplicate')) held++
        else this.log('mailbox %s refused some mail for %s: %s', addr.peer, peer, results.join(','))
      } catch (err: any) {
        this.log('could not deposit at mailbox %s: %s', addr.peer, err?.message)
      }
    }
    return held
  }

  /** Take in whatever our mailboxes hold for us (one drain at a time). */
  async drain (): Promise<void> {
    if (this.draining != null) return await this.draining
    this.draining = (async () => {
      for (const peer of this.mine) {
        if (this.stopped) break
        try {
          const { received } = await this.withMailbox(peer, async (stream) => await drain(stream, async (batch) => {
            const taken = await this.init.libp2p.services.messaging.receiveDeposited(batch.map(m => m.envelope))
            // What can't be opened yet stays: its sender renews the session and sends it again.
            return batch.filter((_, i) => taken[i] === true).map(m => m.id)
          }))
          if (received > 0) this.log('took %d envelopes from mailbox %s', received, peer)
        } catch (err: any) {
          this.log('could not drain mailbox %s: %s', peer, err?.message)
        }
      }
    })()
    try {
      await this.draining
    } finally {
      this.draining = undefined
    }
  }

  private async withMailbox<T> (peer: string, fn: (stream: Stream) => Promise<T>): Promise<T> {
    let stream: Stream
    try {
      stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), MAILBOX_PROTOCOL, { signal: this.signal(DIAL_TIMEOUT_MS), runOnLimitedConnection: true })
    } catch (err: any) {
      // Only nodes started with --relay serve mailboxes.
      if (err?.name === 'UnsupportedProtocolError') throw new MailboxRefusedError('not-a-mailbox')
      throw err
    }
    try {
      const result = await fn(stream)
      await stream.close().catch(() => {})
      return result
    } catch (err: any) {
      stream.abort(err)
      throw err
    }
  }

  /** The contacts that hold our mail (peer ids). */
  mailboxes (): string[] { return [...this.mine] }

  status (): ReachStatus {
    const { libp2p, mailbox } = this.init
    const reservations = libp2p.services.reservations
    const relays = reservations.relays()
    let reachability: Reachability = 'private'
    if (libp2p.getConnections().length === 0) reachability = 'offline'
    else if (reservations.isPublic()) reachability = 'public'
    else if (relays.length > 0) reachability = 'relayed'
    return {
      reachability,
      relays,
      relayAddresses: libp2p.getMultiaddrs().map(String).filter(a => relayOf(a) != null),
      mailboxes: [...this.mine],
      waitingInMailboxes: libp2p.services.messaging.waitingInMailboxes(),
      ...(mailbox != null ? { holding: holdingOf(mailbox) } : {}),
      ...(this.init.relayGate != null ? { relaying: { reservations: libp2p.services.relay?.reservations.size ?? 0, refused: { ...this.init.relayGate.refused } } } : {}),
      ...(this.publishedAt != null ? { presencePublishedAt: this.publishedAt } : {}),
      presenceRefused: { ...this.refused }
    }
  }
}

export { MailboxRefusedError }

/** A contact that had to answer now (`kith mailbox add`) could not be reached. */
export class ContactUnreachableError extends KithError { static override name = 'ContactUnreachableError' }

function isLoopback (addr: ReturnType<typeof multiaddr>): boolean {
  return /^\/(ip4\/127\.|ip6\/::1\/)/.test(addr.toString())
}

function prekeysOf (bundle: Uint8Array | undefined): { prekeys?: Uint8Array } {
  return bundle != null ? { prekeys: bundle } : {}
}

function holdingOf (mailbox: MailboxServer): NonNullable<ReachStatus['holding']> {
  const { recipients, envelopes, bytes } = mailbox.store.stats()
  return { recipients, envelopes, bytes, refused: { ...mailbox.metrics.refused, invalid: mailbox.metrics.invalid } }
}

/** A record's mailboxes, grouped by peer (a mailbox may be listed under several addresses). */
function uniqueMailboxes (record: VerifiedPresence): Array<{ peer: string, addrs: ReturnType<typeof multiaddr>[] }> {
  const byPeer = new Map<string, ReturnType<typeof multiaddr>[]>()
  for (const addr of record.mailboxes) {
    const peer = addr.getComponents().findLast(c => c.name === 'p2p')?.value
    if (peer == null) continue
    byPeer.set(peer, [...byPeer.get(peer) ?? [], addr.decapsulateCode(421)])
  }
  return [...byPeer].map(([peer, addrs]) => ({ peer, addrs }))
}
