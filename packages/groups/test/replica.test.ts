import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KithGroup } from '../src/group.js'
import { deviceKeyPackage } from '../src/mls.js'
import { GroupReplica } from '../src/replica.js'
import type { KeptCommit } from '../src/replica.js'

interface Member { name: string, device: string, identity: string, replica: GroupReplica, online: boolean, inbox: Uint8Array[] }

/** alice creates the group with bob and carol in it; `admins` of them are admins. */
async function groupOf (admins: string[]): Promise<Member[]> {
  const people = await Promise.all(['alice', 'bob', 'carol'].map(async name => {
    const identityKey = await generateIdentityKey()
    const key = await generateDeviceKey()
    return { name, device: peerIdFromPrivateKey(key).toString(), identity: identityFingerprint(identityKey.publicKey), packages: await deviceKeyPackage(key, issueDeviceCertificate(identityKey, key.publicKey)) }
  }))
  const [alice, ...others] = people as [typeof people[0], ...typeof people]
  const added = await (await KithGroup.create('Club', alice.packages.publicPackage, alice.packages.privatePackage)).add(others.map(o => o.packages.publicPackage))
  const groups = [added.group]
  for (const o of others) groups.push(await KithGroup.join(added.welcome, o.packages.publicPackage, o.packages.privatePackage))
  const members = people.map((p, i) => ({ name: p.name, device: p.device, identity: p.identity, replica: new GroupReplica(groups[i]!), online: true, inbox: [] as Uint8Array[] }))
  for (const name of admins.filter(a => a !== 'alice')) await deliver(members, members[0]!, await members[0]!.replica.intend({ kind: 'promote', who: members.find(m => m.name === name)!.identity }))
  return members
}

/** Hand `messages` from `from` to everyone else, and what that makes them send, until quiet; offline members get theirs later. */
async function deliver (members: Member[], from: Member, messages: Uint8Array[]): Promise<void> {
  for (const m of members) if (m !== from) m.inbox.push(...messages)
  for (let guard = 0; guard < 1000; guard++) {
    const to = members.find(m => m.online && m.inbox.length > 0)
    if (to == null) return
    const bytes = to.inbox.shift() as Uint8Array
    const out = await to.replica.receive(bytes)
    for (const m of members) if (m !== to) m.inbox.push(...out)
  }
  throw new Error('delivery does not settle')
}

const byName = (members: Member[], name: string): Member => members.find(m => m.name === name) as Member

describe('GroupReplica: committers, failover and leaving', () => {
  it('a member leaving is removed by the next admin when the first one is offline, and the first agrees when back', async () => {
    const members = await groupOf(['alice', 'bob'])
    const [alice, bob, carol] = [byName(members, 'alice'), byName(members, 'bob'), byName(members, 'carol')]
    alice.online = false
    await deliver(members, carol, await carol.replica.intend({ kind: 'leave' }))
    expect(carol.replica.removed).toBe(true)
    expect(bob.replica.head.members().map(m => m.device)).toEqual([alice.device, bob.device])

    alice.online = true
    await deliver(members, alice, [])
    expect(alice.replica.chain()).toEqual(bob.replica.chain())
    expect(alice.replica.head.members().map(m => m.device)).toEqual([alice.device, bob.device])
  })

  it('the last admin hands over before leaving: the next member becomes admin and commits the removal', async () => {
    const members = await groupOf(['alice'])
    const [alice, bob, carol] = [byName(members, 'alice'), byName(members, 'bob'), byName(members, 'carol')]
    await deliver(members, alice, await alice.replica.intend({ kind: 'leave' }))
    expect(alice.replica.removed).toBe(true)
    for (const m of [bob, carol]) {
      expect(m.replica.head.members().map(x => x.device), m.name).toEqual([bob.device, carol.device])
      expect(m.replica.head.meta().admins, m.name).toEqual([alice.identity, bob.identity])
    }
    // The group goes on under its new admin; alice reads none of it.
    await deliver(members, bob, await bob.replica.send('after alice'))
    expect(carol.replica.history().map(h => h.text)).toContain('after alice')
    expect(alice.replica.history().map(h => h.text)).not.toContain('after alice')
  })

  it('keeps the chain commits across a restart, for members that fell behind and for one removed meanwhile', async () => {
    const members = await groupOf(['alice'])
    const [alice, bob, carol] = [byName(members, 'alice'), byName(members, 'bob'), byName(members, 'carol')]
    const start = alice.replica.head.epoch
    bob.online = false
    carol.online = false
    await deliver(members, alice, await alice.replica.intend({ kind: 'remove', who: carol.identity }))
    await deliver(members, alice, await alice.replica.intend({ kind: 'rename', name: 'Club 2' }))
    bob.inbox.length = 0
    carol.inbox.length = 0

    // Alice restarts with her head state and the commits she stored.
    const stored = alice.replica.takeCommitChanges().filter((c): c is [bigint, KeptCommit] => c[1] != null)
    expect(stored.map(([epoch]) => epoch)).toEqual([start, start + 1n])
    const restarted = new GroupReplica(alice.replica.head, 0n, stored)
    for (const commit of restarted.commitsSince(start)) await bob.replica.receive(commit)
    expect(bob.replica.head.meta().name).toBe('Club 2')
    expect(bob.replica.chain()).toEqual(alice.replica.chain())
    // Carol gets the commits up to her removal, and nothing after it.
    const toCarol = restarted.commitsUntilRemoved(start, carol.device)
    expect(toCarol).toHaveLength(1)
    for (const commit of toCarol) await carol.replica.receive(commit)
    expect(carol.replica.removed).toBe(true)
    expect(restarted.commitsUntilRemoved(start, bob.device)).toEqual([])
  })

  it('an admin never commits its own removal: it leaves instead', async () => {
    const members = await groupOf(['alice', 'bob'])
    const [alice, bob] = [byName(members, 'alice'), byName(members, 'bob')]
    await deliver(members, alice, await alice.replica.intend({ kind: 'remove', who: alice.identity }))
    expect(alice.replica.head.members()).toHaveLength(3)
    expect(bob.replica.head.epoch).toBe(alice.replica.head.epoch)
  })
})
