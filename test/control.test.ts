import { afterEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { InvalidMessageError, LIMITS } from '@kith/core'
import { generateDeviceKey, generateIdentityKey } from '@kith/crypto'
import { befriend, eventually, settled, tempDir, trackNodes } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'

// Control messages: what services (groups, later files and devices) send each other over the
// 1:1 E2EE channel, durably, outside history.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })
const node = trackNodes()

/** Record what arrives on `topic` at `n`, storing each payload in the batch that takes it in. */
function collect (n: KithNode, topic: string, received: string[]): void {
  n.messaging.handleControl(topic, async (_from, payload) => {
    const text = Buffer.from(payload).toString()
    return { ops: [n.store.putSecret(`test/${text}`, text)], after: () => { received.push(text) } }
  })
}


describe('control messages', () => {
  it('wait in the outbox while the contact is away, survive its restart, arrive once, and stay out of history', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const [bobKey, bobIdentity] = [await generateDeviceKey(), await generateIdentityKey()]
    const alice = await node('alice')
    const bob = await node('bob', { privateKey: bobKey, identityKey: bobIdentity, dbPath: join(dir.path, 'bob') })
    await befriend(alice, bob)
    await settled(alice, bob)

    await bob.stop()
    await alice.messaging.sendControl(bob.peerId.toString(), 'test/note', Buffer.from('one'))
    await alice.messaging.sendControl(bob.peerId.toString(), 'test/note', Buffer.from('two'))
    expect(alice.status().pending).toBe(2)

    // The handler is in place before bob's node runs, as a service's would be.
    const bob2 = await node('bob', { privateKey: bobKey, identityKey: bobIdentity, dbPath: join(dir.path, 'bob'), start: false })
    const received: string[] = []
    collect(bob2, 'test/note', received)
    await bob2.start()
    await bob2.libp2p.peerStore.merge(alice.peerId, { multiaddrs: alice.libp2p.getMultiaddrs() })
    await bob2.libp2p.dial(alice.peerId)
    await eventually(() => received.length === 2 && alice.status().pending === 0, 20_000, 'both notes at bob')
    expect(received).toEqual(['one', 'two'])
    expect(await bob2.store.getSecret('test/one')).toBe('one')
    expect(await bob2.history(alice.peerId.toString())).toEqual([])
    expect(await alice.history('bob')).toEqual([])
  })

  it('refuses what no service takes or a service rejects by name, keeps what a service could not take yet and sends it again', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    await settled(alice, bob)
    // A service that fails the first two times (its state is behind), then takes it.
    let failures = 0
    const taken: string[] = []
    bob.messaging.handleControl('test/picky', async (_from, payload) => {
      if (failures++ < 2) throw new Error('not now')
      taken.push(Buffer.from(payload).toString())
      return { ops: [] }
    })
    bob.messaging.handleControl('test/strict', async () => { throw new InvalidMessageError('not a valid note') })
    const invalid = bob.status().metrics.invalid

    await alice.messaging.sendControl(bob.peerId.toString(), 'test/nobody', Buffer.from('x'))
    await alice.messaging.sendControl(bob.peerId.toString(), 'test/strict', Buffer.from('z'))
    await alice.messaging.sendControl(bob.peerId.toString(), 'test/picky', Buffer.from('y'))
    // Messages after it are not held up while it waits.
    const text = await alice.send('bob', 'still here')
    await eventually(async () => (await bob.history(alice.peerId.toString())).some(m => m.id === text.id), 20_000, 'the text after them')
    await eventually(() => taken.length === 1 && alice.status().pending === 0, 30_000, 'the deferred control message taken on its third try')
    expect(taken).toEqual(['y'])
    expect(bob.status().metrics.invalid).toBe(invalid + 2) // the one no service takes, and the one refused by name
    expect(bob.status().metrics.notYet).toBe(2)
  })

  it('refuses, before anything is queued, an oversized payload, a bad topic and a stranger', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    const peer = bob.peerId.toString()
    await expect(alice.messaging.sendControl(peer, 'test/big', new Uint8Array(LIMITS.maxControlBytes + 1))).rejects.toMatchObject({ name: 'MessageTooLargeError' })
    await expect(alice.messaging.sendControl(peer, '', Buffer.from('x'))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    await expect(alice.messaging.sendControl(peer, 't'.repeat(LIMITS.maxControlTopicBytes + 1), Buffer.from('x'))).rejects.toMatchObject({ name: 'InvalidMessageError' })
    const stranger = await node('mallory')
    await expect(alice.messaging.sendControl(stranger.peerId.toString(), 'test/x', Buffer.from('x'))).rejects.toMatchObject({ name: 'UnknownContactError' })
  })
})
