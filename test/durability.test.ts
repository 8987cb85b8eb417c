import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { generateDeviceKey, generateIdentityKey } from '@kith/crypto'
import { allDelivered, befriend, eventually, settled, startNode, tempDir } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'
import type { PrivateKey } from '@libp2p/interface'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

const identities = new Map<string, PrivateKey>()

/** A node over real TCP on loopback with its state in LevelDB, restartable on the same port. */
async function tcpNode (name: string, key: PrivateKey, dir: string, port = 0): Promise<KithNode> {
  // The same identity key across restarts, as a home keeps it.
  const identityKey = identities.get(name) ?? await generateIdentityKey()
  identities.set(name, identityKey)
  const node = await startNode(name, { privateKey: key, identityKey, dbPath: join(dir, name), transport: 'tcp', listen: [`/ip4/127.0.0.1/tcp/${port}`] })
  cleanups.push(async () => { if (node.libp2p.status === 'started') await node.stop() })
  return node
}

function portOf (node: KithNode): number {
  return Number(node.libp2p.getMultiaddrs()[0]?.toString().split('/')[4])
}

describe('durability (TCP, LevelDB)', () => {
  it('keeps queued messages across restarts of both sides and delivers each exactly once, in order', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const [aliceKey, bobKey] = [await generateDeviceKey(), await generateDeviceKey()]
    let alice = await tcpNode('alice', aliceKey, dir.path)
    let bob = await tcpNode('bob', bobKey, dir.path)
    const [alicePort, bobPort] = [portOf(alice), portOf(bob)]
    await befriend(alice, bob)
    // Each hands the other a key package for groups when they become contacts: let those land.
    await settled(alice, bob)

    await bob.stop()
    const sent = []
    for (let i = 0; i < 20; i++) sent.push(await alice.send('bob', `while you were away ${i}`))
    await alice.stop()

    alice = await tcpNode('alice', aliceKey, dir.path, alicePort)
    expect(alice.status().pending).toBe(20)
    expect((await alice.history('bob', { limit: 100 })).every(m => m.status === 'queued' || m.status === 'sent')).toBe(true)

    bob = await tcpNode('bob', bobKey, dir.path, bobPort)
    await allDelivered(alice, 'bob', sent.map(m => m.id))
    const received = await eventually(async () => {
      const h = await bob.history('alice', { limit: 100 })
      return h.length === 20 ? h : undefined
    }, 20_000, 'all 20 messages at bob')
    expect(received.map(m => m.text)).toEqual(sent.map(m => m.text))
    expect(new Set(received.map(m => m.id)).size).toBe(20)
    expect(alice.status().pending).toBe(0)
  })

  it('chats over real TCP with WebSockets enabled too', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const alice = await startNode('alice', { transport: 'tcp', dbPath: join(dir.path, 'a'), listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    cleanups.push(async () => { await alice.stop() })
    const bob = await startNode('bob', { transport: 'tcp', dbPath: join(dir.path, 'b'), listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
    cleanups.push(async () => { await bob.stop() })
    expect(alice.libp2p.getMultiaddrs()[0]?.toString()).toContain('/ws')
    await befriend(alice, bob)
    const m = await bob.send('alice', 'over websockets')
    await allDelivered(bob, 'alice', [m.id])
  })
})
