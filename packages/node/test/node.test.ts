import { afterEach, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { HOME_FILES, createKithNode, initHome } from '@kith/node'
import { befriend, eventually, startNode, tempDir } from '../../../test/helpers/testnet.js'
import type { KithNode } from '@kith/node'
import type { Server } from 'node:net'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })

/** A node we stop in afterEach, unless the test stopped it already. */
function track (node: KithNode): KithNode {
  let stopped = false
  const stop = node.stop.bind(node)
  node.stop = async () => { if (!stopped) { stopped = true; await stop() } }
  cleanups.push(async () => { await node.stop() })
  return node
}

async function newHome (name: string): Promise<string> {
  const dir = await tempDir('kith-node-')
  cleanups.push(dir.cleanup)
  const home = join(dir.path, 'home')
  await initHome(home, name)
  return home
}

async function errorName (promise: Promise<unknown>): Promise<string> {
  try { await promise } catch (err: any) { return err?.name }
  throw new Error('expected a rejection')
}

const LOOPBACK = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }

const tcpPort = (node: KithNode): number | undefined => {
  const match = node.libp2p.getMultiaddrs().map(String).map(a => /\/tcp\/(\d+)\/p2p\//.exec(a)).find(m => m != null)
  return match != null ? Number(match[1]) : undefined
}

describe('createKithNode from a home folder', () => {
  it('runs with the identity and name of the home, on loopback TCP', async () => {
    const home = await newHome('alice')
    const node = track(await createKithNode({ home, ...LOOPBACK }))
    const status = node.status()
    expect(status).toEqual({
      peerId: node.peerId.toString(),
      name: 'alice',
      identity: expect.stringMatching(/^[0-9a-f]{64}$/),
      addresses: [expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)],
      connections: 0,
      pending: 0,
      metrics: { received: 0, duplicates: 0, refusedNotContact: 0, invalid: 0, forged: 0, replayed: 0, noSession: 0, notYet: 0, resets: 0, rateLimited: 0, delivered: 0, transmitted: 0, deposited: 0, drained: 0, receipted: 0 },
      network: { reachability: 'offline', relays: [], relayAddresses: [], mailboxes: [], waitingInMailboxes: 0, presenceRefused: {} },
      files: { servedBytes: 0, servedChunks: 0, fetchedBytes: 0, badChunks: 0, refused: {}, invalidRequests: 0, idleStreams: 0, downloads: 0 }
    })
    await node.stop()

    // Same identity on the next start; an explicit name wins over the profile's.
    const again = track(await createKithNode({ home, ...LOOPBACK, name: 'alice two' }))
    expect(again.peerId.equals(node.peerId)).toBe(true)
    expect(again.name).toBe('alice two')
  })

  it('refuses a second node on the same home while the first runs', async () => {
    const home = await newHome('alice')
    const first = track(await createKithNode({ home, ...LOOPBACK }))
    expect(await errorName(createKithNode({ home, ...LOOPBACK }))).toBe('NodeRunningError')
    // The first one is unharmed, and the home is free again once it stops.
    expect(first.status().addresses.length).toBe(1)
    await first.stop()
    const second = track(await createKithNode({ home, ...LOOPBACK }))
    expect(second.peerId.equals(first.peerId)).toBe(true)
  })

  it('throws NoIdentityError for a home without an identity, TypeError with neither home nor key', async () => {
    const dir = await tempDir('kith-node-')
    cleanups.push(dir.cleanup)
    expect(await errorName(createKithNode({ home: dir.path, ...LOOPBACK }))).toBe('NoIdentityError')
    await expect(createKithNode({ ...LOOPBACK })).rejects.toThrow(TypeError)
  })

  it('keeps its messages across a restart', async () => {
    const home = await newHome('alice')
    const alice = track(await createKithNode({ home, ...LOOPBACK }))
    const bob = track(await startNode('bob', { ...LOOPBACK, transport: 'tcp' }))
    await befriend(bob, alice, 'bob')
    const sent = await alice.send('bob', 'remember me')
    await alice.stop()
    const again = track(await createKithNode({ home, ...LOOPBACK, start: false }))
    expect((await again.contacts()).map(c => c.name)).toEqual(['bob'])
    expect((await again.history('bob')).map(m => m.id)).toEqual([sent.id])
  })

  // Without `listen` a node listens on 0.0.0.0: nothing dials out here (no mDNS, no bootstrap,
  // no contacts), so the test stays on this machine.
  it('saves its ports in ports.json and listens on the same TCP port after a restart', async () => {
    const home = await newHome('alice')
    const first = track(await createKithNode({ home, mdns: false }))
    const saved = JSON.parse(await readFile(join(home, HOME_FILES.ports), 'utf8'))
    expect(Object.keys(saved).sort()).toEqual(['tcp', 'ws'])
    expect(tcpPort(first)).toBe(saved.tcp)
    await first.stop()

    const second = track(await createKithNode({ home, mdns: false }))
    expect(tcpPort(second)).toBe(saved.tcp)
    expect(second.libp2p.getMultiaddrs().map(String).some(a => a.includes(`/tcp/${saved.ws as number}/ws/`))).toBe(true)
  })

  it('falls back to fresh ports when the saved one is taken', async () => {
    const home = await newHome('alice')
    const first = track(await createKithNode({ home, mdns: false }))
    const saved = JSON.parse(await readFile(join(home, HOME_FILES.ports), 'utf8'))
    await first.stop()

    const squatter: Server = createServer()
    await new Promise<void>((resolve, reject) => { squatter.once('error', reject); squatter.listen(saved.tcp, '0.0.0.0', resolve) })
    cleanups.push(async () => { await new Promise(resolve => squatter.close(resolve)) })
    const second = track(await createKithNode({ home, mdns: false }))
    expect(tcpPort(second)).toBeDefined()
    expect(tcpPort(second)).not.toBe(saved.tcp)
    expect(JSON.parse(await readFile(join(home, HOME_FILES.ports), 'utf8')).tcp).toBe(tcpPort(second))
  })
})

describe('createKithNode on a taken port', () => {
  it('fails with UnsupportedListenAddressesError and leaves the home usable', async () => {
    const home = await newHome('alice')
    const squatter: Server = createServer()
    await new Promise<void>(resolve => { squatter.listen(0, '127.0.0.1', resolve) })
    cleanups.push(async () => { await new Promise(resolve => squatter.close(resolve)) })
    const taken = (squatter.address() as { port: number }).port
    expect(await errorName(createKithNode({ home, listen: [`/ip4/127.0.0.1/tcp/${taken}`], mdns: false }))).toBe('UnsupportedListenAddressesError')
    const node = track(await createKithNode({ home, ...LOOPBACK }))
    expect(node.status().addresses).toHaveLength(1)
  })
})

describe('contacts of a running node', () => {
  it('shows a contact online while connected and offline once it stops', async () => {
    const alice = track(await startNode('alice'))
    const bob = track(await startNode('bob'))
    await befriend(alice, bob)
    await eventually(async () => (await alice.contacts())[0]?.online === true, 20_000, 'bob online')
    expect(await alice.contacts()).toEqual([{ name: 'bob', peerId: bob.peerId.toString(), online: true, connection: 'direct', verified: false, identityChanged: false, groupReady: expect.any(Boolean), devices: 1, unread: 0 }])
    expect(alice.status().connections).toBe(1)
    await bob.stop()
    await eventually(async () => (await alice.contacts())[0]?.online === false, 20_000, 'bob offline')
    expect(alice.status().connections).toBe(0)
  })

  it('resolves a contact by name or peer id, and nothing else', async () => {
    const alice = track(await startNode('alice'))
    const bob = track(await startNode('bob'))
    await befriend(bob, alice, 'bobby')
    const byName = await alice.resolveContact('bobby')
    expect(byName.peerId).toBe(bob.peerId.toString())
    expect((await alice.resolveContact(bob.peerId.toString())).name).toBe('bobby')
    expect(await errorName(alice.resolveContact('bob'))).toBe('UnknownContactError')
    expect(await errorName(alice.resolveContact(alice.peerId.toString()))).toBe('UnknownContactError')
    expect(await errorName(alice.send('nobody', 'hi'))).toBe('UnknownContactError')
    expect(await errorName(alice.history('nobody'))).toBe('UnknownContactError')
  })
})
