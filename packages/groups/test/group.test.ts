import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { GroupPermissionError, KithGroup } from '../src/group.js'
import { deviceKeyPackage } from '../src/mls.js'
import type { KeyPackage, PrivateKeyPackage } from 'ts-mls'

interface Device { name: string, device: string, identity: string, keyPackage: () => Promise<{ publicPackage: KeyPackage, privatePackage: PrivateKeyPackage }> }

async function device (name: string): Promise<Device> {
  const identityKey = await generateIdentityKey()
  const key = await generateDeviceKey()
  const certificate = issueDeviceCertificate(identityKey, key.publicKey)
  return { name, device: peerIdFromPrivateKey(key).toString(), identity: identityFingerprint(identityKey.publicKey), keyPackage: async () => await deviceKeyPackage(key, certificate) }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const read = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('KithGroup (MLS with Kith device certificates)', () => {
  it('creates, adds, carries messages with their senders, renames, and removes; the removed member reads nothing after', async () => {
    const [alice, bob, carol] = await Promise.all([device('alice'), device('bob'), device('carol')])
    const a = await alice.keyPackage()
    let ga = await KithGroup.create('Book club', a.publicPackage, a.privatePackage)
    expect(ga.meta()).toEqual({ name: 'Book club', admins: [alice.identity] })

    const b = await bob.keyPackage()
    const c = await carol.keyPackage()
    const added = await ga.add([b.publicPackage, c.publicPackage])
    ga = added.group
    let gb = await KithGroup.join(added.welcome, b.publicPackage, b.privatePackage)
    let gc = await KithGroup.join(added.welcome, c.publicPackage, c.privatePackage)
    expect(gb.id).toBe(ga.id)
    expect(gc.members().map(m => m.device)).toEqual([alice.device, bob.device, carol.device])
    expect(gb.epoch).toBe(ga.epoch)

    // Bob writes; alice and carol read it, from bob.
    const hi = await gb.encrypt(text('hi all'))
    gb = hi.group
    for (const [name, g] of [['alice', ga], ['carol', gc]] as const) {
      const got = await g.process(hi.message)
      expect(got.kind, name).toBe('application')
      if (got.kind !== 'application') throw new Error('unreachable')
      expect(read(got.plaintext)).toBe('hi all')
      expect(got.sender.device).toBe(bob.device)
      if (name === 'alice') ga = got.group; else gc = got.group
    }

    // Only admins change the group: bob's own commit is refused by the others.
    await expect(gb.rename('Bob club')).rejects.toThrow(GroupPermissionError)
    const rogue = await gb.commit([{ proposalType: 'remove', remove: { removed: 0 } }])
    await expect(ga.process(rogue.commit)).rejects.toMatchObject({ name: 'InvalidGroupMessageError' })

    const renamed = await ga.rename('Reading club')
    ga = renamed.group
    for (const g of [gb, gc]) {
      const got = await g.process(renamed.commit)
      expect(got.kind).toBe('commit')
      expect(got.group.meta().name).toBe('Reading club')
    }
    gb = (await gb.process(renamed.commit)).group
    gc = (await gc.process(renamed.commit)).group

    // Alice removes carol; carol cannot read what is sent afterwards.
    const removal = await ga.remove([carol.identity])
    ga = removal.group
    gb = (await gb.process(removal.commit)).group
    expect(ga.members().map(m => m.device)).toEqual([alice.device, bob.device])
    const secret = await ga.encrypt(text('without carol'))
    ga = secret.group
    await expect(gc.process(secret.message)).rejects.toMatchObject({ name: 'InvalidGroupMessageError' })
    const stillCarol = await gc.process(removal.commit).then(r => r.group, () => gc)
    await expect(stillCarol.process(secret.message)).rejects.toMatchObject({ name: 'InvalidGroupMessageError' })
    const got = await gb.process(secret.message)
    expect(got.kind === 'application' && read(got.plaintext)).toBe('without carol')
  }, 30_000)

  it('promotes a member to admin, who may then change the group', async () => {
    const [alice, bob] = await Promise.all([device('alice'), device('bob')])
    const a = await alice.keyPackage()
    const b = await bob.keyPackage()
    const added = await (await KithGroup.create('Pair', a.publicPackage, a.privatePackage)).add([b.publicPackage])
    let gb = await KithGroup.join(added.welcome, b.publicPackage, b.privatePackage)
    const promoted = await added.group.promote(bob.identity)
    gb = (await gb.process(promoted.commit)).group
    expect(gb.meta().admins).toEqual([alice.identity, bob.identity])
    const renamed = await gb.rename('Bob too')
    const seen = await promoted.group.process(renamed.commit)
    expect(seen.group.meta().name).toBe('Bob too')
  }, 30_000)

  it('makes a change of name in a commit of its own (ts-mls 1.6 members cannot read one that also removes)', async () => {
    const [alice, bob, carol] = await Promise.all([device('alice'), device('bob'), device('carol')])
    const a = await alice.keyPackage()
    const b = await bob.keyPackage()
    const c = await carol.keyPackage()
    const added = await (await KithGroup.create('Trio', a.publicPackage, a.privatePackage)).add([b.publicPackage, c.publicPackage])
    await expect(added.group.commit([added.group.renameProposal('Duo'), { proposalType: 'remove', remove: { removed: 2 } }])).rejects.toThrow(GroupPermissionError)
    // Apart, both apply for the others.
    let gb = await KithGroup.join(added.welcome, b.publicPackage, b.privatePackage)
    const removed = await added.group.remove([carol.identity])
    gb = (await gb.process(removed.commit)).group
    const renamed = await removed.group.rename('Duo')
    gb = (await gb.process(renamed.commit)).group
    expect(gb.meta().name).toBe('Duo')
    expect(gb.members().map(m => m.device)).toEqual([alice.device, bob.device])
  }, 30_000)

  it('refuses malformed and oversized messages by name', async () => {
    const alice = await device('alice')
    const a = await alice.keyPackage()
    const g = await KithGroup.create('Solo', a.publicPackage, a.privatePackage)
    for (const bad of [new Uint8Array(), new Uint8Array([1, 2, 3]), new Uint8Array(2 * 1024 * 1024)]) {
      await expect(g.process(bad)).rejects.toMatchObject({ name: 'InvalidGroupMessageError' })
    }
  })
})
