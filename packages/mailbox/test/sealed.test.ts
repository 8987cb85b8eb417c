// The mailbox's database at rest: it knows who writes to whom, so with sealing its LevelDB files
// must name no peer, in keys or values, and must not open without the key.
import { afterEach, describe, expect, it } from 'vitest'
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { MailboxStore } from '../src/index.js'
import { envelopeFor, idOf, randomPeer } from './helpers.js'
import type { MailboxSealing } from '../src/index.js'
import type { Peer } from './helpers.js'

/** AES-256-GCM with the key as associated data, as the node's data key seals its records. */
function testSealing (key = randomBytes(32), tagKey = randomBytes(32)): MailboxSealing {
  return {
    seal: (aad, plaintext) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad))
      return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
    },
    open: (aad, sealed) => {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12)).setAAD(Buffer.from(aad))
      decipher.setAuthTag(sealed.subarray(sealed.length - 16))
      return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()])
    },
    tagKey
  }
}

/** The forms a peer id could take on disk: its string, its multihash bytes, the hex of those. */
const forms = (peer: Peer): Buffer[] => [Buffer.from(peer.id), Buffer.from(peer.multihash), Buffer.from(Buffer.from(peer.multihash).toString('hex'))]

/** Every file under `dir` holding any form of any of `peers`. */
async function filesNaming (dir: string, peers: Record<string, Peer>): Promise<string[]> {
  const hits: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const bytes = await readFile(join(entry.parentPath, entry.name))
    for (const [name, peer] of Object.entries(peers)) if (forms(peer).some(form => bytes.includes(form))) hits.push(`${entry.name}: ${name}`)
  }
  return hits
}

const dirs: string[] = []
afterEach(async () => { for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true }) })
async function tempDb (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-mailbox-sealed-'))
  dirs.push(dir)
  return dir
}

/** Alice registers, bob and a stranger deposit, alice takes one in: a mailbox that has seen some use. */
async function use (store: MailboxStore, peers: { alice: Peer, bob: Peer, stranger: Peer }): Promise<string[]> {
  await store.register(peers.alice.id)
  await store.register(peers.bob.id)
  const sent = [envelopeFor(peers.alice), envelopeFor(peers.alice), envelopeFor(peers.alice)]
  expect(await store.deposit(peers.bob.id, sent.slice(0, 2))).toEqual(['stored', 'stored'])
  expect(await store.deposit({ id: peers.stranger.id, stranger: true }, sent.slice(2))).toEqual(['stored'])
  expect(await store.ack(peers.alice.id, [idOf(sent[0] as Uint8Array)])).toBe(1)
  return sent.map(idOf)
}

describe('a sealed mailbox at rest', () => {
  it('names no recipient and no depositor in its LevelDB files, in keys or values, and works as before', async () => {
    const dir = await tempDb()
    const peers = { alice: randomPeer(), bob: randomPeer(), stranger: randomPeer() }
    const sealing = testSealing()
    let store = new MailboxStore(new Level<string, any>(dir), { sealing })
    await store.open()
    const ids = await use(store, peers)
    await store.close()

    expect(await filesNaming(dir, peers)).toEqual([])

    store = new MailboxStore(new Level<string, any>(dir), { sealing })
    await store.open()
    expect(store.recipients().sort()).toEqual([peers.alice.id, peers.bob.id].sort())
    expect((await store.fetch(peers.alice.id, { limit: 10 })).map(e => e.id)).toEqual(ids.slice(1))
    expect(store.depositorUsage(peers.bob.id).envelopes).toBe(1)
    expect(store.strangersUsage(peers.alice.id).envelopes).toBe(1)
    expect(await store.check()).toEqual([])
    await store.close()
  })

  it('without sealing, the same files name them (what the test above would catch)', async () => {
    const dir = await tempDb()
    const peers = { alice: randomPeer(), bob: randomPeer(), stranger: randomPeer() }
    const store = new MailboxStore(new Level<string, any>(dir))
    await store.open()
    await use(store, peers)
    await store.close()
    // Envelopes carry their recipient; unsealed, the files show it.
    expect(await filesNaming(dir, { alice: peers.alice })).not.toEqual([])
  })

  it('does not open under another data key', async () => {
    const dir = await tempDb()
    const peers = { alice: randomPeer(), bob: randomPeer(), stranger: randomPeer() }
    const tagKey = randomBytes(32)
    let store = new MailboxStore(new Level<string, any>(dir), { sealing: testSealing(randomBytes(32), tagKey) })
    await store.open()
    await use(store, peers)
    await store.close()
    store = new MailboxStore(new Level<string, any>(dir), { sealing: testSealing(randomBytes(32), tagKey) })
    await expect(store.open()).rejects.toThrow()
    await store.close()
  })

  it('moves a mailbox of the first layout (peer ids in the clear) into the sealed one, and leaves no peer id behind', async () => {
    const dir = await tempDb()
    const peers = { alice: randomPeer(), bob: randomPeer(), carol: randomPeer() }
    const sent = Array.from({ length: 300 }, () => envelopeFor(peers.alice))
    await writeFirstLayout(dir, peers, sent)

    const sealing = testSealing()
    let store = new MailboxStore(new Level<string, any>(dir), { sealing })
    await store.open()
    expect(store.recipients().sort()).toEqual([peers.alice.id, peers.carol.id].sort())
    expect((await store.fetch(peers.alice.id, { limit: 1000, now: 2000 })).map(e => e.id)).toEqual(sent.map(idOf))
    expect(store.depositorUsage(peers.bob.id).envelopes).toBe(300)
    expect(store.stats().byRecipient[peers.alice.id]?.envelopes).toBe(300)
    expect(await store.check()).toEqual([])
    // New mail goes on in order after the moved mail.
    const more = envelopeFor(peers.alice)
    expect(await store.deposit(peers.carol.id, [more], 3000)).toEqual(['stored'])
    expect((await store.fetch(peers.alice.id, { limit: 1000, now: 3000 })).map(e => e.id)).toEqual([...sent, more].map(idOf))
    await store.close()

    expect(await filesNaming(dir, peers)).toEqual([])
    store = new MailboxStore(new Level<string, any>(dir), { sealing })
    await store.open()
    expect(await store.check()).toEqual([])
    expect(store.stats().envelopes).toBe(301)
    await store.close()
  })
})

/**
 * A mailbox as the first layout wrote it: root sublevels, peer ids in keys and values. Alice
 * and carol are registered; bob deposited `sent` for alice at 1000 ms, one more was acked.
 */
async function writeFirstLayout (dir: string, peers: { alice: Peer, bob: Peer, carol: Peer }, sent: Uint8Array[]): Promise<void> {
  const db = new Level<string, any>(dir)
  await db.open()
  const hex12 = (n: number): string => n.toString(16).padStart(12, '0')
  const sub = (name: string, valueEncoding: string): any => db.sublevel(name, { valueEncoding })
  const [m, i, t, r, d, s] = [sub('m', 'view'), sub('i', 'json'), sub('t', 'utf8'), sub('r', 'json'), sub('d', 'json'), sub('s', 'json')]
  const ops: any[] = []
  let bytes = 0
  for (const [k, envelope] of sent.entries()) {
    const seq = k + 1
    const id = idOf(envelope)
    const value = new Uint8Array(25 + envelope.length)
    value[0] = 1
    value.set(Buffer.from(id, 'hex'), 1)
    new DataView(value.buffer).setFloat64(17, 1000)
    value.set(envelope, 25)
    ops.push({ type: 'put', sublevel: m, key: `${peers.alice.id}!${hex12(seq)}`, value })
    ops.push({ type: 'put', sublevel: i, key: `${peers.alice.id}!${id}`, value: { s: seq, t: 1000, d: peers.bob.id, n: envelope.length } })
    ops.push({ type: 'put', sublevel: t, key: `${hex12(1000)}!${peers.alice.id}!${id}`, value: '' })
    bytes += envelope.length
  }
  const acked = 'ab'.repeat(16)
  ops.push({ type: 'put', sublevel: i, key: `${peers.alice.id}!${acked}`, value: { s: sent.length + 1, a: 1500 } })
  ops.push({ type: 'put', sublevel: t, key: `${hex12(1500)}!${peers.alice.id}!${acked}`, value: '' })
  ops.push({ type: 'put', sublevel: r, key: peers.alice.id, value: { envelopes: sent.length, bytes, since: 500 } })
  ops.push({ type: 'put', sublevel: r, key: peers.carol.id, value: { envelopes: 0, bytes: 0, since: 600 } })
  ops.push({ type: 'put', sublevel: d, key: peers.bob.id, value: { envelopes: sent.length, bytes } })
  ops.push({ type: 'put', sublevel: s, key: 'seq', value: sent.length + 1 })
  await db.batch(ops)
  await db.close()
}
