import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex } from '@kith/core'
import { createKithNode, initHome, linkHome } from '@kith/node'
import type { KithNode } from '@kith/node'
import { befriend, eventually, settled, tempDir, trackNodes } from './helpers/testnet.js'

// Who may fetch a file (docs/files.md, "Who may fetch"): every current device of the
// conversation, as it is when the file is fetched, not only the device it was sent to.

/** A node on a home folder (real LevelDB), on loopback TCP; nothing downloads by itself. */
async function homeNode (home: string): Promise<KithNode> {
  return await createKithNode({ home, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, autoDownloadBytes: 0 })
}

/**
 * Link a new device (home `home`) to `identityDevice`'s account the way a user does (the new
 * device shows its comparison code, the user confirms the same code on the identity device),
 * and start it.
 */
async function link (identityDevice: KithNode, home: string, deviceName: string): Promise<KithNode> {
  const { code } = await identityDevice.devices.createLinkCode()
  let shown: string | undefined
  const linking = linkHome(home, code, { deviceName, onComparison: (comparison) => { shown = comparison } })
  linking.catch(() => {})
  const comparison = await eventually(() => shown, 30_000, 'the new device to show its comparison code')
  await identityDevice.devices.confirmLink(comparison.replace(' ', ''))
  await linking
  return await homeNode(home)
}

const offered = async (node: KithNode, conversation: string, id: string): Promise<void> => {
  await eventually(async () => (await node.history(conversation)).some(m => m.id === id && m.file != null), 30_000, `the file offer on ${node.name}'s device ${node.peerId.toString().slice(-6)}`)
}

describe('files and linked devices (in-process, TCP, LevelDB)', () => {
  it('a file sent to bob is saved on his second device and on alice\'s second device; bob\'s revoked device is refused', async () => {
    const dir = await tempDir()
    const nodes: KithNode[] = []
    try {
      await initHome(join(dir.path, 'a1'), 'alice')
      await initHome(join(dir.path, 'b1'), 'bob')
      const a1 = await homeNode(join(dir.path, 'a1'))
      const b1 = await homeNode(join(dir.path, 'b1'))
      nodes.push(a1, b1)
      await befriend(a1, b1)
      await settled(a1, b1)
      const b2 = await link(b1, join(dir.path, 'b2'), 'phone')
      nodes.push(b2)
      const b3 = await link(b1, join(dir.path, 'b3'), 'tablet')
      nodes.push(b3)
      const [alice, bob] = [a1.peerId.toString(), b1.peerId.toString()]
      await eventually(async () => (await a1.store.getContact(bob))?.devices?.length === 3, 30_000, 'alice to learn of bob\'s three devices')
      // Alice's second device is linked once alice knows bob's devices: it gets bob's list with the contact.
      const a2 = await link(a1, join(dir.path, 'a2'), 'phone')
      nodes.push(a2)
      await eventually(async () => a1.devices.others().length === 1 && (await a2.store.getContact(bob))?.devices?.length === 3, 30_000, 'alice\'s devices to know each other and bob\'s devices')
      for (const d of [b2, b3]) await eventually(async () => (await d.store.getContact(alice)) != null, 30_000, 'bob\'s devices to know alice')

      const content = randomBytes(3 * 1024 * 1024 + 4321)
      const path = join(dir.path, 'talk.bin')
      await writeFile(path, content)
      const sent = await a1.sendFile('bob', path)
      const file = sent.file!
      for (const d of [b1, b2, b3]) await offered(d, alice, sent.id)
      await offered(a2, bob, sent.id)

      // Bob revokes his tablet; alice's devices and his phone learn of it.
      const tablet = b3.peerId.toString()
      expect(await a1.sharing.authorize(tablet, file.hash)).toBe(true)
      await b1.devices.revoke(tablet)
      const learnt = async (d: KithNode): Promise<boolean> => (await d.store.getContact(bob))?.revoked?.includes(tablet) === true
      await eventually(async () => await learnt(a1) && await learnt(a2) && b2.devices.others().length === 1, 30_000, 'the revocation to reach every device')

      // Alice's own second device fetches it: only alice's first device holds it so far.
      const served = a1.status().files.servedChunks
      const onA2 = await a2.saveFile(sent.id, join(dir.path, 'a2-copy.bin'))
      expect(Buffer.compare(await readFile(onA2.path), content)).toBe(0)
      expect(a1.status().files.servedChunks - served).toBe(4)

      // Bob's second device fetches it from alice's devices.
      const onB2 = await b2.saveFile(sent.id, join(dir.path, 'b2-copy.bin'))
      expect(Buffer.compare(await readFile(onB2.path), content)).toBe(0)
      expect((await b2.file(sent.id)).state).toBe('complete')

      // The revoked tablet had the offer (it came before the revocation) but nobody serves it now.
      const refused = a1.status().files.refused['not-yours'] ?? 0
      await expect(b3.saveFile(sent.id, join(dir.path, 'b3-copy.bin'))).rejects.toMatchObject({ name: 'FileUnavailableError' })
      expect(a1.status().files.refused['not-yours'] ?? 0).toBeGreaterThan(refused)
      expect(await a1.sharing.authorize(tablet, file.hash)).toBe(false)
      for (const d of [a1, a2, b1, b2]) expect(await d.sharing.authorize(tablet, file.hash)).toBe(false)
      expect((await b3.file(sent.id)).state).toBe('failed')
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await dir.cleanup()
    }
  }, 180_000)
})

describe('who may fetch (in-process, memory transport)', () => {
  const node = trackNodes()

  it('a group named after a contact\'s peer id does not let its members fetch what was sent to the contact', async () => {
    const dir = await tempDir()
    try {
      const alice = await node('alice', { autoDownloadBytes: 0 })
      const bob = await node('bob', { autoDownloadBytes: 0 })
      const carol = await node('carol', { autoDownloadBytes: 0 })
      await befriend(alice, bob)
      await befriend(carol, alice)
      await settled(carol, alice)
      // Carol names a group after bob's peer id and adds alice.
      const { group } = await carol.groups.create(bob.peerId.toString())
      await carol.groups.add(group, alice.peerId.toString())
      await eventually(() => alice.groups.list().some(g => g.group === group && g.members === 2), 30_000, 'alice to join carol\'s group')

      const path = join(dir.path, 'for-bob.bin')
      await writeFile(path, randomBytes(200_000))
      const sent = await alice.sendFile(bob.peerId.toString(), path)
      const file = sent.file!
      // Carol learned the hash and key somehow, and asks alice for it.
      const fetching = carol.libp2p.services.files.fetch({ root: file.hash, key: fromHex(file.key), size: file.size }, () => [alice.peerId.toString()])
      await expect(fetching).rejects.toMatchObject({ name: 'FileUnavailableError' })
      expect(alice.status().files.refused['not-yours']).toBeGreaterThanOrEqual(1)
      expect(await alice.sharing.authorize(bob.peerId.toString(), file.hash)).toBe(true)
    } finally {
      await dir.cleanup()
    }
  }, 90_000)
})
