import { describe, expect, it } from 'vitest'
import { Envelope, LIMITS } from '@kith/core'
import { MemoryLevel } from 'memory-level'
import { MAILBOX_DEFAULTS, MailboxStore } from '../src/index.js'
import { envelopeFor, idOf, memoryMailbox, randomPeer } from './helpers.js'

const DAY = 24 * 3600_000

describe('MailboxStore: recipients', () => {
  it('registers, lists and unregisters recipients; only peer ids', async () => {
    const { store } = await memoryMailbox()
    const [alice, bob] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(alice.id)
    await store.register(bob.id)
    expect(store.isRegistered(alice.id)).toBe(true)
    expect(store.recipients().sort()).toEqual([alice.id, bob.id].sort())
    await store.unregister(alice.id)
    expect(store.isRegistered(alice.id)).toBe(false)
    expect(store.recipients()).toEqual([bob.id])
    await expect(store.register('not a peer id!')).rejects.toThrow(TypeError)
    expect(await store.check()).toEqual([])
  })

  it('unregistering drops the recipient\'s mail and frees the depositor\'s quota, in one batch', async () => {
    const { store, db } = await memoryMailbox({ perDepositor: { envelopes: 3 } })
    const [alice, bob, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    expect(await store.deposit(sender.id, [envelopeFor(alice), envelopeFor(alice), envelopeFor(bob)])).toEqual(['stored', 'stored', 'stored'])
    let batches = 0
    const batch = db.batch.bind(db)
    db.batch = (async (...args: any[]) => { batches++; return await (batch as any)(...args) }) as any
    expect(await store.unregister(alice.id)).toBe(2)
    expect(batches).toBe(1)
    expect(store.stats()).toEqual({ recipients: 1, envelopes: 1, bytes: store.stats().byRecipient[bob.id]?.bytes, byRecipient: { [bob.id]: store.stats().byRecipient[bob.id] } })
    expect(store.depositorUsage(sender.id).envelopes).toBe(1)
    await store.register(alice.id)
    expect(await store.fetch(alice.id, { limit: 10 })).toEqual([])
    expect(await store.check()).toEqual([])
  })
})

describe('MailboxStore: deposit', () => {
  it('stores envelopes for registered recipients and hands them out in deposit order', async () => {
    const { store } = await memoryMailbox()
    const [alice, bob, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const forAlice = Array.from({ length: 20 }, () => envelopeFor(alice))
    const forBob = Array.from({ length: 5 }, () => envelopeFor(bob))
    // Interleaved over several calls: each recipient still sees its own in order.
    for (let i = 0; i < 20; i += 4) {
      expect(await store.deposit(sender.id, [...forAlice.slice(i, i + 4), ...forBob.slice(i / 4, i / 4 + 1)], 1000 + i)).toEqual(Array(5).fill('stored'))
    }
    // (Deposited at 1000 ms after the epoch: long expired by now, not at 2000.)
    expect(await store.fetch(alice.id, { limit: 100 })).toEqual([])
    const fetched = await store.fetch(alice.id, { limit: 100, now: 2000 })
    expect(fetched.map(e => e.id)).toEqual(forAlice.map(idOf))
    expect(fetched.map(e => Buffer.from(e.envelope))).toEqual(forAlice.map(e => Buffer.from(e)))
    expect(fetched[0]?.depositedAt).toBe(1000)
    expect((await store.fetch(bob.id, { limit: 100, now: 2000 })).map(e => e.id)).toEqual(forBob.map(idOf))
    expect(store.stats().envelopes).toBe(25)
  })

  it('pages with limit, after and maxBytes', async () => {
    const { store } = await memoryMailbox()
    const [alice, sender] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    const envelopes = Array.from({ length: 10 }, () => envelopeFor(alice, { bodyBytes: 1000 }))
    await store.deposit(sender.id, envelopes)
    const ids = envelopes.map(idOf)
    const first = await store.page(alice.id, { limit: 4 })
    expect(first.entries.map(e => e.id)).toEqual(ids.slice(0, 4))
    expect(first.more).toBe(true)
    const second = await store.page(alice.id, { limit: 4, after: ids[3] as string })
    expect(second.entries.map(e => e.id)).toEqual(ids.slice(4, 8))
    // The cursor still works after its envelope was acknowledged.
    await store.ack(alice.id, ids.slice(0, 8))
    const last = await store.page(alice.id, { limit: 4, after: ids[7] as string })
    expect(last.entries.map(e => e.id)).toEqual(ids.slice(8))
    expect(last.more).toBe(false)
    // An unknown cursor starts from the beginning.
    expect((await store.fetch(alice.id, { limit: 4, after: '00'.repeat(16) })).map(e => e.id)).toEqual(ids.slice(8))
    // maxBytes stops early, but one envelope always comes.
    const small = await store.page(alice.id, { limit: 10, maxBytes: 1 })
    expect(small.entries.length).toBe(1)
    expect(small.more).toBe(true)
  })

  it('refuses oversized, malformed and unknown-recipient envelopes, each in its place', async () => {
    const { store } = await memoryMailbox({ maxEnvelopeBytes: 2000 })
    const [alice, stranger, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    const good = envelopeFor(alice)
    const canonical = envelopeFor(alice)
    const cut = canonical.subarray(0, canonical.length - 1)
    const shortId = envelopeFor(alice, { id: new Uint8Array(8) })
    const badRecipient = envelopeFor(new Uint8Array([0x12, 0x20, 1, 2, 3]))
    const urlRecipient = envelopeFor(new Uint8Array([0x00, 0x13, ...Buffer.from('http://example.com/')]))
    const unknownField = new Uint8Array([...envelopeFor(alice), 0x38, 0x01])
    const results = await store.deposit(sender.id, [
      envelopeFor(alice, { bodyBytes: 2000 }), new Uint8Array([0xff, 0xff]), cut, shortId, badRecipient, urlRecipient,
      unknownField, new Uint8Array(0), envelopeFor(stranger), good
    ])
    expect(results).toEqual(['oversized', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'malformed', 'unknown-recipient', 'stored'])
    expect(store.stats().envelopes).toBe(1)
    expect(store.depositorUsage(sender.id)).toEqual({ envelopes: 1, bytes: good.length })
  })

  it('stores an envelope once: a copy in the same call or a later one is a duplicate', async () => {
    const { store } = await memoryMailbox()
    const [alice, bob, sender, other] = [randomPeer(), randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const e = envelopeFor(alice)
    expect(await store.deposit(sender.id, [e, e])).toEqual(['stored', 'duplicate'])
    expect(await store.deposit(other.id, [e])).toEqual(['duplicate'])
    // The same id for another recipient is another envelope.
    const id = Envelope.decode(e).id
    expect(await store.deposit(sender.id, [envelopeFor(bob, { id })])).toEqual(['stored'])
    expect(store.stats().byRecipient[alice.id]?.envelopes).toBe(1)
    expect(store.depositorUsage(other.id).envelopes).toBe(0)
  })

  it('remembers acknowledged ids for the time to live: a late copy is a duplicate, not new mail', async () => {
    const { store } = await memoryMailbox({ ttlMs: DAY })
    const [alice, sender] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    const e = envelopeFor(alice)
    await store.deposit(sender.id, [e], 0)
    expect(await store.ack(alice.id, [idOf(e)], 1000)).toBe(1)
    expect(await store.deposit(sender.id, [e], 2000)).toEqual(['duplicate'])
    expect(await store.fetch(alice.id, { limit: 10, now: 2000 })).toEqual([])
    // A day after the ack, the id is forgotten.
    expect(await store.expire(1000 + DAY)).toBe(0)
    expect(await store.deposit(sender.id, [e], 2000 + DAY)).toEqual(['stored'])
    expect(await store.check()).toEqual([])
  })
})

describe('MailboxStore: quotas', () => {
  it('per recipient: envelopes and bytes', async () => {
    const { store } = await memoryMailbox({ perRecipient: { envelopes: 3, bytes: 1_000_000 }, depositorShare: 1 })
    const [alice, bob, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const results = await store.deposit(sender.id, Array.from({ length: 5 }, () => envelopeFor(alice)))
    expect(results).toEqual(['stored', 'stored', 'stored', 'quota', 'quota'])
    // Another recipient has its own quota.
    expect(await store.deposit(sender.id, [envelopeFor(bob)])).toEqual(['stored'])

    const bytes = await memoryMailbox({ perRecipient: { bytes: 2500 }, depositorShare: 1 })
    await bytes.store.register(alice.id)
    const big = (): Uint8Array<ArrayBuffer> => envelopeFor(alice, { bodyBytes: 1000 })
    expect(await bytes.store.deposit(sender.id, [big(), big(), big(), envelopeFor(alice, { bodyBytes: 10 })])).toEqual(['stored', 'stored', 'quota', 'stored'])
  })

  it('per depositor, across all recipients; acks free it', async () => {
    const { store } = await memoryMailbox({ perDepositor: { envelopes: 4 } })
    const [alice, bob, flooder, friend] = [randomPeer(), randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const sent = [envelopeFor(alice), envelopeFor(bob), envelopeFor(alice), envelopeFor(bob), envelopeFor(alice), envelopeFor(bob)]
    expect(await store.deposit(flooder.id, sent)).toEqual(['stored', 'stored', 'stored', 'stored', 'quota', 'quota'])
    expect(store.depositorUsage(flooder.id).envelopes).toBe(4)
    // Someone else still gets through.
    expect(await store.deposit(friend.id, [envelopeFor(alice)])).toEqual(['stored'])
    expect(await store.ack(alice.id, [idOf(sent[0] as Uint8Array)])).toBe(1)
    expect(await store.deposit(flooder.id, [envelopeFor(bob), envelopeFor(bob)])).toEqual(['stored', 'quota'])

    const bytes = await memoryMailbox({ perDepositor: { bytes: 1500 } })
    await bytes.store.register(alice.id)
    await bytes.store.register(bob.id)
    expect(await bytes.store.deposit(flooder.id, [envelopeFor(alice, { bodyBytes: 1000 }), envelopeFor(bob, { bodyBytes: 1000 })])).toEqual(['stored', 'quota'])
    expect(await bytes.store.check()).toEqual([])
  })

  it('per depositor and recipient: one depositor fills its share of a recipient\'s mailbox, others still deposit', async () => {
    // A share of a quarter: 2 of 8 envelopes, whoever deposits (a contact or a stranger).
    const { store } = await memoryMailbox({ perRecipient: { envelopes: 8 }, depositorShare: 0.25 })
    const [alice, bob, greedy, friend, stranger] = [randomPeer(), randomPeer(), randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    expect(await store.deposit(greedy.id, [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice), envelopeFor(bob)])).toEqual(['stored', 'stored', 'quota-depositor', 'stored'])
    expect(store.depositorUsage(greedy.id, alice.id)).toEqual({ envelopes: 2, bytes: store.depositorUsage(greedy.id, alice.id).bytes })
    // Someone else still gets through to Alice, a stranger too.
    expect(await store.deposit(friend.id, [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice)])).toEqual(['stored', 'stored', 'quota-depositor'])
    expect(await store.deposit({ id: stranger.id, stranger: true }, [envelopeFor(alice)])).toEqual(['stored'])
    // Alice takes one in: the greedy depositor may deposit one more.
    const [first] = await store.fetch(alice.id, { limit: 1 })
    expect(await store.ack(alice.id, [first?.id as string])).toBe(1)
    expect(await store.deposit(greedy.id, [envelopeFor(alice), envelopeFor(alice)])).toEqual(['stored', 'quota-depositor'])
    expect(await store.check()).toEqual([])
  })

  it('strangers share one part of a recipient\'s mailbox: fresh peer ids together get no more than it', async () => {
    const limits = { perRecipient: { envelopes: 40 }, depositorShare: 0.25, strangersShare: 0.5 }
    const mailbox = await memoryMailbox(limits)
    let store = mailbox.store
    const [alice, bob, friend] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    // 50 fresh stranger ids, 4 envelopes each (within each one's share of 10): 20 in all get in.
    const results: string[] = []
    for (let i = 0; i < 50; i++) results.push(...await store.deposit({ id: randomPeer().id, stranger: true }, Array.from({ length: 4 }, () => envelopeFor(alice))))
    expect(results.filter(r => r === 'stored').length).toBe(20)
    expect(results.filter(r => r === 'quota-strangers').length).toBe(180)
    expect(store.strangersUsage(alice.id).envelopes).toBe(20)
    // The relay's friend still fills its own share of Alice's mailbox; Bob's strangers' part is untouched.
    expect(await store.deposit(friend.id, Array.from({ length: 11 }, () => envelopeFor(alice)))).toEqual([...Array(10).fill('stored'), 'quota-depositor'])
    expect(await store.deposit({ id: randomPeer().id, stranger: true }, [envelopeFor(bob)])).toEqual(['stored'])
    // The same id as a contact and as a stranger are two depositors.
    expect(store.depositorUsage(friend.id).envelopes).toBe(10)
    expect(store.depositorUsage({ id: friend.id, stranger: true }).envelopes).toBe(0)
    expect(await store.check()).toEqual([])
    // Counters survive a restart.
    await store.close()
    store = new MailboxStore(mailbox.db, limits)
    await store.open()
    expect(store.strangersUsage(alice.id).envelopes).toBe(20)
    expect(await store.deposit({ id: randomPeer().id, stranger: true }, [envelopeFor(alice)])).toEqual(['quota-strangers'])
    expect(await store.unregister(alice.id)).toBe(30)
    expect(store.depositorUsage(friend.id)).toEqual({ envelopes: 0, bytes: 0 })
    expect(await store.check()).toEqual([])
  })

  it('defaults to 256 KiB envelopes, 10,000 envelopes and 256 MiB per recipient and depositor, an eighth for one depositor, half for strangers, 14 days', async () => {
    const store = new MailboxStore(new MemoryLevel())
    expect(store.limits).toEqual({
      maxEnvelopeBytes: LIMITS.maxFrameBytes,
      perRecipient: { envelopes: 10_000, bytes: 256 * 1024 * 1024 },
      perDepositor: { envelopes: 10_000, bytes: 256 * 1024 * 1024 },
      share: { envelopes: 1250, bytes: 32 * 1024 * 1024 },
      strangers: { envelopes: 5000, bytes: 128 * 1024 * 1024 },
      ttlMs: 14 * DAY
    })
    expect(() => new MailboxStore(new MemoryLevel(), { depositorShare: 0 })).toThrow(RangeError)
    expect(() => new MailboxStore(new MemoryLevel(), { strangersShare: 1.5 })).toThrow(RangeError)
    expect(MAILBOX_DEFAULTS.ttlMs).toBe(14 * DAY)
    // A partial quota keeps the other default.
    expect(new MailboxStore(new MemoryLevel(), { perRecipient: { envelopes: 5 } }).limits.perRecipient).toEqual({ envelopes: 5, bytes: 256 * 1024 * 1024 })
  })
})

describe('MailboxStore: ack and expire', () => {
  it('ack deletes the recipient\'s own envelopes only and counts them', async () => {
    const { store } = await memoryMailbox()
    const [alice, bob, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const a = [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice)]
    const b = envelopeFor(bob)
    await store.deposit(sender.id, [...a, b])
    expect(await store.ack(bob.id, [idOf(a[0] as Uint8Array)])).toBe(0)
    expect(await store.ack(alice.id, [idOf(a[0] as Uint8Array), idOf(a[0] as Uint8Array), idOf(a[2] as Uint8Array), 'beef', idOf(b)])).toBe(2)
    expect(await store.ack(alice.id, [idOf(a[0] as Uint8Array)])).toBe(0)
    expect((await store.fetch(alice.id, { limit: 10 })).map(e => e.id)).toEqual([idOf(a[1] as Uint8Array)])
    expect(store.stats().byRecipient).toEqual({ [alice.id]: { envelopes: 1, bytes: a[1]?.length }, [bob.id]: { envelopes: 1, bytes: b.length } })
    expect(store.depositorUsage(sender.id)).toEqual({ envelopes: 2, bytes: (a[1]?.length ?? 0) + b.length })
    expect(await store.check()).toEqual([])
  })

  it('drops envelopes older than the time to live; fetch hides them before the sweep', async () => {
    const { store } = await memoryMailbox({ ttlMs: DAY })
    const [alice, sender] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    const old = [envelopeFor(alice), envelopeFor(alice)]
    const young = envelopeFor(alice)
    await store.deposit(sender.id, old, 10 * DAY)
    await store.deposit(sender.id, [young], 10 * DAY + 1000)
    expect((await store.fetch(alice.id, { limit: 10, now: 11 * DAY })).map(e => e.id)).toEqual([idOf(young)])
    expect(store.stats().envelopes).toBe(3)
    expect(await store.expire(11 * DAY - 1)).toBe(0)
    expect(await store.expire(11 * DAY)).toBe(2)
    expect(store.stats().envelopes).toBe(1)
    expect(store.depositorUsage(sender.id).envelopes).toBe(1)
    expect(await store.expire(12 * DAY)).toBe(1)
    expect(store.stats()).toEqual({ recipients: 1, envelopes: 0, bytes: 0, byRecipient: { [alice.id]: { envelopes: 0, bytes: 0 } } })
    expect(await store.check()).toEqual([])
  })

  it('expires in chunks when there is a lot', async () => {
    const { store } = await memoryMailbox({ ttlMs: DAY, depositorShare: 1 })
    const [alice, sender] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    for (let i = 0; i < 5; i++) await store.deposit(sender.id, Array.from({ length: 500 }, () => envelopeFor(alice, { bodyBytes: 10 })), 0)
    expect(await store.expire(DAY)).toBe(2500)
    expect(store.stats().envelopes).toBe(0)
    expect(await store.check()).toEqual([])
  })
})

describe('MailboxStore: reopening', () => {
  it('keeps counters, quotas and the sequence across close and open', async () => {
    const db = new MemoryLevel<string, any>()
    let store = new MailboxStore(db, { perRecipient: { envelopes: 5 }, depositorShare: 1 })
    await store.open()
    const [alice, sender] = [randomPeer(), randomPeer()]
    await store.register(alice.id)
    const before = [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice)]
    await store.deposit(sender.id, before)
    const stats = store.stats()
    await store.close()

    store = new MailboxStore(db, { perRecipient: { envelopes: 5 }, depositorShare: 1 })
    await store.open()
    expect(store.stats()).toEqual(stats)
    expect(store.depositorUsage(sender.id).envelopes).toBe(3)
    const after = [envelopeFor(alice), envelopeFor(alice), envelopeFor(alice)]
    expect(await store.deposit(sender.id, after)).toEqual(['stored', 'stored', 'quota'])
    expect((await store.fetch(alice.id, { limit: 10 })).map(e => e.id)).toEqual([...before, ...after.slice(0, 2)].map(idOf))
    expect(await store.check()).toEqual([])
  })

  it('runs concurrent changes one at a time, each whole', async () => {
    const { store } = await memoryMailbox({ perDepositor: { envelopes: 50 } })
    const [alice, bob, sender] = [randomPeer(), randomPeer(), randomPeer()]
    await store.register(alice.id)
    await store.register(bob.id)
    const calls = Array.from({ length: 20 }, (_, i) => store.deposit(sender.id, [envelopeFor(i % 2 === 0 ? alice : bob), envelopeFor(alice), envelopeFor(bob)]))
    const results = (await Promise.all(calls)).flat()
    expect(results.filter(r => r === 'stored').length).toBe(50)
    const acks = (await store.fetch(alice.id, { limit: 100 })).map(e => store.ack(alice.id, [e.id]))
    await Promise.all([...acks, store.expire(Date.now() + 15 * DAY), store.unregister(bob.id)])
    expect(store.stats().envelopes).toBe(0)
    expect(await store.check()).toEqual([])
  })
})
