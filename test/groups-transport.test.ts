import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { GroupChannel, GroupReplica, KithGroup, SYNC_PROTOCOL, catchUp, deviceKeyPackage, encodeGroupEnvelope, serveCatchUp } from '@kith/groups'
import { befriend, eventually, trackNodes } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'

/**
 * Groups over real libp2p nodes (in-memory transport, real gossipsub): a group's messages
 * travel on its topic as padded, unsigned envelopes, and every member's replica converges.
 * The Welcome is handed over directly here; over the 1:1 channel it comes with the group CLI.
 */

const startTracked = trackNodes()

async function member (name: string): Promise<{ node: KithNode, identity: string, keyPackage: Awaited<ReturnType<typeof deviceKeyPackage>> }> {
  const privateKey = await generateDeviceKey()
  const identityKey = await generateIdentityKey()
  const node = await startTracked(name, { privateKey, identityKey })
  return { node, identity: identityFingerprint(identityKey.publicKey), keyPackage: await deviceKeyPackage(privateKey, issueDeviceCertificate(identityKey, privateKey.publicKey)) }
}

describe('groups over gossipsub', () => {
  it('carries texts and commits between three nodes, padded and unsigned, and every member ends with one history', async () => {
    const [alice, bob, carol] = await Promise.all([member('alice'), member('bob'), member('carol')])
    await befriend(alice.node, bob.node)
    await befriend(alice.node, carol.node)
    await befriend(bob.node, carol.node)

    const created = await KithGroup.create('Trio', alice.keyPackage.publicPackage, alice.keyPackage.privatePackage)
    const added = await created.add([bob.keyPackage.publicPackage, carol.keyPackage.publicPackage])
    const topicSecret = randomBytes(32)
    const channels = [
      new GroupChannel(alice.node.libp2p.services.pubsub, new GroupReplica(added.group), topicSecret),
      new GroupChannel(bob.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, bob.keyPackage.publicPackage, bob.keyPackage.privatePackage)), topicSecret),
      new GroupChannel(carol.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, carol.keyPackage.publicPackage, carol.keyPackage.privatePackage)), topicSecret)
    ]
    for (const c of channels) c.start()
    // Wait until each node sees the others on the topic (gossipsub meshes after a heartbeat).
    await eventually(() => [alice, bob, carol].every(m => m.node.libp2p.services.pubsub.getSubscribers(channels[0]!.topic).length === 2), 20_000, 'topic peers')

    const [a, b, c] = channels as [GroupChannel, GroupChannel, GroupChannel]
    // What bob's gossipsub hands up: unsigned messages (no author), sizes in 256-byte steps.
    const seen: Array<{ type: string, from: unknown, size: number }> = []
    bob.node.libp2p.services.pubsub.addEventListener('message', (evt) => {
      if (evt.detail.topic === a.topic) seen.push({ type: evt.detail.type, from: (evt.detail as { from?: unknown }).from, size: evt.detail.data.length })
    })
    await a.send('hello from alice')
    await b.send('hello from bob')
    await a.intend({ kind: 'rename', name: 'Trio club' })
    await c.send('hello from carol')
    const texts = (ch: GroupChannel): string[] => ch.replica.history().map(m => m.text).sort()
    const expected = ['hello from alice', 'hello from bob', 'hello from carol']
    await eventually(() => channels.every(ch => texts(ch).length === 3 && ch.replica.head.meta().name === 'Trio club'), 20_000, 'all texts and the rename everywhere')
    for (const ch of channels) {
      expect(texts(ch)).toEqual(expected)
      expect(ch.replica.head.epoch).toBe(a.replica.head.epoch)
      expect(ch.replica.chain()).toEqual(a.replica.chain())
    }
    expect(seen.length).toBeGreaterThan(0)
    for (const m of seen) expect(m).toEqual({ type: 'unsigned', from: undefined, size: expect.any(Number) })
    expect(seen.every(m => m.size % 256 === 0)).toBe(true)
    // Senders are the MLS-authenticated devices.
    expect(b.replica.history().find(m => m.text === 'hello from alice')?.sender).toBe(alice.node.peerId.toString())

    // Garbage on the topic is refused by the validator and counted; the group keeps working.
    const invalidBefore = b.metrics.invalid + c.metrics.invalid
    await alice.node.libp2p.services.pubsub.publish(a.topic, randomBytes(300))
    await alice.node.libp2p.services.pubsub.publish(a.topic, encodeGroupEnvelope(randomBytes(200)))
    await eventually(() => b.metrics.invalid + c.metrics.invalid >= invalidBefore + 2, 20_000, 'refusals counted')
    await c.send('still here')
    await eventually(() => texts(a).includes('still here') && texts(b).includes('still here'), 20_000, 'a text after the garbage')
    for (const ch of channels) ch.stop()
  }, 60_000)

  it('catches up a member that was away, from another member: the commits it missed, then the texts, by reconciliation', async () => {
    const [alice, bob, carol, dave] = await Promise.all([member('alice'), member('bob'), member('carol'), member('dave')])
    await befriend(alice.node, bob.node)
    await befriend(alice.node, carol.node)
    await befriend(bob.node, carol.node)
    await befriend(carol.node, dave.node)
    const added = await (await KithGroup.create('Away', alice.keyPackage.publicPackage, alice.keyPackage.privatePackage)).add([bob.keyPackage.publicPackage, carol.keyPackage.publicPackage])
    const topicSecret = randomBytes(32)
    const [a, b, c] = [
      new GroupChannel(alice.node.libp2p.services.pubsub, new GroupReplica(added.group), topicSecret),
      new GroupChannel(bob.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, bob.keyPackage.publicPackage, bob.keyPackage.privatePackage)), topicSecret),
      new GroupChannel(carol.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, carol.keyPackage.publicPackage, carol.keyPackage.privatePackage)), topicSecret)
    ] as [GroupChannel, GroupChannel, GroupChannel]
    a.start()
    b.start()
    // Members serve catch-up for the groups they are in.
    const replicas = [a.replica, b.replica, c.replica]
    for (const m of [alice, bob, carol]) {
      // These channels live outside the nodes' own group service: serve them instead of it.
      await m.node.libp2p.unhandle(SYNC_PROTOCOL)
      await m.node.libp2p.handle(SYNC_PROTOCOL, (stream, connection) => {
        void serveCatchUp(stream, connection.remotePeer, id => replicas.find(r => r.head.id === id && r.head.member(r.head.ownLeaf)?.device === m.node.peerId.toString())).catch(() => {})
      })
    }
    await eventually(() => alice.node.libp2p.services.pubsub.getSubscribers(a.topic).length === 1, 20_000, 'alice and bob on the topic')

    // Carol is away while the group renames and talks.
    await a.send('while carol was away')
    await a.intend({ kind: 'rename', name: 'Away club' })
    await b.send('bob too')
    await eventually(() => b.replica.history().length === 2 && b.replica.head.meta().name === 'Away club', 20_000, 'bob has it all')
    expect(c.replica.history()).toHaveLength(0)

    // Bob hands on a text in alice's name that alice did not sign: carol drops it.
    b.replica.merge([{ id: 'ab'.repeat(16), sender: alice.node.peerId.toString(), ts: Date.now(), text: 'forged by bob', epoch: b.replica.head.epoch, signature: new Uint8Array(64) }])
    const result = await catchUp(await carol.node.libp2p.dialProtocol(bob.node.peerId, SYNC_PROTOCOL), c.replica)
    expect(result).toEqual({ commits: 1, fetched: 2, pushed: 0 })
    expect(c.replica.head.epoch).toBe(b.replica.head.epoch)
    expect(c.replica.head.meta().name).toBe('Away club')
    expect(c.replica.history().map(m => m.text).sort()).toEqual(['bob too', 'while carol was away'])
    expect(c.replica.history().find(m => m.text === 'bob too')?.sender).toBe(bob.node.peerId.toString())

    // Back on the topic, carol reads and writes like everyone.
    c.start()
    await eventually(() => carol.node.libp2p.services.pubsub.getSubscribers(c.topic).length === 2, 20_000, 'carol back on the topic')
    await c.send('back')
    await eventually(() => a.replica.history().some(m => m.text === 'back'), 20_000, 'alice reads carol again')

    // A device outside the group is refused, by name.
    const outsider = new GroupReplica(await KithGroup.create('Other', dave.keyPackage.publicPackage, dave.keyPackage.privatePackage))
    await expect(catchUp(await dave.node.libp2p.dialProtocol(carol.node.peerId, SYNC_PROTOCOL), outsider)).rejects.toMatchObject({ name: 'CatchUpError' })
    for (const ch of [a, b, c]) ch.stop()
  }, 60_000)

  it('refuses what does not belong, counts it, and keeps going; a removed member reads nothing sent after its removal', async () => {
    const [alice, bob, carol, mallory] = await Promise.all([member('alice'), member('bob'), member('carol'), member('mallory')])
    for (const [x, y] of [[alice, bob], [alice, carol], [bob, carol], [alice, mallory], [bob, mallory]] as const) await befriend(x.node, y.node)
    const added = await (await KithGroup.create('Guarded', alice.keyPackage.publicPackage, alice.keyPackage.privatePackage)).add([bob.keyPackage.publicPackage, carol.keyPackage.publicPackage])
    const topicSecret = randomBytes(32)
    const channels = [
      new GroupChannel(alice.node.libp2p.services.pubsub, new GroupReplica(added.group), topicSecret),
      new GroupChannel(bob.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, bob.keyPackage.publicPackage, bob.keyPackage.privatePackage)), topicSecret),
      new GroupChannel(carol.node.libp2p.services.pubsub, new GroupReplica(await KithGroup.join(added.welcome, carol.keyPackage.publicPackage, carol.keyPackage.privatePackage)), topicSecret)
    ]
    const [a, b, c] = channels as [GroupChannel, GroupChannel, GroupChannel]
    for (const ch of channels) ch.start()
    // Mallory learned the topic (say, from a leak) but is no member: she has a group of her own.
    const malloryGroup = await KithGroup.create('Mine', mallory.keyPackage.publicPackage, mallory.keyPackage.privatePackage)
    const pubsub = mallory.node.libp2p.services.pubsub
    pubsub.subscribe(a.topic)
    await eventually(() => alice.node.libp2p.services.pubsub.getSubscribers(a.topic).length === 3, 20_000, 'everyone on the topic')
    await a.send('hello')
    await eventually(() => b.replica.history().length === 1 && c.replica.history().length === 1, 20_000, 'hello everywhere')

    const invalid = (): number => a.metrics.invalid + b.metrics.invalid
    const before = invalid()
    // Another group's content, an oversized envelope, and a malformed "commit".
    const foreign = await malloryGroup.encrypt(new Uint8Array(40))
    await pubsub.publish(a.topic, encodeGroupEnvelope(foreign.message))
    await pubsub.publish(a.topic, new Uint8Array(2 * 1024 * 1024))
    await pubsub.publish(a.topic, encodeGroupEnvelope(new Uint8Array([0, 1, 0, 2, 1, 2, 3])))
    await eventually(() => invalid() >= before + 4, 20_000, 'refusals counted (a few per member)')
    // A replay of a message already read changes nothing.
    const replayed = await b.replica.send('from bob')
    for (const bytes of replayed) await bob.node.libp2p.services.pubsub.publish(b.topic, encodeGroupEnvelope(bytes))
    await eventually(() => a.replica.history().length === 2, 20_000, 'bob\'s text')
    await pubsub.publish(a.topic, encodeGroupEnvelope(replayed[0]!)).catch(() => {})
    await a.idle()
    expect(a.replica.history().map(m => m.text).sort()).toEqual(['from bob', 'hello'])

    // Alice removes carol: carol's node still hears the topic, but reads nothing after.
    await a.intend({ kind: 'remove', who: carol.identity })
    await eventually(() => b.replica.head.members().length === 2 && c.replica.removed, 20_000, 'carol removed everywhere')
    await a.send('carol must not read this')
    await eventually(() => b.replica.history().some(m => m.text === 'carol must not read this'), 20_000, 'bob reads it')
    await c.idle()
    expect(c.replica.history().map(m => m.text)).not.toContain('carol must not read this')
    // Nor with her last keys, directly: the new epoch's content does not decrypt for her.
    const sent = await a.replica.send('nor this')
    await expect(c.replica.head.process(sent[0]!)).rejects.toMatchObject({ name: 'InvalidGroupMessageError' })
    // And the group keeps working.
    await b.send('still fine')
    await eventually(() => a.replica.history().some(m => m.text === 'still fine'), 20_000, 'after all that')
    for (const ch of channels) ch.stop()
  }, 60_000)

  it('pads every envelope to a multiple of 256 bytes', () => {
    for (let n = 1; n < 2000; n += 37) expect(encodeGroupEnvelope(new Uint8Array(n)).length % 256, `mls of ${n} bytes`).toBe(0)
  })
})
