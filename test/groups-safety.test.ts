import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { lpStream } from '@libp2p/utils'
import { GroupChannel, GroupReplica, KEY_PACKAGE_PROTOCOL, KeyPackages, KithGroup, MAX_SERVED_PER_CONTACT, decodeKeyPackage, deviceKeyPackage, encodeGroupEnvelope, encodeKeyPackage, encodeTextBody, signText } from '@kith/groups'
import { memoryStore } from '@kith/store'
import { befriend, eventually, settled, tempDir, trackNodes } from './helpers/testnet.js'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { KithNode } from '@kith/node'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Faults that must not let anyone rewrite a group's history or reuse its keys (issue 15):
 * a removed admin replaying its old state, a member away while the group moved to a new
 * topic, a node that dies while a text goes out, and a contact asking for key packages
 * without end. In-process nodes (memory transport, real gossipsub, real LevelDB where a
 * restart is part of the fault).
 */

const startTracked = trackNodes()

async function member (name: string): Promise<{ node: KithNode, identity: string, keyPackage: Awaited<ReturnType<typeof deviceKeyPackage>> }> {
  const privateKey = await generateDeviceKey()
  const identityKey = await generateIdentityKey()
  const node = await startTracked(name, { privateKey, identityKey })
  return { node, identity: identityFingerprint(identityKey.publicKey), keyPackage: await deviceKeyPackage(privateKey, issueDeviceCertificate(identityKey, privateKey.publicKey)) }
}

/** A text as a (modified) client makes it with a state it kept: signed for that state's epoch. */
async function textWith (state: KithGroup, text: string): Promise<{ group: KithGroup, message: Uint8Array }> {
  const signed = signText(state.id, state.epoch, state.state.signaturePrivateKey, { id: randomBytes(16).toString('hex'), ts: Date.now(), text })
  return await state.encrypt(Buffer.concat([Uint8Array.of(0), encodeTextBody(signed)]))
}

describe('groups under faults', () => {
  it('a group where a removed admin publishes an old-epoch commit: everyone stays on the remover\'s chain, the topic moved, and nothing the removed admin sends afterwards is shown', async () => {
    // Bob made the group, so he is first in the committer order; alice is the other admin.
    const [bob, alice, carol, dave] = await Promise.all([member('bob'), member('alice'), member('carol'), member('dave')])
    const everyone = [bob, alice, carol, dave]
    for (const [i, x] of everyone.entries()) for (const y of everyone.slice(i + 1)) await befriend(x.node, y.node)
    const added = await (await KithGroup.create('Club', bob.keyPackage.publicPackage, bob.keyPackage.privatePackage)).add([alice, carol, dave].map(m => m.keyPackage.publicPackage))
    const topicSecret = randomBytes(32)
    const channels = await Promise.all(everyone.map(async m => new GroupChannel(m.node.libp2p.services.pubsub, new GroupReplica(m === bob ? added.group : await KithGroup.join(added.welcome, m.keyPackage.publicPackage, m.keyPackage.privatePackage)), topicSecret)))
    const [b, a, c, d] = channels as [GroupChannel, GroupChannel, GroupChannel, GroupChannel]
    for (const ch of channels) ch.start()
    const firstTopic = a.topic
    await eventually(() => everyone.every(m => m.node.libp2p.services.pubsub.getSubscribers(firstTopic).length === 3), 20_000, 'everyone on the topic')
    await b.intend({ kind: 'promote', who: alice.identity })
    await eventually(() => channels.every(ch => ch.replica.head.meta().admins.length === 2), 20_000, 'alice an admin everywhere')
    await b.send('bob, while an admin')
    await c.send('carol, before')
    const texts = (ch: GroupChannel): string[] => ch.replica.history().map(m => m.text).sort()
    await eventually(() => channels.every(ch => texts(ch).length === 2), 20_000, 'both texts everywhere')

    // Alice removes bob. The members move to a topic named from the next epoch's secret.
    await a.intend({ kind: 'remove', who: bob.identity })
    const members = [a, c, d]
    await eventually(() => members.every(ch => ch.replica.head.members().length === 3) && b.replica.removed, 20_000, 'bob removed everywhere')
    const chain = a.replica.chain()
    const newTopic = a.topic
    expect(newTopic).not.toBe(firstTopic)
    for (const ch of members) expect(ch.topic).toBe(newTopic)
    // Bob can't work out the new topic: his channel is still on the old one, where nobody is.
    expect(b.topic).toBe(firstTopic)
    const bobsPubsub = bob.node.libp2p.services.pubsub
    await eventually(() => bobsPubsub.getSubscribers(firstTopic).length === 0, 20_000, 'the members to leave the old topic')
    for (const m of [alice, carol, dave]) expect(m.node.libp2p.services.pubsub.getTopics()).not.toContain(firstTopic)

    // Bob, with the states he kept: a chain of renames from the epoch alice's commit built on
    // (longer than hers, and he ranks first), a text into his last epoch, one into the epoch before.
    let state = b.replica.head
    const attack: Uint8Array[] = []
    for (const name of ['Bob\'s club', 'Bob\'s club!', 'Bob\'s club!!']) {
      const { group, commit } = await state.rename(name)
      attack.push(commit)
      state = group
    }
    attack.push((await textWith(b.replica.head, 'bob, after his removal')).message)
    const older = (b.replica as unknown as { states: Map<bigint, KithGroup> }).states.get(b.replica.head.epoch - 1n)!
    attack.push((await textWith(older, 'bob, into the past')).message)
    // On the old topic it reaches nobody. Say the new topic leaked to him as well:
    const before = members.map(ch => ch.metrics.received)
    const onOldTopic = [(await b.replica.head.rename('Old topic club')).commit, (await textWith(b.replica.head, 'bob, on the old topic')).message]
    for (const bytes of onOldTopic) await bobsPubsub.publish(firstTopic, encodeGroupEnvelope(bytes))
    for (const bytes of attack) await bobsPubsub.publish(newTopic, encodeGroupEnvelope(bytes))
    await eventually(() => members.every((ch, i) => ch.metrics.received >= before[i]! + attack.length), 20_000, 'bob\'s messages to arrive on the leaked topic')
    await d.send('dave, after')
    await eventually(() => members.every(ch => texts(ch).includes('dave, after')), 20_000, 'the group to go on')
    for (const ch of members) await ch.idle()

    for (const ch of members) {
      expect(ch.replica.chain()).toEqual(chain)
      expect(ch.replica.head.meta().name).toBe('Club')
      expect(ch.replica.head.members().map(m => m.device)).not.toContain(bob.node.peerId.toString())
      expect(texts(ch)).toEqual(['bob, while an admin', 'carol, before', 'dave, after'])
    }
    for (const ch of channels) ch.stop()
  }, 120_000)

  /** A node with its state in LevelDB under `dir`, on a fixed in-memory address, so it can be started again as itself. */
  const durable = async (name: string, key: PrivateKey, dir: string, address: string): Promise<KithNode> => await startTracked(name, { privateKey: key, dbPath: join(dir, name), listen: [address], groups: { syncEveryMs: 1_000 } })

  it('a member away while a removal moved the group to a new topic finds it again by catching up, and reads and writes there', async () => {
    const dir = await tempDir()
    const run = randomBytes(4).toString('hex')
    const keys = { alice: await generateDeviceKey(), bob: await generateDeviceKey(), carol: await generateDeviceKey() }
    const address = (name: string): string => `/memory/${name}-${run}`
    const alice = await durable('alice', keys.alice, dir.path, address('alice'))
    const bob = await durable('bob', keys.bob, dir.path, address('bob'))
    let carol = await durable('carol', keys.carol, dir.path, address('carol'))
    try {
      for (const [x, y] of [[alice, bob], [alice, carol]] as const) { await befriend(x, y); await settled(x, y) }
      const { group } = await alice.groups.create('Club')
      await alice.groups.add(group, bob.peerId.toString())
      await alice.groups.add(group, carol.peerId.toString())
      await eventually(() => [bob, carol].every(n => n.groups.list()[0]?.members === 3), 20_000, 'both to join')
      const hello = await alice.send(group, 'hello')
      await eventually(async () => (await carol.history(group)).some(m => m.id === hello.id), 20_000, 'carol to read hello')
      const topic = [...alice.libp2p.services.pubsub.getTopics()].find(t => t.startsWith('/kith/group/'))

      await carol.stop()
      await alice.groups.remove(group, bob.peerId.toString())
      await eventually(() => bob.groups.list()[0]?.state === 'removed', 20_000, 'bob to learn he is out')
      expect([...alice.libp2p.services.pubsub.getTopics()]).not.toContain(topic)
      const meanwhile = await alice.send(group, 'while carol was away')

      // Carol comes back on the topic she knew, where nobody is any more.
      carol = await durable('carol', keys.carol, dir.path, address('carol'))
      await eventually(async () => (await carol.history(group)).some(m => m.id === meanwhile.id), 30_000, 'carol to catch up')
      await eventually(() => carol.groups.list()[0]?.members === 2, 30_000, 'carol to learn of the removal')
      expect(carol.groups.list()[0]).toMatchObject({ epoch: alice.groups.list()[0]!.epoch, state: 'member' })
      const back = await carol.send(group, 'back, on the new topic')
      await eventually(async () => (await alice.history(group)).some(m => m.id === back.id), 30_000, 'alice to read carol')
    } finally {
      await dir.cleanup()
    }
  }, 120_000)

  it('a node that dies as its text goes out has stored the text and the ratchet state first: after the restart the text is there, and its next one uses a new key', async () => {
    const dir = await tempDir()
    const key = await generateDeviceKey()
    const address = `/memory/alice-${randomBytes(4).toString('hex')}`
    let alice = await durable('alice', key, dir.path, address)
    const bob = await startTracked('bob')
    try {
      await befriend(alice, bob)
      await settled(alice, bob)
      const { group } = await alice.groups.create('Club')
      await alice.groups.add(group, bob.peerId.toString())
      await eventually(() => bob.groups.list()[0]?.members === 2, 20_000, 'bob to join')
      const onTopic = async (node: KithNode, peer: KithNode): Promise<void> => {
        await eventually(() => [...node.libp2p.services.pubsub.getTopics()].some(t => t.startsWith('/kith/group/') && node.libp2p.services.pubsub.getSubscribers(t).some(p => p.equals(peer.peerId))), 20_000, 'the peer on the topic')
      }
      await onTopic(alice, bob)
      const warm = await alice.send(group, 'warm up')
      await eventually(async () => (await bob.history(group)).some(m => m.id === warm.id), 20_000, 'bob to read it')

      // The next envelope leaves, and the node dies right after: nothing more reaches its disk.
      const pubsub = alice.libp2p.services.pubsub
      const publish = pubsub.publish.bind(pubsub)
      const store = alice.store
      const dead = async (): Promise<never> => { throw new Error('the process died') }
      pubsub.publish = (async (topic: string, data: Uint8Array) => {
        const result = await publish(topic, data)
        if (topic.startsWith('/kith/group/')) {
          store.appendClaimed = dead
          store.commit = dead
          throw new Error('the process died')
        }
        return result
      }) as typeof pubsub.publish
      await expect(alice.send(group, 'the last words')).rejects.toThrow('the process died')
      await eventually(async () => (await bob.history(group)).some(m => m.text === 'the last words'), 20_000, 'the last words to reach bob')
      await alice.stop().catch(() => {})

      alice = await durable('alice', key, dir.path, address)
      expect((await alice.history(group)).map(m => m.text)).toContain('the last words')
      await onTopic(alice, bob)
      const after = await alice.send(group, 'after the restart')
      await eventually(async () => (await bob.history(group)).some(m => m.id === after.id), 20_000, 'bob to read the next text')
      // Bob read both from the topic, under their own generations of alice's ratchet: no key or nonce was used twice.
      const read = await bob.history(group)
      const [last, next] = ['the last words', 'after the restart'].map(t => read.find(m => m.text === t)!)
      expect(next!.epoch).toBe(last!.epoch)
      expect(next!.generation).toBeGreaterThan(last!.generation!)
    } finally {
      await dir.cleanup()
    }
  }, 120_000)

  it('a contact can\'t make us store key packages without end: one kept per contact device, a cap in all, two of ours per contact on request', async () => {
    const store = await memoryStore()
    const unused = async (): Promise<never> => { throw new Error('not used here') }
    const keyPackages = new KeyPackages({ store, deviceKey: await generateDeviceKey(), certificate: new Uint8Array(0), dial: unused, isContact: unused, contacts: unused, sendControl: unused }, { held: 3 })
    const device = async (): Promise<{ id: string, bytes: () => Promise<Uint8Array> }> => {
      const identityKey = await generateIdentityKey()
      const key = await generateDeviceKey()
      const certificate = issueDeviceCertificate(identityKey, key.publicKey)
      return { id: peerIdFromPrivateKey(key).toString(), bytes: async () => encodeKeyPackage((await deviceKeyPackage(key, certificate)).publicPackage) }
    }
    const held = async (): Promise<number> => (await store.listSecrets('mls/held/')).length
    const take = async (from: string, bytes: Uint8Array): Promise<void> => { await store.commit((await keyPackages.take(from, bytes)).ops) }
    const devices = await Promise.all([device(), device(), device(), device()])
    // The same device again and again: only its latest is kept.
    const latest = await devices[0]!.bytes()
    for (let i = 0; i < 5; i++) await take(devices[0]!.id, await devices[0]!.bytes())
    await take(devices[0]!.id, latest)
    expect(await held()).toBe(1)
    expect(await store.getSecret(`mls/held/${devices[0]!.id}`)).toEqual(latest)
    // Up to the cap in all; a device new to us past it is taken in but not kept.
    for (const d of devices.slice(1)) await take(d.id, await d.bytes())
    expect(await held()).toBe(3)
    expect(keyPackages.metrics.dropped).toBe(1)
    // Oversized ones are not kept either (checked before decoding).
    await take(devices[1]!.id, new Uint8Array(65 * 1024))
    expect(keyPackages.metrics.dropped).toBe(2)
    // Spending one makes room.
    const { spent } = await keyPackages.of(peerIdFromString(devices[1]!.id))
    await store.commit(spent)
    await take(devices[3]!.id, await devices[3]!.bytes())
    expect(await held()).toBe(3)
    await store.close()

    // Ours, fetched by a contact on /kith/keypackage again and again: only the last two are kept.
    const [alice, bob] = [await startTracked('alice'), await startTracked('bob')]
    await befriend(alice, bob)
    await settled(alice, bob)
    const ours = async (): Promise<number> => (await alice.store.listSecrets('mls/key-package/')).length
    const before = await ours()
    for (let i = 0; i < 6; i++) {
      const stream = await bob.libp2p.dialProtocol(alice.peerId, KEY_PACKAGE_PROTOCOL)
      decodeKeyPackage((await lpStream(stream).read()).subarray())
      await stream.close()
    }
    expect(await ours()).toBe(before + MAX_SERVED_PER_CONTACT)
  }, 120_000)
})
