// Reaching contacts that moved or are offline: presence records in the DHT and friends'
// mailboxes, with real libp2p nodes (in-memory transport) and real LevelDB stores.
// The multi-host version, with NAT and relays, is test/e2e-reach.test.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { generateDeviceKey, generateIdentityKey } from '@kith/crypto'
import { befriend, eventually, settled, tempDir, trackNodes, waitFor } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'
import type { TestNodeOptions } from './helpers/testnet.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })
const node = trackNodes()

/** A node that can be stopped and started again with the same keys and LevelDB store. */
async function restartable (name: string, options: TestNodeOptions = {}): Promise<{ start: () => Promise<KithNode> }> {
  const dir = await tempDir()
  cleanups.push(dir.cleanup)
  const keys = { privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey() }
  return { start: async () => await node(name, { ...keys, dbPath: join(dir.path, 'db'), ...options }) }
}

/** Alice and bob befriend the relay and each other, and have nothing left to hand over. */
async function friends (relay: KithNode, alice: KithNode, bob: KithNode): Promise<void> {
  for (const n of [alice, bob]) { await befriend(relay, n); await settled(relay, n) }
  await befriend(alice, bob, 'alice')
  await settled(alice, bob)
}

const statuses = async (n: KithNode, contact: string, ids: string[]): Promise<string[]> =>
  (await n.history(contact, { limit: 1000 })).filter(m => ids.includes(m.id)).map(m => m.status)

describe('reaching contacts', () => {
  it('finds a contact whose address changed through its presence record in the DHT', async () => {
    const relay = await node('relay')
    const alice = await restartable('alice')
    const bob = await restartable('bob')
    let a = await alice.start()
    let b = await bob.start()
    await friends(relay, a, b)

    // Both leave; bob comes back at a new address (memory addresses are new at every start)
    // and publishes it; then alice comes back knowing only his old one.
    const bare = (n: KithNode): string[] => n.libp2p.getMultiaddrs().map(x => x.decapsulateCode(421).toString())
    const oldAddrs = bare(b)
    await a.stop()
    await b.stop()
    b = await bob.start()
    await b.reach.publish()
    expect(b.reach.status().presencePublishedAt).toBeGreaterThan(0)
    a = await alice.start()
    const known = (await a.libp2p.peerStore.get(b.peerId)).addresses.map(x => x.multiaddr.toString())
    expect(known.some(x => bare(b).includes(x))).toBe(false)
    expect(known.some(x => oldAddrs.includes(x))).toBe(true)

    const sent = await a.send('bob', 'found you')
    const got = await waitFor(b, 'message', m => m.id === sent.id)
    expect(got.text).toBe('found you')
  })

  it('hands mail for an offline contact to its mailbox: stored, then delivered once it drains, in order, once', async () => {
    const relay = await node('relay', { relay: {} })
    const alice = await node('alice')
    const bob = await restartable('bob')
    let b = await bob.start()
    await friends(relay, alice, b)
    await b.reach.addMailbox(await b.resolveContact('relay'))
    expect(b.reach.mailboxes()).toEqual([relay.peerId.toString()])
    await b.reach.publish()
    await b.stop()

    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await alice.send('bob', `while you were away ${i}`)).id)
    await eventually(async () => (await statuses(alice, 'bob', ids)).every(s => s === 'stored'), 30_000, 'mail to be stored')
    const stored = (await alice.history('bob', { limit: 1000 })).filter(m => ids.includes(m.id))
    expect(stored.every(m => m.mailboxes === 1)).toBe(true)
    expect(relay.status().network.holding?.envelopes).toBe(20)
    expect(alice.status().network.waitingInMailboxes).toBe(20)

    b = await bob.start()
    await eventually(async () => (await b.history('alice', { limit: 1000 })).filter(m => m.from !== b.peerId.toString()).length >= 20, 30_000, 'bob to drain his mailbox')
    const got = (await b.history('alice', { limit: 1000 })).filter(m => ids.includes(m.id))
    expect(got.map(m => m.text)).toEqual(ids.map((_, i) => `while you were away ${i}`))
    // Delivered: by bob's end-to-end receipt, or by the direct retry bob's return allows.
    await eventually(async () => (await statuses(alice, 'bob', ids)).every(s => s === 'delivered'), 30_000, 'delivery')
    await eventually(() => relay.status().network.holding?.envelopes === 0, 10_000, 'the mailbox to be emptied')
    expect(b.status().metrics.duplicates + b.status().metrics.received).toBeGreaterThanOrEqual(20)
  })

  it('opens a session with an offline contact from the prekeys in its presence record, and mails it', async () => {
    const relay = await node('relay', { relay: {} })
    const alice = await restartable('alice')
    const bob = await restartable('bob')
    let a = await alice.start()
    let b = await bob.start()
    await friends(relay, a, b)
    await b.reach.addMailbox(await b.resolveContact('relay'))
    await b.reach.publish()
    await b.stop()
    // Alice lost her session with bob (a restored backup, say) while bob is away.
    await a.store.commit([a.store.delSecret(`e2ee/session/${b.peerId.toString()}`)])
    await a.stop()
    a = await alice.start()
    const sent = await a.send('bob', 'a new session, from your published prekeys')
    await eventually(async () => (await statuses(a, 'bob', [sent.id]))[0] === 'stored', 30_000, 'the message to be stored')
    b = await bob.start()
    const got = await waitFor(b, 'message', m => m.id === sent.id)
    expect(got.text).toBe('a new session, from your published prekeys')
  })

  it('refuses a mailbox slot to a stranger and says why; a contact without --relay says it is no mailbox; an offline one cannot answer', async () => {
    const relay = await node('relay', { relay: {} })
    const plain = await node('plain')
    const alice = await node('alice')
    await befriend(alice, plain)
    await expect(alice.reach.addMailbox(await alice.resolveContact('plain'))).rejects.toMatchObject({ name: 'MailboxRefusedError', reason: 'not-a-mailbox' })
    // Alice knows the relay (she kept its address), but the relay does not know her.
    await alice.store.putContact({ peerId: relay.peerId.toString(), name: 'relay', addrs: relay.libp2p.getMultiaddrs().map(String), addedAt: Date.now() })
    await alice.libp2p.peerStore.merge(relay.peerId, { multiaddrs: relay.libp2p.getMultiaddrs() })
    await expect(alice.reach.addMailbox(await alice.resolveContact('relay'))).rejects.toMatchObject({ name: 'MailboxRefusedError', reason: 'not-a-friend' })
    // A contact that is offline can't answer: said so, by name.
    await plain.stop()
    await expect(alice.reach.addMailbox(await alice.resolveContact('plain'))).rejects.toMatchObject({ name: 'ContactUnreachableError' })
    expect(alice.reach.mailboxes()).toEqual([])
  })
})
