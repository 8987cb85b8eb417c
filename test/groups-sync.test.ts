import { describe, expect, it } from 'vitest'
import { befriend, eventually, trackNodes } from './helpers/testnet.js'

const node = trackNodes()

describe('group anti-entropy', () => {
  it('brings back a text gossip lost, without anyone going offline', async () => {
    const alice = await node('alice', { groups: { syncEveryMs: 300 } })
    const bob = await node('bob', { groups: { syncEveryMs: 300 } })
    await befriend(alice, bob)
    const { group } = await alice.groups.create('Club')
    await alice.groups.add(group, bob.peerId.toString())
    await eventually(() => bob.groups.list()[0]?.members === 2, 20_000, 'bob to join')
    const hello = await alice.send(group, 'hello')
    await eventually(async () => (await bob.history(group)).some(m => m.id === hello.id), 20_000, 'bob to read hello')

    // From now on bob's node drops all that arrives on the topic, as a broken link would: only
    // catching up can bring him what alice says.
    const pubsub = bob.libp2p.services.pubsub
    const topic = [...pubsub.topicValidators.keys()].find(t => t.startsWith('/kith/group/'))!
    pubsub.topicValidators.set(topic, () => 'ignore' as any) // TopicValidatorResult.Ignore: dropped, no penalty
    const lost = await alice.send(group, 'lost in the gossip')
    // Catching up runs every 300 ms here; 5 s is ample for it, and shorter than the other ways
    // the text could come back (about 10 s here), so this fails without it.
    await eventually(async () => (await bob.history(group)).some(m => m.id === lost.id), 5_000, 'bob to get it by catching up')
    expect((await bob.history(group)).filter(m => m.text === 'lost in the gossip')).toHaveLength(1)
  })
})
