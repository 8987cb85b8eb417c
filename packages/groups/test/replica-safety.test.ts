import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KithGroup } from '../src/group.js'
import { deviceKeyPackage } from '../src/mls.js'
import { GroupReplica } from '../src/replica.js'
import { encodeTextBody, signText } from '../src/text.js'

/**
 * A removed or out-of-date admin can't rewrite the group's history (docs/groups.md, "Ordering"
 * and "Removal cut-off"), checked on replicas with real MLS and hand-carried messages.
 */

interface Member { name: string, device: string, identity: string, replica: GroupReplica, online: boolean, inbox: Uint8Array[] }

/** `names[0]` creates the group (so it ranks first among admins) with the others in it; `admins` of them are admins. */
async function groupOf (names: string[], admins: string[]): Promise<Member[]> {
  const people = await Promise.all(names.map(async name => {
    const identityKey = await generateIdentityKey()
    const key = await generateDeviceKey()
    return { name, device: peerIdFromPrivateKey(key).toString(), identity: identityFingerprint(identityKey.publicKey), packages: await deviceKeyPackage(key, issueDeviceCertificate(identityKey, key.publicKey)) }
  }))
  const [creator, ...others] = people as [typeof people[0], ...typeof people]
  const added = await (await KithGroup.create('Club', creator.packages.publicPackage, creator.packages.privatePackage)).add(others.map(o => o.packages.publicPackage))
  const groups = [added.group]
  for (const o of others) groups.push(await KithGroup.join(added.welcome, o.packages.publicPackage, o.packages.privatePackage))
  const members = people.map((p, i) => ({ name: p.name, device: p.device, identity: p.identity, replica: new GroupReplica(groups[i]!), online: true, inbox: [] as Uint8Array[] }))
  for (const name of admins.filter(a => a !== creator.name)) await deliver(members, members[0]!, await members[0]!.replica.intend({ kind: 'promote', who: by(members, name).identity }))
  return members
}

/** Hand `messages` from `from` to everyone else online, and what that makes them send, until quiet; offline members get theirs later. */
async function deliver (members: Member[], from: Member | undefined, messages: Uint8Array[], to = members): Promise<void> {
  for (const m of to) if (m !== from) m.inbox.push(...messages)
  for (let guard = 0; guard < 1000; guard++) {
    const next = members.find(m => m.online && m.inbox.length > 0)
    if (next == null) return
    const out = await next.replica.receive(next.inbox.shift() as Uint8Array)
    for (const m of members) if (m !== next) m.inbox.push(...out)
  }
  throw new Error('delivery does not settle')
}

const by = (members: Member[], name: string): Member => members.find(m => m.name === name) as Member
const texts = (m: Member): string[] => m.replica.history().map(h => h.text).sort()

/** Content a (removed) member makes with a state it kept, as a modified client would: a text signed for `epoch`. */
async function textAt (state: KithGroup, epoch: bigint, text: string): Promise<Uint8Array> {
  return (await textFrom(state, epoch, text)).message
}

async function textFrom (state: KithGroup, epoch: bigint, text: string): Promise<{ group: KithGroup, message: Uint8Array }> {
  const signed = signText(state.id, epoch, state.state.signaturePrivateKey, { id: Buffer.from(text.padEnd(16, '.').slice(0, 16)).toString('hex'), ts: Date.now(), text })
  return await state.encrypt(Buffer.concat([Uint8Array.of(0), encodeTextBody(signed)]))
}

describe('GroupReplica: a removed or out-of-date admin cannot rewrite history', () => {
  it('a removed admin\'s commits for the old epoch, with its old state, bring nothing back, though it ranks first', async () => {
    // Bob created the group: he is the first in the committer order.
    const members = await groupOf(['bob', 'alice', 'carol', 'dave'], ['bob', 'alice'])
    const [bob, alice, carol, dave] = ['bob', 'alice', 'carol', 'dave'].map(n => by(members, n)) as [Member, Member, Member, Member]
    await deliver(members, alice, await alice.replica.intend({ kind: 'remove', who: bob.identity }))
    expect(bob.replica.removed).toBe(true)
    const chain = alice.replica.chain()
    const epoch = alice.replica.head.epoch

    // Bob, with the state he had, commits a rename for the epoch alice's commit built on, and
    // goes on from there alone: a whole competing chain, longer than the one he was removed on.
    let state = bob.replica.head
    const competing: Uint8Array[] = []
    for (const name of ['Bob\'s club', 'Bob\'s club!', 'Bob\'s club!!']) {
      const { group, commit } = await state.rename(name)
      competing.push(commit)
      state = group
    }
    await deliver(members, bob, competing)
    for (const m of [alice, carol, dave]) {
      expect(m.replica.chain(), m.name).toEqual(chain)
      expect(m.replica.head.epoch, m.name).toBe(epoch)
      expect(m.replica.head.meta().name, m.name).toBe('Club')
      expect(m.replica.head.members().map(x => x.device), m.name).not.toContain(bob.device)
    }
    // And the group goes on without him.
    await deliver(members, carol, await carol.replica.send('after bob'))
    expect(texts(dave)).toContain('after bob')
  })

  it('a stale commit for an old epoch rolls nobody back; its admin moves onto the chain and does again what it wanted', async () => {
    const members = await groupOf(['bob', 'alice', 'carol'], ['bob', 'alice'])
    const [bob, alice, carol] = ['bob', 'alice', 'carol'].map(n => by(members, n)) as [Member, Member, Member]
    bob.online = false
    await deliver(members, alice, await alice.replica.intend({ kind: 'rename', name: 'Alice\'s club' }))
    await deliver(members, alice, await alice.replica.intend({ kind: 'promote', who: carol.identity }))
    await deliver(members, carol, await carol.replica.send('while bob was away'))
    const chain = alice.replica.chain()
    bob.inbox.length = 0

    // Bob, away, renames the group with the state he has: two epochs old.
    const stale = await bob.replica.intend({ kind: 'rename', name: 'Bob\'s club' })
    await deliver(members, bob, stale, [alice, carol])
    for (const m of [alice, carol]) {
      expect(m.replica.chain().slice(0, chain.length), m.name).toEqual(chain)
      expect(texts(m), m.name).toContain('while bob was away')
    }
    // Back, bob catches up: he moves onto the chain and commits his rename there.
    bob.online = true
    for (const commit of alice.replica.commitsSince(bob.replica.head.epoch - 1n)) bob.inbox.push(commit)
    await deliver(members, undefined, [])
    for (const m of [alice, bob, carol]) {
      expect(m.replica.chain().slice(0, chain.length), m.name).toEqual(chain)
      expect(m.replica.head.meta().name, m.name).toBe('Bob\'s club')
      expect(m.replica.chain(), m.name).toEqual(alice.replica.chain())
    }
  })

  it('what a removed member sends after its removal, into its last epoch or an older one, is in no history; what its remover had read stays', async () => {
    const members = await groupOf(['alice', 'bob', 'carol'], ['alice'])
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(n => by(members, n)) as [Member, Member, Member]
    const first = alice.replica.head.epoch
    await deliver(members, bob, await bob.replica.send('bob, early'))
    await deliver(members, alice, await alice.replica.intend({ kind: 'rename', name: 'Club 2' }))
    await deliver(members, bob, await bob.replica.send('bob, before'))
    // Alice reads this one before she removes bob; carol gets it only afterwards (gossip is late).
    const late = await bob.replica.send('bob, late but before')
    await deliver(members, bob, late, [alice])
    await deliver(members, alice, await alice.replica.intend({ kind: 'remove', who: bob.identity }), [alice, bob])
    const last = bob.replica.head.epoch
    expect(bob.replica.removed).toBe(true)

    // Bob, removed, writes with the states he kept: into his last epoch, and into an older one.
    const older = (bob.replica as unknown as { states: Map<bigint, KithGroup> }).states.get(first)!
    const afterwards = [await textAt(bob.replica.head, last, 'bob, after his removal'), await textAt(older, first, 'bob, into the past')]
    // Carol gets all of it, in any order: the removal last.
    await deliver(members, bob, [...afterwards, ...late], [carol])
    await deliver(members, alice, alice.replica.commitsSince(last), [carol])
    await deliver(members, bob, afterwards, [alice])
    const kept = ['bob, before', 'bob, early', 'bob, late but before']
    for (const m of [alice, carol]) expect(texts(m), m.name).toEqual(kept)
  })

  it('a text whose signature names another epoch than the one it was sent in is dropped', async () => {
    const members = await groupOf(['alice', 'bob'], ['alice'])
    const [alice, bob] = ['alice', 'bob'].map(n => by(members, n)) as [Member, Member]
    const epoch = bob.replica.head.epoch
    // Bob's client signs one text for the next epoch but sends it in this one (a replay into another epoch).
    const moved = await textFrom(bob.replica.head, epoch + 1n, 'signed for epoch + 1')
    const right = await textFrom(moved.group, epoch, 'signed for this epoch')
    await deliver(members, bob, [moved.message, right.message])
    expect(texts(alice)).toEqual(['signed for this epoch'])
  })
})

describe('GroupReplica: what an admin wanted is done on the chain that wins', () => {
  it('a removal whose commit lost a race is committed again on the winning chain', async () => {
    const members = await groupOf(['bob', 'alice', 'carol'], ['bob', 'alice'])
    const [bob, alice, carol] = ['bob', 'alice', 'carol'].map(n => by(members, n)) as [Member, Member, Member]
    // At once: alice removes carol, bob (first in the order) renames the group.
    const removal = await alice.replica.intend({ kind: 'remove', who: carol.identity })
    const rename = await bob.replica.intend({ kind: 'rename', name: 'Bob\'s club' })
    expect(alice.replica.head.members()).toHaveLength(2)
    await deliver(members, alice, removal, [carol])
    await deliver(members, bob, rename)
    await deliver(members, alice, removal)
    for (const m of [alice, bob]) {
      expect(m.replica.head.meta().name, m.name).toBe('Bob\'s club')
      expect(m.replica.head.members().map(x => x.device), m.name).toEqual([bob.device, alice.device])
      expect(m.replica.chain(), m.name).toEqual(bob.replica.chain())
    }
    expect(carol.replica.removed).toBe(true)
  })

  it('intents are kept with the state and done after a restart', async () => {
    const members = await groupOf(['alice', 'bob', 'carol'], ['alice'])
    const [alice, bob] = ['alice', 'bob'].map(n => by(members, n)) as [Member, Member]
    await deliver(members, alice, await alice.replica.intend({ kind: 'rename', name: 'Club 2' }))
    expect(alice.replica.intents()).toEqual([{ intent: { kind: 'rename', name: 'Club 2' }, done: { epoch: Number(alice.replica.head.epoch), by: alice.replica.chain().at(-1) } }])
    // One saved before it could be committed (say, a promotion asked for just before a crash).
    const saved = [...alice.replica.intents(), { intent: { kind: 'promote', who: bob.identity } }]
    const restarted = new GroupReplica(alice.replica.head, 0n, [], { intents: saved, topicSecret: new Uint8Array(32) })
    alice.replica = restarted
    await deliver(members, alice, await restarted.resume())
    for (const m of members) expect(m.replica.head.meta(), m.name).toEqual({ name: 'Club 2', admins: [alice.identity, bob.identity] })
    // Malformed stored intents are dropped, not obeyed.
    expect(new GroupReplica(alice.replica.head, 0n, [], { intents: [{ intent: { kind: 'remove' } }, 'junk', { intent: { kind: 'rename', name: 'ok' } }] }).intents()).toEqual([{ intent: { kind: 'rename', name: 'ok' } }])
  })
})
