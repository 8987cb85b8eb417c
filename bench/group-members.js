// The members one process of bench/groups.js hosts: real Kith nodes (TCP on loopback, Kith's
// gossipsub settings), each a member of one MLS group through a GroupChannel, and subscribed to
// a raw gossipsub topic for the side-by-side floor. Arrival times are stamped here.
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { GroupChannel, GroupReplica, KithGroup, decodeKeyPackage, deviceKeyPackage, encodeKeyPackage } from '@kith/groups'
import { createKithNode } from '@kith/node'
import { memoryStore } from '@kith/store'
import { multiaddr } from '@multiformats/multiaddr'
import { LISTEN, now } from './lib.js'

export const RAW_TOPIC = '/bench/raw-gossip/1.0.0'

/** Sequence numbers ride at the front of every benchmark message: 8 decimal digits. */
export const seqOf = (text) => Number(text.slice(0, 8))
export const textFor = (seq, size) => String(seq).padStart(8, '0').padEnd(size, '.')

export class Members {
  /** Per member: node, key packages, channel. */
  list = []
  /** Arrival stamps: side → seq → [ms, …] (one per member that got it). */
  stamps = { raw: new Map(), kith: new Map() }
  /** The sides whose arrivals are stamped now. */
  stamping = new Set()

  async start (count, firstIndex) {
    for (let i = 0; i < count; i++) {
      const privateKey = await generateDeviceKey()
      const identityKey = await generateIdentityKey()
      const store = await memoryStore()
      const node = await createKithNode({ privateKey, identityKey, name: `m${firstIndex + i}`, store, listen: LISTEN, mdns: false })
      const packages = await deviceKeyPackage(privateKey, issueDeviceCertificate(identityKey, privateKey.publicKey))
      this.list.push({ index: firstIndex + i, node, store, packages, channel: null })
    }
  }

  /** Every member's addresses and public key package (MLS-encoded, base64), for the other process. */
  describe () {
    return this.list.map(m => ({
      index: m.index,
      addrs: m.node.libp2p.getMultiaddrs().map(String),
      keyPackage: Buffer.from(encodeKeyPackage(m.packages.publicPackage)).toString('base64')
    }))
  }

  /** Join the group from the Welcome (all but `created`, which already holds its state), and subscribe both topics. */
  async join (welcome, topicSecret, created) {
    for (const m of this.list) {
      const group = created?.index === m.index ? created.group : await KithGroup.join(welcome, m.packages.publicPackage, m.packages.privatePackage)
      const pubsub = m.node.libp2p.services.pubsub
      m.channel = new GroupChannel(pubsub, new GroupReplica(group), topicSecret)
      const self = m.node.peerId.toString()
      m.channel.addEventListener('message', (evt) => { if (evt.detail.sender !== self) this.stamp('kith', seqOf(evt.detail.text)) })
      m.channel.start()
      pubsub.subscribe(RAW_TOPIC)
      pubsub.addEventListener('message', (evt) => {
        if (evt.detail.topic === RAW_TOPIC) this.stamp('raw', new DataView(evt.detail.data.buffer, evt.detail.data.byteOffset).getUint32(0))
      })
    }
  }

  /** Dial, for each member, the members at these addresses. */
  async connect (targets) {
    await Promise.all(this.list.map(async (m) => {
      for (const addr of targets[m.index] ?? []) await m.node.libp2p.dial(multiaddr(addr)).catch(() => {})
    }))
  }

  /** How many members each member sees on both topics (the mesh is ready when all see enough). */
  topicPeers () {
    return this.list.map(m => {
      const pubsub = m.node.libp2p.services.pubsub
      return Math.min(pubsub.getSubscribers(m.channel.topic).length, pubsub.getSubscribers(RAW_TOPIC).length)
    })
  }

  stamp (side, seq) {
    if (!this.stamping.has(side)) return
    const times = this.stamps[side].get(seq) ?? []
    times.push(now())
    this.stamps[side].set(seq, times)
  }

  async stop () {
    await Promise.allSettled(this.list.map(async m => { m.channel?.stop(); await m.node.stop(); await m.store.close() }))
  }
}

/** A key package sent by the other process. */
export function keyPackageFrom (base64) {
  return decodeKeyPackage(Buffer.from(base64, 'base64'))
}
