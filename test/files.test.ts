import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex } from '@kith/core'
import { prepareFile } from '@kith/files'
import { befriend, eventually, tempDir, trackNodes } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'

const node = trackNodes()

/** A file on disk with random content. */
async function someFile (dir: string, name: string, bytes = 300_000): Promise<{ path: string, content: Buffer }> {
  const content = randomBytes(bytes)
  const path = join(dir, name)
  await writeFile(path, content)
  return { path, content }
}

async function offered (to: KithNode, conversation: string, id: string): Promise<void> {
  await eventually(async () => (await to.history(conversation)).some(m => m.id === id && m.file != null), 20_000, 'the file offer to arrive')
}

describe('files between nodes (in-process, memory transport)', () => {
  it('saves a file whose sender named it "../../escape" inside the chosen folder', async () => {
    const dir = await tempDir()
    try {
      const alice = await node('alice', { autoDownloadBytes: 0 })
      const bob = await node('bob', { autoDownloadBytes: 0 })
      await befriend(alice, bob)
      const { path, content } = await someFile(dir.path, 'innocent.txt')
      // A sender who bypasses its own CLI and names the file as it likes.
      const ref = await prepareFile(alice.libp2p.services.files.store, path)
      await alice.store.commit([alice.store.putSecret(`fileshare/${ref.root}`, { conversations: [bob.peerId.toString()] })])
      const sent = await alice.messaging.sendFile(bob.peerId.toString(), { root: fromHex(ref.root), key: new Uint8Array(ref.key), size: ref.size, name: '../../escape.txt', type: '' })
      await offered(bob, 'alice', sent.id)

      const inbox = join(dir.path, 'inbox')
      await (await import('node:fs/promises')).mkdir(inbox)
      const saved = await bob.saveFile(sent.id, inbox)
      expect(saved.path.startsWith(inbox + '/')).toBe(true)
      expect(await readdir(inbox)).toHaveLength(1)
      expect(await readdir(dir.path)).toEqual(expect.not.arrayContaining(['escape.txt']))
      expect(Buffer.compare(await readFile(saved.path), content)).toBe(0)
    } finally {
      await dir.cleanup()
    }
  })

  it('refuses a contact the file was not sent to, and counts it', async () => {
    const dir = await tempDir()
    try {
      const alice = await node('alice', { autoDownloadBytes: 0 })
      const bob = await node('bob', { autoDownloadBytes: 0 })
      const carol = await node('carol', { autoDownloadBytes: 0 })
      await befriend(alice, bob)
      await befriend(alice, carol)
      const { path } = await someFile(dir.path, 'for-bob.bin')
      const sent = await alice.sendFile('bob', path)
      const file = sent.file!
      // carol learned the hash and key somehow, and asks alice for it.
      const fetching = carol.libp2p.services.files.fetch({ root: file.hash, key: fromHex(file.key), size: file.size }, () => [alice.peerId.toString()])
      await expect(fetching).rejects.toMatchObject({ name: 'FileUnavailableError' })
      expect(alice.status().files.refused['not-yours']).toBeGreaterThanOrEqual(1)
      // bob, who was sent it, gets it.
      await offered(bob, 'alice', sent.id)
      await bob.saveFile(sent.id, join(dir.path, 'copy.bin'))
      expect((await bob.file(sent.id)).state).toBe('complete')
    } finally {
      await dir.cleanup()
    }
  })

  it('downloads small files on arrival, and a group member that missed the gossip gets the file by catching up', async () => {
    const dir = await tempDir()
    try {
      const alice = await node('alice', { groups: { syncEveryMs: 300 } })
      const bob = await node('bob', { groups: { syncEveryMs: 300 } })
      await befriend(alice, bob)
      const { group } = await alice.groups.create('Club')
      await alice.groups.add(group, bob.peerId.toString())
      await eventually(() => bob.groups.list()[0]?.members === 2, 20_000, 'bob to join')
      await expect(alice.send(group, '\u0000kith-file:forged')).rejects.toMatchObject({ name: 'InvalidMessageError' })

      // bob's node drops the topic's gossip: only catch-up can bring him the file offer.
      const pubsub = bob.libp2p.services.pubsub
      const topic = [...pubsub.topicValidators.keys()].find(t => t.startsWith('/kith/group/'))!
      pubsub.topicValidators.set(topic, () => 'ignore' as any)
      const { path, content } = await someFile(dir.path, 'photo.jpg')
      const sent = await alice.sendFile(group, path)
      await offered(bob, group, sent.id)
      // Under the automatic download size (25 MB by default): it comes by itself.
      await eventually(async () => (await bob.file(sent.id)).state === 'complete', 20_000, 'the automatic download')
      const saved = await bob.saveFile(sent.id, join(dir.path, 'copy.jpg'))
      expect(Buffer.compare(await readFile(saved.path), content)).toBe(0)
      const [view] = (await bob.history(group)).filter(m => m.id === sent.id)
      expect(view).toMatchObject({ text: '', file: { name: 'photo.jpg', type: 'image/jpeg', size: content.length, hash: sent.file!.hash } })
    } finally {
      await dir.cleanup()
    }
  })
})
