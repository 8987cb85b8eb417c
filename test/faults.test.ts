import { afterEach, describe, expect, it } from 'vitest'
import { cp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Envelope } from '@kith/core'
import { allDelivered, befriend, eventually, settled, tempDir, trackNodes } from './helpers/testnet.js'
import { CLEAN, ledger } from './helpers/ledger.js'
import type { KithNode, KithNodeOptions } from '@kith/node'

// Faults that break sessions, in process (real LevelDB, in-memory transport): each ends with a
// ledger of what the sender sent against what the receiver holds.
describe('sessions that heal', () => {
  const node = trackNodes()
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

  /** A user whose node can be stopped and started again on the same keys and LevelDB folder. */
  async function user (name: string, dir: string): Promise<{ options: Partial<KithNodeOptions> & { dbPath: string } }> {
    const { generateDeviceKey, generateIdentityKey } = await import('@kith/crypto')
    return { options: { privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey(), dbPath: join(dir, name) } }
  }

  /** Start `name` again and have it dial `peer`. */
  async function restart (name: string, options: Partial<KithNodeOptions>, peer: KithNode): Promise<KithNode> {
    const started = await node(name, options)
    await started.libp2p.peerStore.merge(peer.peerId, { multiaddrs: peer.libp2p.getMultiaddrs() })
    await peer.libp2p.peerStore.merge(started.peerId, { multiaddrs: started.libp2p.getMultiaddrs() })
    return started
  }

  /** Alice and bob, each restartable on its own LevelDB, as contacts with a message each way. */
  async function pair (): Promise<{ dir: string, a: Awaited<ReturnType<typeof user>>, b: Awaited<ReturnType<typeof user>>, alice: KithNode, bob: KithNode }> {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const a = await user('alice', dir.path)
    const b = await user('bob', dir.path)
    const alice = await node('alice', a.options)
    const bob = await node('bob', b.options)
    await befriend(alice, bob)
    await settled(alice, bob)
    await allDelivered(alice, 'bob', [(await alice.send('bob', 'hello bob')).id])
    await allDelivered(bob, 'alice', [(await bob.send('alice', 'hi alice')).id])
    return { dir: dir.path, a, b, alice, bob }
  }

  /** The envelopes of these messages waiting in `from`'s outbox for `peer`, decoded. */
  async function waiting (from: KithNode, peer: KithNode, messages: Array<{ id: string }>): Promise<Envelope[]> {
    const ids = new Set(messages.map(m => m.id))
    return (await from.store.pendingOutbox(peer.peerId.toString())).filter(e => ids.has(e.id)).map(e => Envelope.decode(e.envelope))
  }

  async function outgoing (from: KithNode, contact: string): Promise<Array<{ id: string, status: string }>> {
    return (await from.history(contact, { limit: 1000 })).filter(m => m.from === from.peerId.toString())
  }

  it('delivers what a sender restored from an older copy of its home sends, refusing and losing nothing, with fresh nonces', async () => {
    const started = await pair()
    const { a, b, dir } = started
    let { alice, bob } = started

    // A backup of alice's home, taken while her node is stopped.
    await alice.stop()
    await cp(a.options.dbPath, join(dir, 'alice-backup'), { recursive: true })
    alice = await restart('alice', a.options, bob)

    // Three messages in her first life, held while bob is away so their envelopes can be read.
    await bob.stop()
    const firstLife = [await alice.send('bob', 'first life 1'), await alice.send('bob', 'first life 2'), await alice.send('bob', 'first life 3')]
    const firstEnvelopes = await waiting(alice, bob, firstLife)
    bob = await restart('bob', b.options, alice)
    await allDelivered(alice, 'bob', firstLife.map(m => m.id))

    // Her home is restored from the backup: her sessions are back where they were.
    await alice.stop()
    await rm(a.options.dbPath, { recursive: true })
    await cp(join(dir, 'alice-backup'), a.options.dbPath, { recursive: true })
    await bob.stop()
    alice = await node('alice', a.options)
    const secondLife = [await alice.send('bob', 'second life 1'), await alice.send('bob', 'second life 2'), await alice.send('bob', 'second life 3')]
    const secondEnvelopes = await waiting(alice, bob, secondLife)
    // The same session counters again (the same seal tags: the restored session counts from
    // where the backup left it), but never the same nonce under them.
    const tag = (e: Envelope): string => Buffer.from(e.body.subarray(0, 16)).toString('hex')
    const nonce = (e: Envelope): string => Buffer.from(e.body.subarray(16, 28)).toString('hex')
    const firstNonces = new Map(firstEnvelopes.map(e => [tag(e), nonce(e)]))
    const reused = secondEnvelopes.filter(e => firstNonces.has(tag(e)))
    expect(reused.length).toBeGreaterThanOrEqual(2)
    for (const e of reused) expect(nonce(e)).not.toBe(firstNonces.get(tag(e)))

    bob = await restart('bob', b.options, alice)
    await allDelivered(alice, 'bob', secondLife.map(m => m.id))
    expect(alice.status().metrics.resets).toBeGreaterThanOrEqual(1)
    const atBob = await bob.history('alice', { limit: 1000 })
    expect(ledger(await outgoing(alice, 'bob'), atBob)).toEqual(CLEAN)
    // Bob keeps what the first life sent too (alice's restored home lost it, he did not).
    expect(ledger(firstLife.map(m => ({ id: m.id, status: 'delivered' })), atBob)).toEqual(CLEAN)
    expect(bob.status().metrics.refusedNotContact).toBe(0)

    // And both ways work on: bob's reply opens in alice's renewed session.
    const reply = await bob.send('alice', 'welcome back')
    await allDelivered(bob, 'alice', [reply.id])
  })

  it('renews a session the receiver lost, and delivers everything once, in order', async () => {
    const started = await pair()
    const { alice, b } = started
    let { bob } = started

    // Bob's record of his session with alice is gone (a damaged or partly restored home).
    await bob.store.commit([bob.store.delSecret(`e2ee/session/${alice.peerId.toString()}`)])
    await bob.stop()
    bob = await restart('bob', b.options, alice)
    const sent = []
    for (let i = 0; i < 10; i++) sent.push(await alice.send('bob', `after ${i}`))
    await allDelivered(alice, 'bob', sent.map(m => m.id))
    expect(alice.status().metrics.resets).toBeGreaterThanOrEqual(1)
    expect(ledger(await outgoing(alice, 'bob'), await bob.history('alice', { limit: 1000 }))).toEqual(CLEAN)
    const reply = await bob.send('alice', 'still here')
    await allDelivered(bob, 'alice', [reply.id])
    expect(ledger(await outgoing(bob, 'alice'), await alice.history('bob', { limit: 1000 }))).toEqual(CLEAN)
  })

  it('opens envelopes that arrive out of order, as from two mailboxes drained one after the other', async () => {
    const { alice, bob, b } = await pair()

    // Bob is away: twenty envelopes wait at alice; say mailbox one holds the even ones, mailbox two the odd ones.
    await bob.stop()
    const sent = []
    for (let i = 0; i < 20; i++) sent.push(await alice.send('bob', `while away ${i}`))
    const ids = new Set(sent.map(m => m.id))
    const envelopes = (await alice.store.pendingOutbox(bob.peerId.toString())).filter(e => ids.has(e.id)).map(e => e.envelope)
    expect(envelopes).toHaveLength(20)
    await alice.stop()
    const bob2 = await node('bob', b.options)
    const odd = envelopes.filter((_, i) => i % 2 === 1)
    const even = envelopes.filter((_, i) => i % 2 === 0)
    // The second mailbox is drained first, newest first even; then the first.
    expect(await bob2.messaging.receiveDeposited([...odd].reverse())).toEqual(odd.map(() => true))
    expect(await bob2.messaging.receiveDeposited(even)).toEqual(even.map(() => true))
    const atBob = await bob2.history('alice', { limit: 1000 })
    const result = ledger(sent.map(m => ({ id: m.id, status: 'sent' })), atBob)
    // They arrived out of order by construction; none is lost or doubled.
    expect({ ...result, outOfOrder: false }).toEqual(CLEAN)
    expect(bob2.status().metrics).toMatchObject({ noSession: 0, replayed: 0 })
  })
})
