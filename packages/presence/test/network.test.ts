import { randomBytes } from 'node:crypto'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KAD_PROTOCOL } from '@kith/core'
import { Libp2pRecord } from '@libp2p/record'
import { Key } from 'interface-datastore'
import { toString as toBase32 } from 'uint8arrays/to-string'
import { DhtRecordStore, lookupPresence, openPresence, presenceDhtOptions, presenceKey, publishPresence, signPresence } from '../src/index.js'
import { fieldsOf, makeUser, rawFieldsOf, signRaw } from './helpers.js'
import type { DhtStoreRefusal, PresenceRefusal } from '../src/index.js'
import type { User } from './helpers.js'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

type Node = Libp2p<{ dht: KadDHT }> & { refused: Array<PresenceRefusal | DhtStoreRefusal>, state: { frozen: boolean }, records: DhtRecordStore }

/**
 * A DHT node as Kith runs one, counting the records its validator and its record store
 * refuse. A frozen node takes no new presence record (it stands for one that was offline
 * while a record changed).
 */
async function startNode (user: User): Promise<Node> {
  const refused: Array<PresenceRefusal | DhtStoreRefusal> = []
  const state = { frozen: false }
  const presence = presenceDhtOptions({ onRefused: (reason) => refused.push(reason) })
  const records = new DhtRecordStore({ onRefused: (reason) => refused.push(reason) })
  const node = await createLibp2p({
    privateKey: user.deviceKey,
    datastore: records,
    addresses: { listen: [`/memory/${randomBytes(8).toString('hex')}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: KAD_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        selectors: presence.selectors,
        validators: {
          'kith-presence': async (key, value) => {
            if (state.frozen) throw new Error('frozen')
            await presence.validators['kith-presence'](key, value)
          }
        }
      })
    }
  })
  return Object.assign(node, { refused, state, records })
}

/** The seq of the presence record a node's store holds for `key`. */
async function heldSeq (node: Node, key: Uint8Array): Promise<number> {
  const stored = await node.records.get(new Key(`/dht/record/${toBase32(key, 'base32')}`, false))
  return openPresence(Libp2pRecord.deserialize(stored).value).seq
}

const routingTableSize = (node: Node): number => (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size

async function until (condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

let users: User[]
let nodes: Node[]
let a: Node, d: Node, e: Node, f: Node
let seq = Date.now()
const signal = (): AbortSignal => AbortSignal.timeout(5_000)

beforeAll(async () => {
  users = await Promise.all(Array.from({ length: 7 }, async () => await makeUser()))
  nodes = await Promise.all(users.slice(0, 6).map(startNode))
  ;[a, , , d, e, f] = nodes as [Node, Node, Node, Node, Node, Node]
  // Every node connected to every other, so every routing table holds the other five and every
  // query asks every node. (kad-dht walks only towards the key, skipping peers that are not
  // closer to it than the one that named them: with partial tables a query can miss a node,
  // and self-queries alone filled six tables in a line within 8 s in only some runs.)
  await Promise.all(nodes.flatMap((node, i) => nodes.slice(0, i).map(async other => await node.dial(other.getMultiaddrs()))))
  await until(() => nodes.every(node => routingTableSize(node) === nodes.length - 1), 5_000)
})

afterAll(async () => {
  await Promise.all((nodes ?? []).map(async node => { await node.stop() }))
})

const publish = async (): Promise<number> => {
  seq += 1000
  const record = signPresence(users[0]!.identityKey, fieldsOf(users[0]!, { seq, addrs: a.getMultiaddrs() }))
  const { stored } = await publishPresence(a.services.dht, users[0]!.identityKey, record, { signal: signal() })
  return stored
}
const lookup = async (node: Node, minSeq?: number): ReturnType<typeof lookupPresence> =>
  await lookupPresence(node.services.dht, users[0]!.identityKey.publicKey, { signal: signal(), ...(minSeq != null ? { minSeq } : {}) })

describe('presence over a kad-dht of six nodes', () => {
  it('F finds what A published, by identity alone', async () => {
    expect(await publish()).toBeGreaterThanOrEqual(1)
    const found = await lookup(f)
    expect(found?.seq).toBe(seq)
    expect(found?.device.equals(a.peerId)).toBe(true)
    expect(found?.addrs.map(String)).toEqual(a.getMultiaddrs().map(String))
  })

  it('F finds the newer record once A publishes one', async () => {
    const first = seq
    await publish()
    expect(seq).toBeGreaterThan(first)
    expect((await lookup(f))?.seq).toBe(seq)
  })

  it('a node still holding an older record does not make lookups return it', async () => {
    const old = seq
    e.state.frozen = true
    await publish()
    e.state.frozen = false
    expect(seq).toBeGreaterThan(old)
    // E kept the old record and answers F with it; F's selector picks the new one, which F
    // then sends to E (a correction).
    const key = presenceKey(users[0]!.identityKey.publicKey)
    expect(await heldSeq(e, key)).toBe(old)
    expect((await lookup(f))?.seq).toBe(seq)
    expect(await heldSeq(e, key)).toBe(seq)
    // E's own lookups pick the new one as the value of the query.
    let picked: Uint8Array | undefined
    for await (const event of e.services.dht.get(presenceKey(users[0]!.identityKey.publicKey), { signal: signal() })) {
      if (event.name === 'VALUE') picked = event.value
    }
    expect(openPresence(picked!).seq).toBe(seq)
    expect((await lookup(e))?.seq).toBe(seq)
  })

  it('a replay of an older record over the newer one is refused by the nodes that hold the newer', async () => {
    const current = seq
    const older = signPresence(users[0]!.identityKey, fieldsOf(users[0]!, { seq: current - 1000 }))
    // G has never seen A's record: it keeps the older one and puts it to the others.
    const g = await startNode(users[6]!)
    nodes.push(g)
    await Promise.all(nodes.slice(0, 6).map(async node => await g.dial(node.getMultiaddrs())))
    await until(() => routingTableSize(g) === 6, 5_000)
    const before = nodes.map(node => node.refused.length)
    let stored = 0
    for await (const event of g.services.dht.put(presenceKey(users[0]!.identityKey.publicKey), older, { signal: signal() })) {
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') stored++
    }
    expect(stored).toBe(0)
    expect(nodes.slice(0, 6).filter((node, i) => node.refused.slice(before[i]).includes('rollback')).length).toBeGreaterThanOrEqual(3)
    expect((await lookup(f))?.seq).toBe(current)
    expect((await lookup(f, current))?.seq).toBe(current)
  })

  it('a forged record put by a malicious node is refused everywhere and never found', async () => {
    const impostor = users[3]!
    const key = presenceKey(users[0]!.identityKey.publicKey)
    // Dated ahead of A's, to win if anyone took it: signed by D's identity, or D's own valid record.
    const forged = signRaw(impostor.identityKey, { ...rawFieldsOf(users[0]!, seq + 60_000), device: new Uint8Array(d.peerId.toMultihash().bytes) })
    const wrongKey = signPresence(impostor.identityKey, fieldsOf(impostor, { seq: seq + 60_000 }))
    const before = nodes.map(node => node.refused.length)
    for (const record of [forged, wrongKey]) {
      let stored = 0
      for await (const event of d.services.dht.put(key, record, { signal: signal() })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') stored++
      }
      expect(stored).toBe(0)
    }
    const refusedSince = nodes.flatMap((node, i) => node.refused.slice(before[i]))
    expect(refusedSince).toContain('forged')
    expect(refusedSince).toContain('wrong-key')
    // D serves the forgery from its own store (kad-dht does not validate its own puts).
    const found = await lookup(f)
    expect(found?.seq).toBe(seq)
    expect(found?.device.equals(a.peerId)).toBe(true)
  })
})
