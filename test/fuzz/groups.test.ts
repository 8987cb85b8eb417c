import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import {
  GroupReplica, KEY_PACKAGE_PROTOCOL, KithGroup, MAX_GROUP_ENVELOPE_BYTES, SYNC_PROTOCOL, checkGroupName, decodeGroupEnvelope, decodeKeyPackage, decodeMls,
  deviceKeyPackage, encodeGroupEnvelope, encodeKeyPackage, peekMls
} from '@kith/groups'
import { SyncFrame } from '../../packages/groups/src/proto/group.js'
import { befriend, eventually, trackNodes } from '../helpers/testnet.js'
import { SIZE_WORDS, bytes, huge, inputs, params, rejectsOnly, throwsOnly, timeoutFor } from './helpers.js'
import { exchange, introduce, streamInput, unframe } from './net.js'

// Groups: MLS messages (ts-mls) arrive from gossipsub peers inside a GroupEnvelope, key
// packages and Welcomes from contacts, and /kith/sync catch-up frames from any peer that
// connects. Each goes through Kith's wrappers before and around ts-mls.

type Packages = Awaited<ReturnType<typeof deviceKeyPackage>>
const ERRORS = ['InvalidGroupMessageError', 'InvalidMessageError']

let keyPackages: Packages[] = []
let alice: KithGroup
let bob: KithGroup
const valid: { commits: Uint8Array[], texts: Uint8Array[], welcome: Uint8Array, keyPackage: Uint8Array } = { commits: [], texts: [], welcome: new Uint8Array(), keyPackage: new Uint8Array() }

beforeAll(async () => {
  keyPackages = await Promise.all(['alice', 'bob', 'carol'].map(async () => {
    const identity = await generateIdentityKey()
    const device = await generateDeviceKey()
    return await deviceKeyPackage(device, issueDeviceCertificate(identity, device.publicKey))
  }))
  const [a, b, c] = keyPackages as [Packages, Packages, Packages]
  const added = await (await KithGroup.create('Club', a.publicPackage, a.privatePackage)).add([b.publicPackage])
  alice = added.group
  bob = await KithGroup.join(added.welcome, b.publicPackage, b.privatePackage)
  valid.welcome = added.welcome
  valid.keyPackage = encodeKeyPackage(c.publicPackage)
  // What alice sends next, for bob (at the same epoch) to process: texts and a commit.
  let sender = alice
  for (const text of ['hello', 'how are you', 'x'.repeat(300)]) {
    const out = await sender.encrypt(Buffer.from(text))
    valid.texts.push(out.message)
    sender = out.group
  }
  valid.commits.push((await sender.rename('Book club')).commit)
  valid.commits.push((await sender.add([c.publicPackage])).commit)
})

const mls = fc.nat().map(i => {
  const all = [...valid.commits, ...valid.texts, valid.welcome, valid.keyPackage]
  return all[i % all.length] as Uint8Array
})

const node = trackNodes()

describe('fuzz: groups', () => {
  it('decodeGroupEnvelope throws only InvalidGroupMessageError, and refuses 10 MB by its size', () => {
    fc.assert(fc.property(inputs(mls.map(encodeGroupEnvelope)), input => {
      throwsOnly(decodeGroupEnvelope, input, ['InvalidGroupMessageError'])
    }), params())
    expect(throwsOnly(decodeGroupEnvelope, huge(encodeGroupEnvelope(valid.texts[0] as Uint8Array)), ['InvalidGroupMessageError'])?.message).toMatch(SIZE_WORDS)
    expect(MAX_GROUP_ENVELOPE_BYTES).toBeLessThan(10 * 1024 * 1024)
  }, timeoutFor(3))

  it('decodeMls, peekMls and decodeKeyPackage throw only InvalidGroupMessageError, and refuse 10 MB by its size', () => {
    fc.assert(fc.property(inputs(mls, 4096), input => {
      throwsOnly(decodeMls, input, ['InvalidGroupMessageError'])
      throwsOnly(peekMls, input, ['InvalidGroupMessageError'])
      throwsOnly(decodeKeyPackage, input, ['InvalidGroupMessageError'])
    }), params())
    for (const decode of [decodeMls, peekMls, decodeKeyPackage]) {
      expect(throwsOnly(decode, huge(valid.texts[0]), ['InvalidGroupMessageError'])?.message).toMatch(SIZE_WORDS)
    }
  }, timeoutFor(3))

  it('checkGroupName throws only InvalidMessageError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), name => {
      if (throwsOnly(checkGroupName, name, ['InvalidMessageError']) == null) expect(Buffer.byteLength(checkGroupName(name))).toBeLessThanOrEqual(64)
    }), params())
  }, timeoutFor(3))

  it('a member processing damaged commits and texts rejects them with InvalidGroupMessageError only, and still reads the real ones', async () => {
    await fc.assert(fc.asyncProperty(inputs(mls, 4096), async input => {
      await rejectsOnly(async m => await bob.process(m), input, ERRORS)
    }), params(0.5))
    const replica = new GroupReplica(bob)
    await fc.assert(fc.asyncProperty(inputs(mls, 4096), async input => {
      await rejectsOnly(async m => await replica.receive(m), input, ERRORS)
    }), params(0.25))
    // The real messages still go through: the texts read, the commits move the epoch.
    const first = await bob.process(valid.texts[0] as Uint8Array)
    expect(first.kind === 'application' && Buffer.from(first.plaintext).toString()).toBe('hello')
    const renamed = await bob.process(valid.commits[0] as Uint8Array)
    expect(renamed.group.meta().name).toBe('Book club')
  }, timeoutFor(30, 0.75))

  it('joining from a damaged Welcome throws only InvalidGroupMessageError / InvalidMessageError', async () => {
    const b = keyPackages[1] as Packages
    await fc.assert(fc.asyncProperty(inputs(fc.constant(valid.welcome), 4096), async input => {
      await rejectsOnly(async w => await KithGroup.join(w, b.publicPackage, b.privatePackage), input, ERRORS)
    }), params(0.25))
  }, timeoutFor(30, 0.25))

  it('/kith/sync (catch-up) ends streams of junk from a stranger and from a member, /kith/keypackage ignores input, and a member still catches up', async () => {
    const a = await node('alice', { groups: { syncEveryMs: 300 } })
    const b = await node('bob', { groups: { syncEveryMs: 300 } })
    const mallory = await node('mallory')
    await befriend(a, b)
    const { group } = await a.groups.create('Club')
    await a.groups.add(group, b.peerId.toString())
    await eventually(() => b.groups.list()[0]?.members === 2, 20_000, 'bob to join')
    await introduce(b.libp2p, a.libp2p)
    await introduce(mallory.libp2p, a.libp2p)

    const groupId = Buffer.from(group, 'hex')
    const frame = fc.record({
      kind: fc.integer({ min: 0, max: 7 }),
      group: fc.oneof(fc.constant(groupId), bytes(20)),
      epoch: fc.nat({ max: 5 }),
      joined: fc.nat({ max: 5 }),
      parts: fc.array(bytes(100), { maxLength: 3 })
    }).map(f => SyncFrame.encode(f))
    await fc.assert(fc.asyncProperty(fc.boolean(), streamInput(inputs(frame, 300), 4 * 1024 * 1024, 4), async (member, chunks) => {
      await exchange((member ? b : mallory).libp2p, a.peerId, SYNC_PROTOCOL, chunks)
    }), params(0.5))
    // /kith/keypackage reads nothing: a stranger gets nothing, a contact a key package of alice's device.
    let served = 0
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.array(bytes(100), { maxLength: 2 }), async (contact, chunks) => {
      const { received, connectionLost } = await exchange((contact ? b : mallory).libp2p, a.peerId, KEY_PACKAGE_PROTOCOL, chunks)
      const [keyPackage] = unframe(received)
      if (!contact) expect(keyPackage).toBeUndefined()
      else if (!connectionLost) { expect(() => decodeKeyPackage(keyPackage as Uint8Array)).not.toThrow(); served++ }
    }), params(0.1))
    expect(served).toBeGreaterThan(0)

    // bob's node drops all gossip on the topic from now on: only catching up brings him the text.
    const pubsub = b.libp2p.services.pubsub
    const topic = [...pubsub.topicValidators.keys()].find(t => t.startsWith('/kith/group/')) as string
    pubsub.topicValidators.set(topic, () => 'ignore' as any)
    const text = await a.send(group, 'after the fuzz')
    await eventually(async () => (await b.history(group)).some(m => m.id === text.id), 20_000, 'bob to catch up')
  }, timeoutFor(60, 0.6))
})
