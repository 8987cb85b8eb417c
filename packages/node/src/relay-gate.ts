import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The circuit relay v2 hop protocol: a stream that asks a relay for a reservation or a circuit. */
export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/** Limits of what a relay for friends gives its contacts' devices and strangers. */
export interface RelayGateLimits {
  /** Reservations the devices of one contact (or our own devices) may hold at once. */
  reservationsPerContact: number
  /** Circuits strangers from one source (an IPv4 address, an IPv6 /64) may hold through us at once. */
  strangerCircuitsPerSource: number
  /** Circuits all strangers together may hold through us at once. */
  strangerCircuits: number
}

export interface RelayGateInit {
  /**
   * Who a peer is to us: the id of the contact it is or is a device of (our own id for our
   * own devices), undefined for a stranger.
   */
  contactOf: (peer: string) => Promise<string | undefined>
  /** Every open connection of ours. */
  connections: () => Connection[]
  /** The peers that hold a reservation on us now. */
  reserved: () => Iterable<PeerId>
  limits: RelayGateLimits
}

/** Why the gate refused, counted in {@link RelayGate.refused}. */
export type RelayRefusal = 'not-a-friend' | 'reservations-per-contact' | 'stranger-circuits-per-source' | 'stranger-circuits'

/**
 * The relay's decisions that circuit relay v2 leaves to the connection gater. Reservations:
 * for our contacts and their linked devices only (a relay sees who talks to whom), a few per
 * contact. Circuits: anyone may dial a contact who holds a reservation on us (their friends
 * need not be ours), but strangers hold at most a few circuits per source address and a few
 * in all. A source is an IP address (an IPv6 /64), not a peer id: peer ids cost nothing to
 * make, addresses do. Circuits are counted as the hop streams strangers hold open on us,
 * which last as long as their circuits, so nothing here needs cleaning up.
 */
export class RelayGate {
  readonly refused: Record<string, number> = {}
  private readonly init: RelayGateInit

  constructor (init: RelayGateInit) {
    this.init = init
  }

  /** For `denyInboundRelayReservation`: true refuses. */
  async denyReservation (peer: PeerId): Promise<boolean> {
    const contact = await this.init.contactOf(peer.toString())
    if (contact === undefined) return this.refuse('not-a-friend')
    let held = 0
    for (const other of this.init.reserved()) {
      if (!other.equals(peer) && await this.init.contactOf(other.toString()) === contact) held++
    }
    return held >= this.init.limits.reservationsPerContact ? this.refuse('reservations-per-contact') : false
  }

  /** For `denyOutboundRelayedConnection` (asked for each circuit, `source` dialling `target`): true refuses. */
  async denyCircuit (source: PeerId): Promise<boolean> {
    if (await this.init.contactOf(source.toString()) !== undefined) return false
    const bySource = new Map<string, number>()
    let total = 0
    const sources = new Set<string>()
    for (const connection of this.init.connections()) {
      // The request's own hop stream is open too: it is counted.
      const hops = connection.streams.filter(s => s.protocol === HOP_PROTOCOL && s.direction === 'inbound').length
      if (connection.remotePeer.equals(source)) sources.add(sourceOf(connection.remoteAddr, connection.remotePeer))
      if (hops === 0 || await this.init.contactOf(connection.remotePeer.toString()) !== undefined) continue
      const key = sourceOf(connection.remoteAddr, connection.remotePeer)
      bySource.set(key, (bySource.get(key) ?? 0) + hops)
      total += hops
    }
    const { strangerCircuits, strangerCircuitsPerSource } = this.init.limits
    if ([...sources].some(key => (bySource.get(key) ?? 0) > strangerCircuitsPerSource)) return this.refuse('stranger-circuits-per-source')
    return total > strangerCircuits ? this.refuse('stranger-circuits') : false
  }

  private refuse (reason: RelayRefusal): true {
    this.refused[reason] = (this.refused[reason] ?? 0) + 1
    return true
  }
}

/**
 * Where a connection comes from, as far as what a stranger can't make freely: its IPv4
 * address, the /64 of its IPv6 address, its DNS name; the peer id only for transports
 * without addresses (the in-memory one of tests).
 */
export function sourceOf (addr: Multiaddr, peer: PeerId): string {
  const first = addr.getComponents()[0]
  if (first?.name === 'ip4' && first.value != null) return first.value
  if (first?.name === 'ip6' && first.value != null) {
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(first.value)
    if (dotted?.[1] != null) return dotted[1]
    const groups = expand(first.value)
    // An IPv4-mapped address is that IPv4 address.
    if (groups.slice(0, 5).every(g => g === '0') && groups[5] === 'ffff') {
      const [hi, lo] = [parseInt(groups[6] ?? '0', 16), parseInt(groups[7] ?? '0', 16)]
      return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.')
    }
    return `${groups.slice(0, 4).join(':')}::/64`
  }
  if (first?.name.startsWith('dns') === true && first.value != null) return first.value
  return `peer:${peer.toString()}`
}

/** The eight groups of an IPv6 address. */
function expand (ip: string): string[] {
  const [head = '', tail] = ip.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail == null || tail === '' ? [] : tail.split(':')
  const fill = tail == null ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0')
  return [...left, ...fill, ...right].map(g => g.toLowerCase().replace(/^0+(?=.)/, ''))
}
