import { afterEach, describe, expect, it } from 'vitest'
import { createServer, connect } from 'node:net'
import { join } from 'node:path'
import { AckStatus, ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, Envelope, fromHex } from '@kith/core'
import { multiaddr } from '@multiformats/multiaddr'
import { allDelivered, befriend, eventually, tempDir, trackNodes, waitFor } from './helpers/testnet.js'
import { rawDmStream } from './helpers/raw-dm.js'
import type { KithNode } from '@kith/node'
import type { AddressInfo, Server, Socket } from 'node:net'

// After-hooks run last-registered first: nodes stop before their folders and proxies go.
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })
const node = trackNodes()

const SECRET = 'the treasure is under the third oak'

function portOf (n: KithNode): number {
  return Number(n.libp2p.getMultiaddrs()[0]?.toString().split('/')[4])
}

/** A TCP proxy to `port` on loopback that copies every byte it forwards into `captured`. */
async function recordingProxy (port: number, captured: Buffer[]): Promise<number> {
  const sockets: Socket[] = []
  const proxy: Server = createServer(client => {
    const upstream = connect(port, '127.0.0.1')
    sockets.push(client, upstream)
    client.on('data', d => { captured.push(d); upstream.write(d) })
    upstream.on('data', d => { captured.push(d); client.write(d) })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => { for (const s of sockets) s.destroy(); await new Promise(resolve => proxy.close(resolve)) })
  return (proxy.address() as AddressInfo).port
}

/** An envelope as a relay or mailbox would hold it: what alice's outbox keeps for bob while he is away. */
async function queuedEnvelope (alice: KithNode, bob: KithNode, text: string, bobsName = 'bob'): Promise<Uint8Array> {
  await bob.stop()
  const sent = await alice.send(bobsName, text)
  const entry = (await alice.store.pendingOutbox(bob.peerId.toString())).find(e => e.id === sent.id)
  if (entry == null) throw new Error('not queued')
  return entry.envelope
}

describe('end-to-end encryption', () => {
  it('seals every envelope: no text, no sender, a padded size; only recipient and time show', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    const bytes = await queuedEnvelope(alice, bob, SECRET)
    const envelope = Envelope.decode(bytes)
    // Sealed with an ephemeral key, or (once the session is established) with the session's keys.
    expect([ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED]).toContain(envelope.encryption)
    expect(Buffer.from(envelope.recipient).equals(bob.peerId.toMultihash().bytes)).toBe(true)
    expect(Buffer.from(bytes).includes(Buffer.from('treasure'))).toBe(false)
    // Sealed sender: neither alice's peer id nor her public key appears outside the seal.
    expect(Buffer.from(bytes).includes(Buffer.from(alice.peerId.toMultihash().bytes))).toBe(false)
    // Ephemeral key (32) or session tag (16), and the GCM tag (16), around an inner part padded to 256-byte steps.
    expect((envelope.body.length - (envelope.encryption === ENCRYPTION_SEALED ? 48 : 44)) % 256).toBe(0)
    const short = Envelope.decode(await alice.store.pendingOutbox(bob.peerId.toString()).then(async () => {
      const sent = await alice.send('bob', 'hi')
      return (await alice.store.pendingOutbox(bob.peerId.toString())).find(e => e.id === sent.id)?.envelope ?? new Uint8Array()
    }))
    expect(short.body.length).toBe(envelope.body.length) // "hi" and a sentence look alike
  })

  it('seals with an ephemeral key until the session is acknowledged, then with the session keys', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob) // bob accepted alice's invite: bob opened the session
    const first = await bob.send('alice', 'one')
    await allDelivered(bob, 'alice', [first.id])
    const later = Envelope.decode(await queuedEnvelope(bob, alice, 'two', 'alice'))
    expect(later.encryption).toBe(ENCRYPTION_SESSION_SEALED)
    expect(later.body.includes(Buffer.from('two'))).toBe(false)
  })

  it('delivers across restarts, and a session lost on one side is reopened with fresh prekeys', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const alice = await node('alice')
    const { generateDeviceKey, generateIdentityKey } = await import('@kith/crypto')
    const [bobKey, bobIdentity] = [await generateDeviceKey(), await generateIdentityKey()]
    const bob = await node('bob', { privateKey: bobKey, identityKey: bobIdentity, dbPath: join(dir.path, 'bob') })
    await befriend(alice, bob)
    const first = await bob.send('alice', 'before')
    await allDelivered(bob, 'alice', [first.id])

    // Bob's session with alice is gone (say, a restored backup): his next message must open a
    // new one from a bundle alice hands out on /kith/prekeys/1.0.0.
    await bob.store.commit([bob.store.delSecret(`e2ee/session/${alice.peerId.toString()}`)])
    await bob.stop()
    const bob2 = await node('bob', { privateKey: bobKey, identityKey: bobIdentity, dbPath: join(dir.path, 'bob') })
    await bob2.libp2p.peerStore.merge(alice.peerId, { multiaddrs: alice.libp2p.getMultiaddrs() })
    const second = await bob2.send('alice', 'after')
    const got = await waitFor(alice, 'message', m => m.id === second.id)
    expect(got.text).toBe('after')
    const reply = await alice.send('bob', 'welcome back')
    await waitFor(bob2, 'message', m => m.id === reply.id)
  })

  it('refuses a tampered, a misaddressed and a replayed sealed envelope, by name, and keeps serving', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const { generateDeviceKey, generateIdentityKey } = await import('@kith/crypto')
    const [bobKey, bobIdentity] = [await generateDeviceKey(), await generateIdentityKey()]
    const bobOptions = { privateKey: bobKey, identityKey: bobIdentity, dbPath: join(dir.path, 'bob') }
    const alice = await node('alice')
    const bob = await node('bob', bobOptions)
    const carol = await node('carol')
    await befriend(alice, bob)
    await befriend(alice, carol)
    const bytes = await queuedEnvelope(alice, bob, SECRET)
    const envelope = Envelope.decode(bytes)
    const relay = await rawDmStream(alice, carol)

    // Sealed for bob, thrown at carol: not hers.
    await relay.write(bytes)
    expect((await relay.readAck()).status).toBe(AckStatus.INVALID)
    expect(carol.status().metrics.invalid).toBe(1)
    // Re-addressed to carol, but the seal is bob's: the outer seal does not open (an ephemeral
    // seal is forged; a session seal's tag names no session of carol's, so she asks for a new
    // one, which alice, who has none with her, can't use to take anything in).
    const notOpened = envelope.encryption === ENCRYPTION_SEALED ? AckStatus.INVALID : AckStatus.RESET
    const toCarol = new Uint8Array(carol.peerId.toMultihash().bytes)
    await relay.write(Envelope.encode({ ...envelope, recipient: toCarol }))
    expect((await relay.readAck()).status).toBe(notOpened)
    // A flipped bit inside the seal.
    const body = new Uint8Array(envelope.body)
    body[40] = body[40]! ^ 1
    await relay.write(Envelope.encode({ ...envelope, recipient: toCarol, body }))
    expect((await relay.readAck()).status).toBe(notOpened)
    // Counted as forged (an ephemeral seal that does not open) or as no session (a session seal
    // no session of carol's expects).
    const { forged, noSession } = carol.status().metrics
    expect(forged + noSession).toBe(2)

    // Bob comes back while alice is away. Carol hands him alice's envelope on /kith/dm: only a
    // sender delivers its own envelopes there, so it is refused as forged.
    await alice.stop()
    const bob2 = await node('bob', bobOptions)
    const toBob = await rawDmStream(carol, bob2)
    await toBob.write(bytes)
    expect((await toBob.readAck()).status).toBe(AckStatus.INVALID)
    expect(bob2.status().metrics.forged).toBe(1)
    // From his mailbox, twice: taken, then recognised by its id and stored once.
    expect(await bob2.messaging.receiveDeposited([bytes])).toEqual([true])
    expect(await bob2.messaging.receiveDeposited([bytes])).toEqual([true])
    expect((await bob2.history('alice')).map(m => m.text)).toEqual([SECRET])
    expect(bob2.status().metrics).toMatchObject({ received: 1, duplicates: 1 })
  })

  it('notices when a contact device speaks for another identity key, and holds sending (texts, and group keys)', async () => {
    const dir = await tempDir()
    cleanups.push(dir.cleanup)
    const { generateDeviceKey, generateIdentityKey } = await import('@kith/crypto')
    const bobKey = await generateDeviceKey()
    const alice = await node('alice')
    const bob = await node('bob', { privateKey: bobKey, identityKey: await generateIdentityKey(), dbPath: join(dir.path, 'bob') })
    await befriend(alice, bob)
    await bob.stop()
    // The same device, now certified by another identity key (a reinstall, or a stolen device key).
    // Alice notices with its first envelope (its device list, pushed when it connects, or the text).
    const changed = waitFor(alice, 'contact:identity-changed')
    const bob2 = await node('bob', { privateKey: bobKey, identityKey: await generateIdentityKey(), dbPath: join(dir.path, 'bob') })
    await bob2.libp2p.peerStore.merge(alice.peerId, { multiaddrs: alice.libp2p.getMultiaddrs() })
    await bob2.send('alice', 'it is me, really')
    await changed.catch(err => {
      // Say what each side saw, so a failure here can be understood.
      throw new Error(`${err.message}; alice: ${JSON.stringify(alice.status().metrics)}, bob: ${JSON.stringify(bob2.status())}`)
    })
    await expect(alice.send('bob', 'who are you?')).rejects.toMatchObject({ name: 'IdentityChangedError' })
    // Nor do group keys and Welcomes go to it.
    await expect(alice.messaging.sendControl(bob.peerId.toString(), 'groups/invite', new Uint8Array(8))).rejects.toMatchObject({ name: 'IdentityChangedError' })
    const group = await alice.groups.create('Club')
    await expect(alice.groups.add(group.group, bob.peerId.toString())).rejects.toMatchObject({ name: 'IdentityChangedError' })
    expect(alice.groups.list()[0]).toMatchObject({ members: 1, epoch: group.epoch })
    // And what the changed device sends for alice's services (a key package, a Welcome) is held,
    // not taken, until alice accepts the new key: then it is.
    let taken = 0
    alice.messaging.handleControl('test/anything', async () => { taken++; return { ops: [] } })
    const notYet = alice.status().metrics.notYet
    await bob2.messaging.sendControl(alice.peerId.toString(), 'test/anything', new Uint8Array(8))
    await eventually(() => alice.status().metrics.notYet > notYet, 20_000, 'the control message held')
    expect(taken).toBe(0)
    expect(bob2.status().pending).toBeGreaterThan(0)
    expect((await alice.verify('bob')).identityChanged).toBe(true)
    await alice.verify('bob', 'accept')
    await eventually(() => taken === 1 && bob2.status().pending === 0, 30_000, 'the control message taken once the key is accepted').catch(err => { throw new Error(`${err.message}: taken ${taken}, pending ${bob2.status().pending}, alice ${JSON.stringify(alice.status().metrics)}`) })
  })

  it('leaves no plaintext in the bytes that cross the network', async () => {
    const alice = await node('alice', { transport: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0'] })
    const bob = await node('bob', { transport: 'tcp', listen: ['/ip4/127.0.0.1/tcp/0'] })
    await befriend(alice, bob)
    // Recording proxies in front of both, and each reaches the other only through them.
    const captured: Buffer[] = []
    const toBob = await recordingProxy(portOf(bob), captured)
    const toAlice = await recordingProxy(portOf(alice), captured)
    await alice.libp2p.peerStore.patch(bob.peerId, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${toBob}`)] })
    await bob.libp2p.peerStore.patch(alice.peerId, { multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${toAlice}`)] })
    await alice.libp2p.hangUp(bob.peerId)
    await bob.libp2p.hangUp(alice.peerId)
    await alice.libp2p.dial(bob.peerId)

    const m = await alice.send('bob', SECRET)
    await waitFor(bob, 'message', r => r.id === m.id)
    const wire = Buffer.concat(captured)
    expect(wire.length).toBeGreaterThan(500)
    expect(wire.includes(Buffer.from('treasure'))).toBe(false)
    expect(wire.includes(fromHex(m.id))).toBe(false) // even the envelope is inside Noise
  })
})
