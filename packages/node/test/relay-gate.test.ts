import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { HOP_PROTOCOL, RelayGate, sourceOf } from '../src/relay-gate.js'
import type { RelayGateLimits } from '../src/relay-gate.js'
import type { Connection, PeerId } from '@libp2p/interface'

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

/** A connection from `peer` at `addr` with `hops` inbound hop streams open (and one unrelated stream). */
function connection (peer: PeerId, addr: string, hops: number): Connection {
  const streams = [
    ...Array.from({ length: hops }, () => ({ protocol: HOP_PROTOCOL, direction: 'inbound' })),
    { protocol: '/kith/dm/1.0.0', direction: 'inbound' },
    { protocol: HOP_PROTOCOL, direction: 'outbound' }
  ]
  return { remotePeer: peer, remoteAddr: multiaddr(addr), streams } as unknown as Connection
}

const LIMITS: RelayGateLimits = { reservationsPerContact: 2, strangerCircuitsPerSource: 2, strangerCircuits: 5 }

describe('RelayGate: reservations', () => {
  it('reserves for a contact\'s devices, a few per contact, and refuses strangers', async () => {
    const [bob1, bob2, bob3, carol, stranger] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer(), newPeer()])
    // Bob has three linked devices; all count as bob.
    const contacts = new Map([[bob1, 'bob'], [bob2, 'bob'], [bob3, 'bob'], [carol, 'carol']].map(([p, c]) => [p.toString(), c as string]))
    const reserved: PeerId[] = []
    const gate = new RelayGate({ contactOf: async (p) => contacts.get(p), connections: () => [], reserved: () => reserved, limits: LIMITS })
    expect(await gate.denyReservation(stranger)).toBe(true)
    expect(await gate.denyReservation(bob2)).toBe(false)
    reserved.push(bob2)
    expect(await gate.denyReservation(bob1)).toBe(false)
    reserved.push(bob1)
    // Bob's third device would be his third reservation; refreshing one he holds is fine.
    expect(await gate.denyReservation(bob3)).toBe(true)
    expect(await gate.denyReservation(bob1)).toBe(false)
    // Carol has her own.
    expect(await gate.denyReservation(carol)).toBe(false)
    expect(gate.refused).toEqual({ 'not-a-friend': 1, 'reservations-per-contact': 1 })
  })
})

describe('RelayGate: strangers\' circuits', () => {
  it('caps the circuits strangers hold per source address, whatever their peer ids; contacts are not counted', async () => {
    const strangers = await Promise.all(Array.from({ length: 4 }, newPeer))
    const friend = await newPeer()
    const connections: Connection[] = []
    const gate = new RelayGate({ contactOf: async (p) => p === friend.toString() ? 'friend' : undefined, connections: () => connections, reserved: () => [], limits: LIMITS })
    // A friend at the same address holds many circuits: not counted.
    connections.push(connection(friend, '/ip4/198.51.100.7/tcp/4001', 10))
    // Each new request's own hop stream is open when the gate is asked.
    connections.push(connection(strangers[0] as PeerId, '/ip4/198.51.100.7/tcp/5000', 1))
    expect(await gate.denyCircuit(strangers[0] as PeerId)).toBe(false)
    connections.push(connection(strangers[1] as PeerId, '/ip4/198.51.100.7/tcp/5001', 1))
    expect(await gate.denyCircuit(strangers[1] as PeerId)).toBe(false)
    // A third fresh peer id from the same address: refused.
    connections.push(connection(strangers[2] as PeerId, '/ip4/198.51.100.7/tcp/5002', 1))
    expect(await gate.denyCircuit(strangers[2] as PeerId)).toBe(true)
    // The friend is never refused; another address still gets in.
    expect(await gate.denyCircuit(friend)).toBe(false)
    connections.pop()
    connections.push(connection(strangers[3] as PeerId, '/ip4/203.0.113.9/tcp/5003', 1))
    expect(await gate.denyCircuit(strangers[3] as PeerId)).toBe(false)
    // A circuit ends (its hop stream closes): room again at that address.
    connections.splice(1, 1)
    connections.push(connection(strangers[2] as PeerId, '/ip4/198.51.100.7/tcp/5002', 1))
    expect(await gate.denyCircuit(strangers[2] as PeerId)).toBe(false)
    expect(gate.refused).toEqual({ 'stranger-circuits-per-source': 1 })
  })

  it('caps the circuits of all strangers together, and treats an IPv6 /64 as one source', async () => {
    const gate = (connections: Connection[]): RelayGate => new RelayGate({ contactOf: async () => undefined, connections: () => connections, reserved: () => [], limits: LIMITS })
    const peers = await Promise.all(Array.from({ length: 6 }, newPeer))
    const spread = peers.map((p, i) => connection(p, `/ip4/192.0.2.${i + 1}/tcp/4001`, 1))
    expect(await gate(spread.slice(0, 5)).denyCircuit(peers[4] as PeerId)).toBe(false)
    const full = gate(spread)
    expect(await full.denyCircuit(peers[5] as PeerId)).toBe(true)
    expect(full.refused).toEqual({ 'stranger-circuits': 1 })
    // Three addresses of one /64: one source.
    const v6 = peers.slice(0, 3).map((p, i) => connection(p, `/ip6/2001:db8:1:2::${i + 1}/tcp/4001`, 1))
    expect(await gate(v6).denyCircuit(peers[2] as PeerId)).toBe(true)
  })

  it('names a source by IPv4 address, IPv6 /64, DNS name, else peer id', async () => {
    const peer = await newPeer()
    expect(sourceOf(multiaddr('/ip4/10.1.2.3/tcp/1'), peer)).toBe('10.1.2.3')
    expect(sourceOf(multiaddr('/ip6/2001:db8:1:2:aaaa::1/tcp/1'), peer)).toBe('2001:db8:1:2::/64')
    expect(sourceOf(multiaddr('/ip6/2001:0db8:0001:0002:ffff:1:2:3/tcp/1'), peer)).toBe('2001:db8:1:2::/64')
    expect(sourceOf(multiaddr('/ip6/::1/tcp/1'), peer)).toBe('0:0:0:0::/64')
    expect(sourceOf(multiaddr('/ip6/::ffff:192.0.2.1/tcp/1'), peer)).toBe('192.0.2.1')
    expect(sourceOf(multiaddr('/dns4/example.com/tcp/1'), peer)).toBe('example.com')
    expect(sourceOf(multiaddr('/memory/abc'), peer)).toBe(`peer:${peer.toString()}`)
  })
})
