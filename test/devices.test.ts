import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { createKithNode, initHome, linkHome } from '@kith/node'
import type { KithNode, LinkRequestView, LinkedDevice, LinkedHome, RefusedLink } from '@kith/node'
import { befriend, eventually, settled, tempDir, trackNodes } from './helpers/testnet.js'

/** A node on a home folder, on loopback TCP. */
async function homeNode (home: string): Promise<KithNode> {
  return await createKithNode({ home, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
}

/** The next `type` event of `node`. */
async function next<T> (node: KithNode, type: 'device:link-request' | 'device:linked' | 'device:link-refused'): Promise<T> {
  return await new Promise<T>(resolve => { node.addEventListener(type, (evt: any) => { resolve(evt.detail) }, { once: true }) })
}

/**
 * Redeem `code` for a new device (home `home`) the way a user does: the new device shows its
 * comparison code while the identity device holds the link; the user sees the same code there
 * and confirms. Returns what each device showed.
 */
async function redeem (identityDevice: KithNode, home: string, code: string): Promise<{ result: LinkedHome, request: LinkRequestView, shown: string }> {
  const asked = next<LinkRequestView>(identityDevice, 'device:link-request')
  let shown: string | undefined
  const result = linkHome(home, code, { deviceName: 'phone', onComparison: (comparison) => { shown = comparison } })
  result.catch(() => {})
  const request = await asked
  const onNewDevice = await eventually(() => shown, 20_000, 'the new device to show its comparison code')
  expect(request.comparison).toBe(onNewDevice)
  expect(await identityDevice.devices.confirmLink(onNewDevice.replace(' ', ''))).toMatchObject({ device: request.device, comparison: onNewDevice })
  return { result: await result, request, shown: onNewDevice }
}

/** Alice's first device and bob, each on a home under `dir` (added to `nodes`), as contacts. */
async function aliceAndBob (dir: string, nodes: KithNode[]): Promise<{ a1: KithNode, bob: KithNode }> {
  await initHome(join(dir, 'a1'), 'alice')
  await initHome(join(dir, 'bob'), 'bob')
  const a1 = await homeNode(join(dir, 'a1'))
  const bob = await homeNode(join(dir, 'bob'))
  nodes.push(a1, bob)
  await befriend(a1, bob)
  await settled(a1, bob)
  return { a1, bob }
}

/** Link a new device (home `home`) to `identityDevice`'s account; returns both comparison codes. */
async function link (identityDevice: KithNode, home: string): Promise<{ node: KithNode, shown: string, linked: LinkedDevice }> {
  const { code } = await identityDevice.devices.createLinkCode()
  const linked = next<LinkedDevice>(identityDevice, 'device:linked')
  const { result } = await redeem(identityDevice, home, code)
  return { node: await homeNode(home), shown: result.comparison, linked: await linked }
}

const texts = async (node: KithNode, conversation: string): Promise<string[]> => (await node.history(conversation, { limit: 100 })).map(m => m.text).sort()

describe('one account on several devices (in-process, TCP)', () => {
  it('three devices of one user and a contact chat, and every device shows the same conversation', async () => {
    const dir = await tempDir()
    const nodes: KithNode[] = []
    try {
      const { a1, bob } = await aliceAndBob(dir.path, nodes)
      const club = await a1.groups.create('Club')
      await a1.groups.add(club.group, bob.peerId.toString())

      const second = await link(a1, join(dir.path, 'a2'))
      nodes.push(second.node)
      expect(second.shown).toMatch(/^\d{3} \d{3}$/)
      expect(second.linked.comparison).toBe(second.shown)
      expect(second.linked.device).toBe(second.node.peerId.toString())
      const third = await link(a1, join(dir.path, 'a3'))
      nodes.push(third.node)
      const devices = [a1, second.node, third.node]
      const ids = devices.map(d => d.peerId.toString())

      // Same identity on every device; only the first holds the identity key.
      for (const d of devices) expect(d.identity.equals(a1.identity)).toBe(true)
      expect(a1.devices.devices().map(d => d.device)).toEqual(ids)
      expect(second.node.devices.devices().find(d => d.identityDevice)?.device).toBe(ids[0])
      await expect(second.node.devices.createLinkCode()).rejects.toMatchObject({ name: 'NotIdentityDeviceError' })
      // The contact learns the new devices from the signed list; the linked devices got the contact.
      await eventually(async () => (await bob.store.getContact(ids[0] as string))?.devices?.length === 3, 30_000, 'bob to learn of three devices')
      await eventually(async () => third.node.devices.others().length === 2 && second.node.devices.others().length === 2, 30_000, 'each device to know the others')
        .catch(err => { throw new Error(`${err.message}: ${JSON.stringify(devices.map(d => [d.devices.others().length, d.messaging.pending(), d.messaging.metrics]))}`) })
      for (const d of devices.slice(1)) expect((await d.store.getContact(bob.peerId.toString()))?.name).toBe('bob')

      await a1.send('bob', 'from the laptop')
      await second.node.send('bob', 'from the phone')
      await bob.send('alice', 'from bob')
      const all = ['from bob', 'from the laptop', 'from the phone']
      const conversation = bob.peerId.toString()
      for (const d of devices) await eventually(async () => (await texts(d, conversation)).join() === all.join(), 30_000, `device ${d.peerId.toString().slice(-6)} to show the whole conversation`)
      await eventually(async () => (await texts(bob, a1.peerId.toString())).join() === all.join(), 30_000, 'bob to show the whole conversation')
      // The same message has the same id everywhere.
      const idsOn = async (node: KithNode, c: string): Promise<string[]> => (await node.history(c)).map(m => m.id).sort()
      for (const d of devices) expect(await idsOn(d, conversation)).toEqual(await idsOn(bob, a1.peerId.toString()))
      // Each device is its own peer: bob's messages to alice's devices are delivered once each.
      await eventually(async () => (await bob.history(a1.peerId.toString())).every(m => m.status !== 'queued' && m.status !== 'sent'), 30_000, 'delivery')

      // Read on one device, read on all of them.
      for (const d of devices) expect((await d.contacts())[0]?.unread).toBe(1)
      expect((await second.node.markRead('bob')).upTo).toBeGreaterThan(0)
      for (const d of devices) await eventually(async () => (await d.contacts())[0]?.unread === 0, 30_000, 'the conversation read everywhere')

      // In groups each device is its own member: the admin's devices added the new ones.
      await eventually(() => devices.every(d => d.groups.list().some(g => g.group === club.group && g.members === 4)), 60_000, 'all four devices in the group')
      await bob.send(club.group, 'to the club')
      for (const d of devices) await eventually(async () => (await d.history(club.group)).some(m => m.text === 'to the club'), 30_000, 'the group text on every device')

      // Revoking the third device: nobody encrypts to it any more, and what it sends is refused.
      const revoked = ids[2] as string
      await expect(second.node.devices.revoke(revoked)).rejects.toMatchObject({ name: 'NotIdentityDeviceError' })
      expect((await a1.devices.revoke('phone-x').catch(err => err)).name).toBe('UnknownDeviceError')
      expect((await a1.devices.revoke(revoked)).map(d => d.device)).toEqual(ids.slice(0, 2))
      await eventually(async () => (await bob.store.getContact(ids[0] as string))?.devices?.length === 2, 30_000, 'bob to learn of the revocation')
      await eventually(async () => second.node.devices.others().length === 1, 30_000, 'the second device to learn of the revocation')
      await eventually(() => a1.groups.list().some(g => g.group === club.group && g.members === 3), 30_000, 'the revoked device out of the group')
      await eventually(() => bob.groups.list().some(g => g.group === club.group && g.members === 3 && g.epoch === a1.groups.list()[0]?.epoch), 30_000, 'bob in the same epoch')
      await bob.send(club.group, 'to the club, after the revocation')
      await eventually(async () => (await second.node.history(club.group)).some(m => m.text === 'to the club, after the revocation'), 30_000, 'the group text on the second device')
      await bob.send('alice', 'after the revocation')
      await a1.send('bob', 'after the revocation, from the laptop')
      await eventually(async () => (await texts(second.node, conversation)).length === 5, 30_000, 'the second device to get both')
      const ghost = await third.node.send('bob', 'from a revoked device')
      await eventually(async () => (await third.node.history(conversation)).find(m => m.id === ghost.id)?.status === 'refused', 30_000, 'the revoked device to be refused')
      expect(await texts(third.node, conversation)).toEqual(expect.not.arrayContaining(['after the revocation', 'after the revocation, from the laptop']))
      expect(await texts(bob, ids[0] as string)).not.toContain('from a revoked device')
      expect(bob.messaging.pending(revoked) + a1.messaging.pending(revoked)).toBe(0)
      expect((await third.node.history(club.group)).map(m => m.text)).not.toContain('to the club, after the revocation')
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await dir.cleanup()
    }
  }, 120_000)

  it('keeps a copy for our own device that can not file it yet, and delivers it once it can', async () => {
    const dir = await tempDir()
    const nodes: KithNode[] = []
    try {
      await initHome(join(dir.path, 'a1'), 'alice')
      await initHome(join(dir.path, 'bob'), 'bob')
      const a1 = await homeNode(join(dir.path, 'a1'))
      nodes.push(a1)
      const second = await link(a1, join(dir.path, 'a2'))
      const a2 = second.node
      nodes.push(a2)
      // The second device can't take contact records for now (its service fails: "not now").
      let ready = false
      const bobId = { peerId: '', name: 'bob' }
      a2.messaging.handleControl('kith/contact', async () => {
        if (!ready) throw new Error('not now')
        await a2.store.putContact({ peerId: bobId.peerId, name: bobId.name, addrs: [], addedAt: Date.now() })
        return { ops: [] }
      })
      const bob = await homeNode(join(dir.path, 'bob'))
      nodes.push(bob)
      bobId.peerId = bob.peerId.toString()
      await befriend(a1, bob)
      const sent = await a1.send('bob', 'copied to my phone')
      // The phone can't file the copy (it does not know bob yet): it is kept, not refused.
      const a2Id = a2.peerId.toString()
      await eventually(() => a2.status().metrics.notYet >= 2, 30_000, 'the phone to answer "not yet" for the contact and the copy')
      expect(a1.messaging.pending(a2Id)).toBeGreaterThanOrEqual(2)
      expect((await a2.store.history(bobId.peerId)).map(m => m.id)).not.toContain(sent.id)
      // Once it can, both arrive: nothing was lost on the way.
      ready = true
      await eventually(async () => (await a2.store.history(bobId.peerId)).some(m => m.id === sent.id && m.text === 'copied to my phone'), 90_000, 'the copy on the phone')
      await eventually(() => a1.messaging.pending(a2Id) === 0, 30_000, 'nothing left for the phone')
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await dir.cleanup()
    }
  }, 120_000)
})

describe('device lists and link codes refused', () => {
  const node = trackNodes()

  it('refuses forged, foreign and stale device lists from a contact, counts them, and keeps serving', async () => {
    const { generateIdentityKey, generateDeviceKey, issueDeviceCertificate, issueDeviceList } = await import('@kith/crypto')
    const aliceIdentity = await generateIdentityKey()
    const alice = await node('alice', { identityKey: aliceIdentity })
    const bob = await node('bob')
    await befriend(alice, bob)
    const aliceId = alice.peerId.toString()
    await eventually(async () => (await bob.store.getContact(aliceId))?.deviceListSeq === 1, 20_000, 'bob to hold alice\'s list')
    const before = bob.status().metrics.invalid
    const current = await bob.store.getContact(aliceId)

    // Mallory's identity signs a list naming alice's device: not alice's identity.
    const mallory = await generateIdentityKey()
    const malloryDevice = await generateDeviceKey()
    const foreign = issueDeviceList(mallory, { seq: 9, devices: [issueDeviceCertificate(mallory, malloryDevice.publicKey)] })
    // (A list signed by alice's identity holding mallory's certificate cannot even be made.)
    // Forged: a newer list of alice's with its signature broken.
    const forged = new Uint8Array(issueDeviceList(aliceIdentity, { seq: 9, devices: [issueDeviceCertificate(aliceIdentity, alice.libp2p.peerId.publicKey!)] }))
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    // Stale: an older seq than the one bob holds (a replay of what alice had before).
    const stale = issueDeviceList(aliceIdentity, { seq: 1, devices: [issueDeviceCertificate(aliceIdentity, alice.libp2p.peerId.publicKey!)] })
    for (const payload of [foreign, forged, stale]) await alice.messaging.sendControl(bob.peerId.toString(), 'kith/devices', payload)
    await eventually(() => bob.status().metrics.invalid === before + 3 && alice.messaging.pending() === 0, 20_000, 'three lists refused')
    expect(await bob.store.getContact(aliceId)).toEqual(current)

    // Carol's identity certifies alice's device key and lists it as hers: any identity can sign
    // any key, so a list may not take over a device bob knows as another contact's.
    const carolIdentity = await generateIdentityKey()
    const carol = await node('carol', { identityKey: carolIdentity })
    await befriend(carol, bob)
    const carolId = carol.peerId.toString()
    await eventually(async () => (await bob.store.getContact(carolId))?.deviceListSeq === 1, 20_000, 'bob to hold carol\'s list')
    const claiming = issueDeviceList(carolIdentity, { seq: 2, devices: [issueDeviceCertificate(carolIdentity, carol.libp2p.peerId.publicKey!), issueDeviceCertificate(carolIdentity, alice.libp2p.peerId.publicKey!)] })
    const invalid = bob.status().metrics.invalid
    await carol.messaging.sendControl(bob.peerId.toString(), 'kith/devices', claiming)
    await eventually(() => bob.status().metrics.invalid === invalid + 1 && carol.messaging.pending() === 0, 20_000, 'the claiming list refused')
    expect((await bob.store.getContact(carolId))?.devices).toEqual([carolId])
    expect((await bob.store.getContactByDevice(aliceId))?.name).toBe('alice')
    // And bob still takes alice's messages.
    await alice.send('bob', 'still here')
    await eventually(async () => (await bob.history(aliceId)).some(m => m.text === 'still here'), 20_000, 'the text')
  })

  it('refuses a link code used already or expired, on the identity device', async () => {
    const dir = await tempDir()
    const nodes: KithNode[] = []
    try {
      await initHome(join(dir.path, 'a1'), 'alice')
      const a1 = await homeNode(join(dir.path, 'a1'))
      nodes.push(a1)
      const { code } = await a1.devices.createLinkCode()
      await redeem(a1, join(dir.path, 'a2'), code)
      await expect(linkHome(join(dir.path, 'a3'), code)).rejects.toMatchObject({ name: 'LinkCodeUsedError' })
      // A code the identity device made that has since expired (its clock says so, whatever the code says).
      const fresh = await a1.devices.createLinkCode()
      for (const [name, link] of await a1.store.listSecrets<any>('devices/link/')) {
        if (link.used == null) await a1.store.commit([a1.store.putSecret(name, { ...link, expires: Date.now() - 1 })])
      }
      await expect(linkHome(join(dir.path, 'a4'), fresh.code)).rejects.toMatchObject({ name: 'LinkCodeExpiredError' })
      // Neither failed attempt left a home behind, and the account has two devices.
      await expect(initHome(join(dir.path, 'a3'), 'again')).resolves.toBeDefined()
      expect(a1.devices.devices()).toHaveLength(2)
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await dir.cleanup()
    }
  })

  it('links nothing when the user declines the comparison code or does not answer: no certificate, no contacts, no home', async () => {
    const dir = await tempDir()
    const nodes: KithNode[] = []
    try {
      const { a1, bob } = await aliceAndBob(dir.path, nodes)
      const aliceId = a1.peerId.toString()
      await eventually(async () => (await bob.store.getContact(aliceId))?.deviceListSeq === 1, 20_000, 'bob to hold alice\'s list')
      const listBefore = a1.devices.signedList()

      // Declined: someone redeemed the code (say, after seeing it over the user's shoulder); the
      // comparison code on the user's screen is not the one the identity device shows.
      const { code } = await a1.devices.createLinkCode()
      const asked = next<LinkRequestView>(a1, 'device:link-request')
      const refusedEvent = next<RefusedLink>(a1, 'device:link-refused')
      let shown: string | undefined
      const declined = linkHome(join(dir.path, 'a2'), code, { deviceName: 'intruder', onComparison: (c) => { shown = c } })
      declined.catch(() => {})
      const request = await asked
      expect(request).toMatchObject({ name: 'intruder', comparison: expect.stringMatching(/^\d{3} \d{3}$/) })
      expect(a1.devices.linkRequests()).toEqual([request])
      // While it waits: not certified, not in the list, and a code that matches no waiting device changes nothing.
      expect(a1.devices.devices()).toHaveLength(1)
      const other = request.comparison === '000 000' ? '111111' : '000000'
      await expect(a1.devices.confirmLink(other)).rejects.toMatchObject({ name: 'UnknownLinkRequestError' })
      expect(a1.devices.rejectLink(request.comparison)).toMatchObject({ device: request.device })
      await expect(declined).rejects.toMatchObject({ name: 'LinkRejectedError', message: expect.stringMatching(/did not confirm the comparison code/) })
      expect(shown).toBe(request.comparison)
      expect(await refusedEvent).toMatchObject({ device: request.device, reason: 'rejected' })
      // The code is spent: it cannot be tried again.
      await expect(linkHome(join(dir.path, 'a2'), code)).rejects.toMatchObject({ name: 'LinkCodeUsedError' })

      // No answer: the identity device gives up when the code expires (here in a few seconds),
      // however long the user might otherwise have had.
      const late = await a1.devices.createLinkCode()
      for (const [name, link] of await a1.store.listSecrets<any>('devices/link/')) {
        if (link.used == null) await a1.store.commit([a1.store.putSecret(name, { ...link, expires: Date.now() + 3000 })])
      }
      const timedOut = next<RefusedLink>(a1, 'device:link-refused')
      await expect(linkHome(join(dir.path, 'a3'), late.code)).rejects.toMatchObject({ name: 'LinkRejectedError', message: expect.stringMatching(/did not confirm the comparison code \(no answer in time\)/) })
      expect((await timedOut).reason).toBe('timeout')

      // Neither device joined: the list is the one from before, nothing went to the contact, and
      // neither left a home (so no certificate and no contacts were written anywhere).
      expect(a1.devices.devices().map(d => d.device)).toEqual([aliceId])
      expect(Buffer.from(a1.devices.signedList()).equals(Buffer.from(listBefore))).toBe(true)
      expect(a1.devices.linkRequests()).toEqual([])
      expect((await bob.store.getContact(aliceId))?.devices).toEqual([aliceId])
      await expect(initHome(join(dir.path, 'a2'), 'again')).resolves.toBeDefined()
      await expect(initHome(join(dir.path, 'a3'), 'again')).resolves.toBeDefined()
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await dir.cleanup()
    }
  }, 60_000)
})
