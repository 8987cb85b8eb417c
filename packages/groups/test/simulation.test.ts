import { describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, identityFingerprint, issueDeviceCertificate } from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KithGroup } from '../src/group.js'
import { deviceKeyPackage } from '../src/mls.js'
import { GroupReplica } from '../src/replica.js'

/**
 * A simulation of Kith's group ordering (docs/groups.md) with real MLS: members act at random
 * (texts, renames, promotions, a removal, a member or an admin leaving) while the network shuffles, delays, duplicates
 * and partitions their messages; at the end (network healed, everything delivered) every
 * member must hold the same chain, the same group and the same history. Actions and delivery
 * follow the seed; keys are fresh each run, so commit ids, and with them which of two racing
 * commits wins, differ from run to run.
 */

function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Member { name: string, device: string, identity: string, replica: GroupReplica, inbox: Array<{ from: Member, bytes: Uint8Array }>, side: number }

async function setUp (names: string[]): Promise<Member[]> {
  const people = await Promise.all(names.map(async name => {
    const identityKey = await generateIdentityKey()
    const key = await generateDeviceKey()
    const packages = await deviceKeyPackage(key, issueDeviceCertificate(identityKey, key.publicKey))
    return { name, device: peerIdFromPrivateKey(key).toString(), identity: identityFingerprint(identityKey.publicKey), packages }
  }))
  const [creator, ...others] = people
  if (creator == null) throw new Error('no members')
  const added = await (await KithGroup.create('Sim', creator.packages.publicPackage, creator.packages.privatePackage)).add(others.map(o => o.packages.publicPackage))
  // The second member is an admin too, so two committers can race.
  const promoted = await added.group.promote(others[0]!.identity)
  const groups = [promoted.group]
  for (const o of others) {
    const joined = await KithGroup.join(added.welcome, o.packages.publicPackage, o.packages.privatePackage)
    groups.push((await joined.process(promoted.commit)).group)
  }
  return people.map((p, i) => ({ name: p.name, device: p.device, identity: p.identity, replica: new GroupReplica(groups[i]!), inbox: [], side: 0 }))
}

async function simulate (seed: number, actions: number): Promise<{ members: Member[], sent: Map<string, string> }> {
  const random = prng(seed)
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T
  const members = await setUp(['alice', 'bob', 'carol', 'dave'])
  const sent = new Map<string, string>() // text → sender name
  let partitioned = false
  const broadcast = (from: Member, messages: Uint8Array[]): void => {
    for (const m of members) if (m !== from) m.inbox.push(...messages.map(bytes => ({ from, bytes })))
  }
  /** Deliver one message, picked at random, to a member picked at random; false when none can move. */
  const deliverOne = async (): Promise<boolean> => {
    // A partition holds back everything that would cross it.
    const movable = (to: Member): number[] => to.inbox.flatMap((m, i) => !partitioned || m.from.side === to.side ? [i] : [])
    const candidates = members.filter(m => movable(m).length > 0)
    if (candidates.length === 0) return false
    const to = pick(candidates)
    const at = pick(movable(to))
    const { bytes } = to.inbox[at] as { bytes: Uint8Array }
    if (random() >= 0.1) to.inbox.splice(at, 1) // else: delivered now and again later (a duplicate)
    broadcast(to, await to.replica.receive(bytes))
    return true
  }

  let removedOne = false
  let leftOne = false
  for (let step = 0; step < actions; step++) {
    const roll = random()
    const active = members.filter(m => !m.replica.removed)
    const actor = pick(active)
    if (roll < 0.6) {
      const text = `${actor.name} #${step}`
      sent.set(text, actor.name)
      broadcast(actor, await actor.replica.send(text))
    } else if (roll < 0.72) {
      broadcast(actor, await actor.replica.intend({ kind: 'rename', name: `Sim ${step}` })) // ignored unless an admin
    } else if (roll < 0.77 && !removedOne) {
      removedOne = true
      broadcast(actor, await actor.replica.intend({ kind: 'remove', who: members[3]!.device }))
    } else if (roll < 0.82 && !leftOne) {
      // An admin (who asks another admin to commit it) or a member leaves.
      leftOne = true
      const leaver = pick(members.slice(0, 3).filter(m => !m.replica.removed))
      broadcast(leaver, await leaver.replica.intend({ kind: 'leave' }))
    } else if (roll < 0.85) {
      broadcast(actor, await actor.replica.intend({ kind: 'promote', who: pick(members).identity })) // ignored unless an admin
    } else if (roll < 0.9) {
      // Split the members in two at random, or heal the split.
      partitioned = !partitioned
      for (const m of members) m.side = random() < 0.5 ? 1 : 0
    }
    // Deliver a random number of messages between actions: some arrive late, some early.
    const deliveries = Math.floor(random() * 4)
    for (let d = 0; d < deliveries; d++) await deliverOne()
  }
  partitioned = false
  let guard = 0
  while (await deliverOne()) {
    if (++guard > 20_000) throw new Error(`seed ${seed}: delivery does not settle`)
  }
  return { members, sent }
}

// More seeds or actions for a longer search: KITH_SIM_SEEDS=1-500 KITH_SIM_ACTIONS=250
const [firstSeed, lastSeed] = (process.env.KITH_SIM_SEEDS ?? '1-12').split('-').map(Number) as [number, number]
const ACTIONS = Number(process.env.KITH_SIM_ACTIONS ?? 60)

describe('group ordering simulation', () => {
  for (let seed = firstSeed; seed <= (lastSeed ?? firstSeed); seed++) {
    it(`seed ${seed}: every member converges to one epoch, one chain, one group and one history`, async () => {
      const { members, sent } = await simulate(seed, ACTIONS)
      const remaining = members.filter(m => !m.replica.removed)
      expect(remaining.length).toBeGreaterThan(0)
      const [first] = remaining
      for (const m of remaining) {
        expect(m.replica.head.epoch, m.name).toBe(first!.replica.head.epoch)
        expect(m.replica.chain(), m.name).toEqual(first!.replica.chain())
        expect(m.replica.head.meta(), m.name).toEqual(first!.replica.head.meta())
        expect(m.replica.head.members(), m.name).toEqual(first!.replica.head.members())
      }
      // Removed members are out of the group; the others are in it.
      const inGroup = new Set(first!.replica.head.members().map(m => m.device))
      for (const m of members) expect(inGroup.has(m.device), m.name).toBe(!m.replica.removed)
      // Every text a remaining member sent reached every remaining member, once.
      const byText = (m: Member): string[] => m.replica.history().map(h => h.text).sort()
      for (const m of remaining) {
        const extra = byText(m).filter(t => !byText(first!).includes(t))
        const missing = byText(first!).filter(t => !byText(m).includes(t))
        expect({ extra, missing }, `${m.name} against ${first!.name}`).toEqual({ extra: [], missing: [] })
        for (const [text, sender] of sent) {
          if (remaining.some(r => r.name === sender)) expect(byText(m), `${m.name} lacks "${text}"`).toContain(text)
        }
        expect(new Set(byText(m)).size, m.name).toBe(byText(m).length)
      }
    }, 120_000)
  }
})
