// Reaching contacts that moved or are offline: presence records in the DHT and friends'
// mailboxes, with real libp2p nodes (in-memory transport) and real LevelDB stores.
// The multi-host version, with NAT and relays, is test/e2e-reach.test.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ENCRYPTION_SEALED, ENVELOPE_VERSION, Envelope } from '@kith/core'
import { generateDeviceKey, generateIdentityKey } from '@kith/crypto'
import { MAILBOX_PROTOCOL, deposit } from '@kith/mailbox'
import { HOME_FILES, createKithNode, initHome, linkHome } from '@kith/node'
import { multiaddr } from '@multiformats/multiaddr'
import { befriend, eventually, settled, tempDir, trackNodes, waitFor } from './helpers/testnet.js'
import type { KithNode, KithNodeOptions } from '@kith/node'
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

/** In-process nodes on loopback TCP (the relay's rules look at source addresses). */
const TCP = { transport: 'tcp' as const, listen: ['/ip4/127.0.0.1/tcp/0'] }

/** The relay's first TCP address, with its peer id. */
const addressOf = (n: KithNode): string => n.libp2p.getMultiaddrs().map(String).find(a => a.includes('/tcp/') && !a.includes('/ws') && !a.includes('p2p-circuit')) as string

/** A sealed-looking envelope for `peer` (the mailbox reads only its recipient and id). */
const envelopeFor = (peer: KithNode): Uint8Array<ArrayBuffer> => Envelope.encode({
  version: ENVELOPE_VERSION, id: new Uint8Array(randomBytes(16)), recipient: peer.peerId.toMultihash().bytes,
  timestamp: BigInt(Date.now()), encryption: ENCRYPTION_SEALED, body: new Uint8Array(randomBytes(200))
})

/** Deposit at `relay`'s mailbox from `from`, as any sender would. */
async function depositAt (from: KithNode, relay: KithNode, envelopes: Uint8Array[]): Promise<string[]> {
  const stream = await from.libp2p.dialProtocol(multiaddr(addressOf(relay)), MAILBOX_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  try { return await deposit(stream, envelopes) } finally { await stream.close().catch(() => {}) }
}

/** Files under `dir` holding any of `needles`, as "file: name". */
async function filesHolding (dir: string, needles: Record<string, Uint8Array>): Promise<string[]> {
  const hits: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const bytes = await readFile(join(entry.parentPath, entry.name))
    for (const [name, needle] of Object.entries(needles)) if (bytes.includes(needle)) hits.push(`${entry.name}: ${name}`)
  }
  return hits
}

/** The forms a peer could take on disk: its peer id string and its multihash bytes. */
const forms = (name: string, n: KithNode): Record<string, Uint8Array> => ({ [`${name} (peer id)`]: Buffer.from(n.peerId.toString()), [`${name} (multihash)`]: n.peerId.toMultihash().bytes })

describe('relaying for friends', () => {
  it('lets strangers reach a friend through the relay, but no more circuits from one address than allowed; the relay\'s contacts are not counted', { timeout: 120_000 }, async () => {
    const relay = await node('relay', { ...TCP, relay: { strangerCircuitsPerSource: 2 } })
    const friend = await node('friend', TCP)
    const other = await node('other', TCP)
    for (const n of [friend, other]) { await befriend(relay, n); await settled(relay, n) }
    await eventually(() => friend.reach.status().relays.includes(relay.peerId.toString()), 60_000, 'the friend to hold a reservation on the relay')
    const circuit = multiaddr(`${addressOf(relay)}/p2p-circuit/p2p/${friend.peerId.toString()}`)
    const dial = async (n: KithNode): Promise<string> => await n.libp2p.dial(circuit, { signal: AbortSignal.timeout(15_000), force: true }).then(() => 'connected', (err: any) => String(err?.message))

    // Four strangers with fresh peer ids, all from 127.0.0.1, each holding its circuit open.
    const strangers = await Promise.all(Array.from({ length: 4 }, async (_, i) => await node(`stranger${i}`, TCP)))
    const answers: string[] = []
    for (const s of strangers) answers.push(await dial(s))
    expect(answers.slice(0, 2)).toEqual(['connected', 'connected'])
    for (const answer of answers.slice(2)) expect(answer).toMatch(/PERMISSION_DENIED/)
    expect(relay.status().network.relaying?.refused).toMatchObject({ 'stranger-circuits-per-source': 2 })

    // A contact of the relay, from the same address, is not a stranger.
    expect(await dial(other)).toBe('connected')
    // A stranger hangs up: another one gets its place.
    await strangers[0]?.libp2p.hangUp(friend.peerId)
    await eventually(async () => await dial(strangers[2] as KithNode) === 'connected', 30_000, 'a freed circuit to be taken')
  })

  it('counts a contact\'s linked device as that contact: reservation, mailbox, and its share of a mailbox; the mailbox on disk names no one', { timeout: 240_000 }, async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const homeNode = async (home: string, options: Partial<KithNodeOptions> = {}): Promise<KithNode> => {
      const n = await createKithNode({ home, ...TCP, mdns: false, ...options })
      cleanups.unshift(async () => { if (n.libp2p.status === 'started') await n.stop() })
      return n
    }
    await initHome(join(dir.path, 'relay'), 'relay')
    await initHome(join(dir.path, 'bob1'), 'bob')
    // One depositor holds at most a quarter of a recipient's 8 envelopes.
    const relay = await homeNode(join(dir.path, 'relay'), { relay: {}, mailbox: { perRecipient: { envelopes: 8 }, depositorShare: 0.25 } })
    const bob1 = await homeNode(join(dir.path, 'bob1'))
    const alice = await node('alice', TCP)
    for (const n of [bob1, alice]) { await befriend(relay, n, 'relay'); await settled(relay, n) }

    // Bob links a second device; the relay learns of it from bob's signed device list.
    const { code } = await bob1.devices.createLinkCode()
    const confirm = (bob1.devices as { confirmLink?: (comparison: string) => Promise<unknown> }).confirmLink?.bind(bob1.devices)
    await linkHome(join(dir.path, 'bob2'), code, { deviceName: 'phone', onComparison: (c: string) => { void confirm?.(c) } } as any)
    const bob2 = await homeNode(join(dir.path, 'bob2'))
    await eventually(async () => (await relay.store.getContact(bob1.peerId.toString()))?.devices?.includes(bob2.peerId.toString()), 60_000, 'the relay to learn of bob\'s second device')
    expect(await relay.store.getContact(bob2.peerId.toString())).toBeUndefined()

    // Bob's second device holds a reservation on the relay and registers a mailbox there.
    await eventually(() => bob2.reach.status().relays.includes(relay.peerId.toString()), 60_000, 'bob\'s second device to hold a reservation')
    await bob2.reach.addMailbox(await bob2.resolveContact('relay'))
    expect(bob2.reach.mailboxes()).toEqual([relay.peerId.toString()])

    // Alice registers too, then goes away (so nothing drains her mailbox).
    await alice.reach.addMailbox(await alice.resolveContact('relay'))
    await alice.stop()
    // Bob's devices share bob's quarter of alice's mailbox; a stranger has its own.
    expect(await depositAt(bob1, relay, [envelopeFor(alice), envelopeFor(alice)])).toEqual(['stored', 'stored'])
    expect(await depositAt(bob2, relay, [envelopeFor(alice)])).toEqual(['quota-depositor'])
    const stranger = await node('stranger', TCP)
    expect(await depositAt(stranger, relay, [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice)])).toEqual(['stored', 'stored', 'quota-depositor'])
    expect(relay.status().network.holding).toMatchObject({ envelopes: 4, refused: { 'quota-depositor': 2 } })

    // The relay's mailbox database, at rest, names none of them.
    await relay.stop()
    const needles = { ...forms('alice', alice), ...forms('bob1', bob1), ...forms('bob2', bob2), ...forms('stranger', stranger) }
    expect(await filesHolding(join(dir.path, 'relay', HOME_FILES.mailbox), needles)).toEqual([])
  })
})
