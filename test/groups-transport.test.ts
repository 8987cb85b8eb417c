import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { GroupChannel, GroupReplica, KithGroup, deviceKeyPackage, encodeGroupEnvelope } from '@kith/groups'
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

  it('pads every envelope to a multiple of 256 bytes', () => {
    for (let n = 1; n < 2000; n += 37) expect(encodeGroupEnvelope(new Uint8Array(n)).length % 256, `mls of ${n} bytes`).toBe(0)
  })
})
