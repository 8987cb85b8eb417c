import { RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { isNetworkAddress, isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, IdentifyResult, Libp2pEvents, Logger, PeerId, PeerStore, Startable, TypedEventTarget } from '@libp2p/interface'
import type { AddressManager, TransportManager } from '@libp2p/interface-internal'

/** How reachable this node is, as `kith status` shows it. */
export type Reachability = 'public' | 'relayed' | 'private' | 'offline'

export interface ReservationsInit {
  /** Reservations are only ever made on contacts' relays. */
  isContact(peer: string): Promise<boolean>
  /** The user says this node is publicly reachable at its listen addresses (port forwarded, a server): no reservations. */
  public?: boolean
  /** How many contacts' relays to keep reservations on (default 2). */
  max?: number
  /** How often to check that enough reservations are held (default 15 s). */
  checkEveryMs?: number
  /**
   * Make no reservations (the in-memory transport: every peer is reachable, and libp2p's relay
   * listener throws on non-IP relay addresses when a reservation ends).
   */
  disabled?: boolean
}

export interface ReservationsComponents {
  transportManager: TransportManager
  addressManager: AddressManager
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

/**
 * Keeps circuit relay v2 reservations on contacts' relays while this node is not publicly
 * reachable, so contacts can reach it through a friend; its relayed addresses go in its
 * presence record. Strangers' relays are never used: a relay sees who talks to whom.
 */
export class RelayReservations implements Startable {
  private readonly components: ReservationsComponents
  private readonly init: ReservationsInit
  private readonly log: Logger
  private readonly trying = new Set<string>()
  /** Refused reservation attempts per relay since the last success (for quick retries). */
  private readonly refusals = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (evt.detail.protocols.includes(RELAY_V2_HOP_CODEC)) void this.reserve(evt.detail.peerId)
  }

  constructor (components: ReservationsComponents, init: ReservationsInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('kith:relay-reservations')
  }

  readonly [Symbol.toStringTag] = '@kith/relay-reservations'

  private active = false

  start (): void {
    if (this.init.disabled === true) return
    this.active = true
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.timer = setInterval(() => { void this.topUp() }, this.init.checkEveryMs ?? 15_000)
  }

  stop (): void {
    this.active = false
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    clearInterval(this.timer)
  }

  /** Whether AutoNAT (or the user) says we are reachable at a public address of our own. */
  isPublic (): boolean {
    if (this.init.public === true) return true
    return this.components.addressManager.getAddressesWithMetadata().some(a =>
      a.verified && !isCircuit(a.multiaddr.toString()) && isNetworkAddress(a.multiaddr) && isPrivate(a.multiaddr) !== true)
  }

  /** The relays we hold reservations on (peer ids), read off our own relayed addresses. */
  relays (): string[] {
    const relays = new Set<string>()
    for (const addr of this.components.addressManager.getAddresses().map(String)) {
      const relay = relayOf(addr)
      if (relay != null) relays.add(relay)
    }
    return [...relays]
  }

  private async reserve (relay: PeerId): Promise<void> {
    const id = relay.toString()
    if (this.isPublic() || this.trying.has(id) || this.relays().includes(id)) return
    if (this.relays().length + this.trying.size >= (this.init.max ?? 2)) return
    if (!await this.init.isContact(id)) return
    this.trying.add(id)
    try {
      await this.components.transportManager.listen([multiaddr(`/p2p/${id}/p2p-circuit`)])
      this.log('holding a reservation on %s', id)
      this.refusals.delete(id)
    } catch (err: any) {
      this.log('no reservation on %s: %s', id, err?.message)
      // A relay that just became a contact may not have taken our introduction in yet: ask
      // again soon rather than at the next check.
      const tries = (this.refusals.get(id) ?? 0) + 1
      this.refusals.set(id, tries)
      if (tries <= 3) setTimeout(() => { void this.topUp() }, 1_000 * 2 ** tries).unref()
    } finally {
      this.trying.delete(id)
    }
  }

  /**
   * Hold enough reservations: try the relays among contacts we know of. Runs on a timer (a
   * reservation lapsed, a relay went away) and when someone becomes a contact.
   */
  async topUp (): Promise<void> {
    if (!this.active || this.isPublic() || this.relays().length >= (this.init.max ?? 2)) return
    const peers = await this.components.peerStore.all({ filters: [p => p.protocols.includes(RELAY_V2_HOP_CODEC)] })
    for (const peer of peers) await this.reserve(peer.id)
  }
}

/** The relay's peer id in a circuit address `/.../p2p/RELAY/p2p-circuit/...`, else undefined. */
export function relayOf (addr: string): string | undefined {
  return /\/p2p\/([^/]+)\/p2p-circuit/.exec(addr)?.[1]
}

function isCircuit (addr: string): boolean {
  return addr.includes('/p2p-circuit')
}

/** The service factory for libp2p's `services`. */
export function relayReservations (init: ReservationsInit): (components: ReservationsComponents) => RelayReservations {
  return (components) => new RelayReservations(components, init)
}
