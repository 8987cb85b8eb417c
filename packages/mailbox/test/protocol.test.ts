import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { MAILBOX_LIMITS, MAILBOX_PROTOCOL, MailboxServer, deposit, drain, register, unregister } from '../src/index.js'
import { MailboxOp, MailboxRequest, MailboxResponse, MailboxStatus } from '../src/wire.js'
import { envelopeFor, idOf, memoryMailbox } from './helpers.js'
import type { MailboxEntry, MailboxStore } from '../src/index.js'
import type { Libp2p, Stream } from '@libp2p/interface'

async function startNode (): Promise<Libp2p> {
  return await createLibp2p({
    addresses: { listen: [`/memory/${randomBytes(8).toString('hex')}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
}

/** Envelopes for a node, as its contacts would seal them. */
const mailFor = (node: Libp2p, count: number, bodyBytes = 200): Array<Uint8Array<ArrayBuffer>> =>
  Array.from({ length: count }, () => envelopeFor(new Uint8Array(node.peerId.toMultihash().bytes), { bodyBytes }))

let relay: Libp2p
let alice: Libp2p
let bob: Libp2p
let stranger: Libp2p
let store: MailboxStore
let server: MailboxServer
let deposits: Array<[string, number]>

beforeEach(async () => {
  [relay, alice, bob, stranger] = await Promise.all([startNode(), startNode(), startNode(), startNode()])
  ;({ store } = await memoryMailbox({ perDepositor: { envelopes: 1500 } }))
  deposits = []
  const friends = new Set([alice.peerId.toString(), bob.peerId.toString()])
  server = new MailboxServer({ store, contactOf: async (peer) => friends.has(peer) ? peer : undefined, onDeposit: (recipient, count) => { deposits.push([recipient, count]) } })
  await relay.handle(MAILBOX_PROTOCOL, server.handler, { runOnLimitedConnection: true, maxInboundStreams: 8 })
})

afterEach(async () => {
  server.stop()
  await Promise.all([relay, alice, bob, stranger].map(async n => { await n.stop() }))
  await store.close()
})

/** Open a mailbox stream from `node` to the relay, run `fn`, close it. */
async function withMailbox<T> (node: Libp2p, fn: (stream: Stream) => Promise<T>): Promise<T> {
  const stream = await node.dialProtocol(relay.getMultiaddrs(), MAILBOX_PROTOCOL, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
  try {
    return await fn(stream)
  } finally {
    await stream.close().catch(() => { stream.abort(new Error('close failed')) })
  }
}

/** A receiver that keeps what it took in by id and never takes the same envelope twice, like the messaging service. */
function receiver (): { taken: Map<string, Uint8Array>, order: string[], deliveries: Map<string, number>, onBatch: (batch: MailboxEntry[]) => Promise<string[]> } {
  const taken = new Map<string, Uint8Array>()
  const order: string[] = []
  const deliveries = new Map<string, number>()
  return {
    taken,
    order,
    deliveries,
    onBatch: async (batch) => {
      for (const { id, envelope } of batch) {
        deliveries.set(id, (deliveries.get(id) ?? 0) + 1)
        expect(idOf(envelope)).toBe(id)
        if (!taken.has(id)) { taken.set(id, envelope); order.push(id) }
      }
      return batch.map(e => e.id)
    }
  }
}

describe('/kith/mailbox/1.0.0', () => {
  it('a friend registers; a stranger is refused NOT_A_FRIEND; unregister drops the mail', async () => {
    await withMailbox(alice, register)
    expect(store.isRegistered(alice.peerId.toString())).toBe(true)
    await expect(withMailbox(stranger, register)).rejects.toMatchObject({ name: 'MailboxRefusedError', reason: 'not-a-friend' })
    expect(store.isRegistered(stranger.peerId.toString())).toBe(false)
    expect(server.metrics.refused['not-a-friend']).toBe(1)

    await withMailbox(stranger, async (s) => await deposit(s, mailFor(alice, 3)))
    await withMailbox(alice, unregister)
    expect(store.isRegistered(alice.peerId.toString())).toBe(false)
    expect(store.stats().envelopes).toBe(0)
  })

  it('deposits for registered recipients only, and several requests share one stream', async () => {
    await withMailbox(alice, register)
    const results = await withMailbox(stranger, async (s) => {
      const first = await deposit(s, [...mailFor(alice, 2), ...mailFor(bob, 1)])
      const again = await deposit(s, mailFor(alice, 1))
      return [...first, ...again]
    })
    expect(results).toEqual(['stored', 'stored', 'unknown-recipient', 'stored'])
    expect(deposits).toEqual([[alice.peerId.toString(), 2], [alice.peerId.toString(), 1]])
    expect(server.metrics.deposited).toBe(3)
    expect(server.metrics.refused['unknown-recipient']).toBe(1)
  })

  it('answers a flood past the depositor\'s share with `quota-depositor`, counts it, and keeps serving its friends', async () => {
    await withMailbox(alice, register)
    await withMailbox(bob, register)
    const flood = mailFor(alice, 1600, 50)
    const results = await withMailbox(stranger, async (s) => await deposit(s, flood))
    // An eighth of Alice's 10,000: the stranger's share of her mailbox.
    expect(results.filter(r => r === 'stored').length).toBe(1250)
    expect(results.slice(1250).every(r => r === 'quota-depositor')).toBe(true)
    expect(server.metrics.refused['quota-depositor']).toBe(350)
    // A friend still gets mail through to Alice, and to Bob; Alice still drains.
    expect(await withMailbox(bob, async (s) => await deposit(s, mailFor(alice, 2)))).toEqual(['stored', 'stored'])
    expect(await withMailbox(alice, async (s) => await deposit(s, mailFor(bob, 2)))).toEqual(['stored', 'stored'])
    const r = receiver()
    expect(await withMailbox(alice, async (s) => await drain(s, r.onBatch, { batch: 256 }))).toEqual({ received: 1252, acked: 1252 })
  })

  it('answers malformed, non-canonical and oversized requests INVALID, closes that stream, and keeps serving', async () => {
    await withMailbox(alice, register)
    type Oversized = { prefix: number[] }
    const answer = async (frame: Uint8Array | Oversized): Promise<{ status: MailboxStatus, closed: boolean }> => await withMailbox(stranger, async (stream) => {
      const lp = lpStream(stream, { maxDataLength: MAILBOX_LIMITS.maxResponseBytes })
      if (!(frame instanceof Uint8Array)) {
        // Only the length prefix of a frame over the limit: the server must not wait for the rest.
        stream.send(new Uint8Array(frame.prefix))
      } else {
        await lp.write(frame)
      }
      const response = MailboxResponse.decode(await lp.read())
      const closed = await lp.read().then(() => false, (err) => err.name === 'UnexpectedEOFError')
      return { status: response.status, closed }
    })
    const register_ = MailboxRequest.encode({ op: MailboxOp.REGISTER })
    const cases: Array<Uint8Array | Oversized> = [
      new Uint8Array([0xff, 0xff, 0xff]), // garbage
      new Uint8Array([]), // no operation
      new Uint8Array([...register_, 0x30, 0x01]), // unknown field
      new Uint8Array([0x08, 0x81, 0x00]), // REGISTER with a varint in two bytes: not canonical
      new Uint8Array([0x08, 0x63]), // unknown operation
      MailboxRequest.encode({ op: MailboxOp.REGISTER, ids: [new Uint8Array(16)] }), // a field REGISTER does not take
      MailboxRequest.encode({ op: MailboxOp.DEPOSIT, envelopes: Array.from({ length: 65 }, () => new Uint8Array(10)) }), // 65 envelopes
      MailboxRequest.encode({ op: MailboxOp.ACK, ids: [new Uint8Array(15)] }), // an id of the wrong length
      MailboxRequest.encode({ op: MailboxOp.FETCH }), // no limit
      { prefix: [0x80, 0x80, 0x41] }, // 1,064,960 bytes announced: over the 1 MiB + 4 KiB limit
      { prefix: [0x81, 0x80, 0x80, 0x01] } // a length prefix longer than any allowed length needs
    ]
    for (const frame of cases) expect(await answer(frame)).toEqual({ status: MailboxStatus.INVALID, closed: true })
    expect(server.metrics.invalid).toBe(cases.length)
    // The server goes on serving everyone, the sender of all that included.
    expect(await withMailbox(stranger, async (s) => await deposit(s, mailFor(alice, 2)))).toEqual(['stored', 'stored'])
    expect(await withMailbox(alice, async (s) => await drain(s, receiver().onBatch))).toEqual({ received: 2, acked: 2 })
  })

  it('refuses an envelope over the size limit and malformed envelopes one by one, storing the rest', async () => {
    await withMailbox(alice, register)
    const [good] = mailFor(alice, 1)
    const big = mailFor(alice, 1, 300 * 1024)[0] as Uint8Array
    const huge = mailFor(alice, 1, 1100 * 1024)[0] as Uint8Array // fits no request: never sent
    const results = await withMailbox(stranger, async (s) => await deposit(s, [big, new Uint8Array([1, 2, 3]), huge, good as Uint8Array]))
    expect(results).toEqual(['oversized', 'malformed', 'oversized', 'stored'])
  })

  it('drains 1,000 envelopes in deposit order, exactly once', async () => {
    await withMailbox(alice, register)
    const sent = mailFor(alice, 1000, 500)
    expect(new Set(await withMailbox(stranger, async (s) => await deposit(s, sent)))).toEqual(new Set(['stored']))
    const r = receiver()
    const batches: number[] = []
    const result = await withMailbox(alice, async (s) => await drain(s, async (batch) => { batches.push(batch.length); return await r.onBatch(batch) }, { batch: 100 }))
    expect(result).toEqual({ received: 1000, acked: 1000 })
    expect(batches).toEqual(Array(10).fill(100))
    expect(r.order).toEqual(sent.map(idOf))
    expect([...r.deliveries.values()].every(n => n === 1)).toBe(true)
    expect(store.stats().envelopes).toBe(0)
    expect(await withMailbox(alice, async (s) => await drain(s, r.onBatch))).toEqual({ received: 0, acked: 0 })
  })

  it('a drain whose callback throws after the first batch loses nothing and duplicates nothing', async () => {
    await withMailbox(alice, register)
    const sent = mailFor(alice, 300)
    await withMailbox(stranger, async (s) => await deposit(s, sent))
    const r = receiver()
    let calls = 0
    await expect(withMailbox(alice, async (s) => await drain(s, async (batch) => {
      if (++calls === 2) throw new Error('disk full')
      return await r.onBatch(batch)
    }, { batch: 100 }))).rejects.toThrow('disk full')
    expect(r.taken.size).toBe(100)
    expect(store.stats().envelopes).toBe(200)
    expect(await withMailbox(alice, async (s) => await drain(s, r.onBatch, { batch: 100 }))).toEqual({ received: 200, acked: 200 })
    expect(r.order).toEqual(sent.map(idOf))
    expect([...r.deliveries.values()].every(n => n === 1)).toBe(true)
    expect(store.stats().envelopes).toBe(0)
  })

  it('a drain whose stream breaks before its ack loses nothing; the batch comes again and is recognised', async () => {
    await withMailbox(alice, register)
    const sent = mailFor(alice, 300)
    await withMailbox(stranger, async (s) => await deposit(s, sent))
    const r = receiver()
    await expect(withMailbox(alice, async (s) => await drain(s, async (batch) => {
      const ids = await r.onBatch(batch)
      s.abort(new Error('connection lost'))
      return ids
    }, { batch: 100 }))).rejects.toThrow()
    expect(r.taken.size).toBe(100)
    expect(await withMailbox(alice, async (s) => await drain(s, r.onBatch, { batch: 100 }))).toEqual({ received: 300, acked: 300 })
    // Taken in once each, in order; only the first batch was handed out twice.
    expect(r.order).toEqual(sent.map(idOf))
    expect([...r.deliveries.values()].filter(n => n === 2).length).toBe(100)
    expect(store.stats().envelopes).toBe(0)
  })

  it('a peer fetches and acknowledges only its own mail', async () => {
    await withMailbox(alice, register)
    await withMailbox(bob, register)
    const forAlice = mailFor(alice, 5)
    const forBob = mailFor(bob, 3)
    await withMailbox(stranger, async (s) => await deposit(s, [...forAlice, ...forBob]))
    await expect(withMailbox(stranger, async (s) => await drain(s, async (batch) => batch.map(e => e.id)))).rejects.toMatchObject({ reason: 'not-a-mailbox' })
    const r = receiver()
    // Bob also tries to acknowledge Alice's ids: nothing of hers goes.
    expect(await withMailbox(bob, async (s) => await drain(s, async (batch) => [...await r.onBatch(batch), ...forAlice.map(idOf)]))).toEqual({ received: 3, acked: 3 })
    expect(r.order).toEqual(forBob.map(idOf))
    expect((await store.fetch(alice.peerId.toString(), { limit: 10 })).map(e => e.id)).toEqual(forAlice.map(idOf))
  })

  it('leaves declined envelopes in place and goes past them', async () => {
    await withMailbox(alice, register)
    const sent = mailFor(alice, 10)
    await withMailbox(stranger, async (s) => await deposit(s, sent))
    const declined = new Set(sent.filter((_, i) => i % 3 === 0).map(idOf))
    const result = await withMailbox(alice, async (s) => await drain(s, async (batch) => batch.map(e => e.id).filter(id => !declined.has(id)), { batch: 4 }))
    expect(result).toEqual({ received: 10, acked: 10 - declined.size })
    expect(new Set((await store.fetch(alice.peerId.toString(), { limit: 10 })).map(e => e.id))).toEqual(declined)
  })

  it('sweeps expired envelopes while started', async () => {
    await withMailbox(alice, register)
    await store.deposit('someone', mailFor(alice, 2), Date.now() - store.limits.ttlMs - 1)
    await store.deposit('someone', mailFor(alice, 1))
    server.start()
    await expect.poll(() => server.metrics.expired).toBe(2)
    expect(store.stats().envelopes).toBe(1)
  })

  it('limits the streams one peer keeps open', async () => {
    const openStreams = async (count: number): Promise<Stream[]> => await Promise.all(Array.from({ length: count }, async () => await stranger.dialProtocol(relay.getMultiaddrs(), MAILBOX_PROTOCOL)))
    const tryDeposit = async (): Promise<unknown> => await withMailbox(stranger, async (s) => await deposit(s, mailFor(alice, 1))).catch(err => err)
    // As the node registers the handler: libp2p refuses a 9th stream on the connection.
    let streams = await openStreams(8)
    expect(await tryDeposit()).toBeInstanceOf(Error)
    for (const s of streams) await s.close()
    await expect.poll(tryDeposit).toEqual(['unknown-recipient'])
    // The server's own limit holds across connections too.
    await relay.unhandle(MAILBOX_PROTOCOL)
    await relay.handle(MAILBOX_PROTOCOL, server.handler, { maxInboundStreams: 32 })
    streams = await openStreams(8)
    await expect.poll(tryDeposit).toBeInstanceOf(Error)
    expect(server.metrics.refused['too-many-streams']).toBeGreaterThan(0)
    for (const s of streams) await s.close()
    await expect.poll(tryDeposit).toEqual(['unknown-recipient'])
  })
})

describe('wire format', () => {
  it('keeps each response within the frame limit', () => {
    const full = MailboxResponse.encode({
      status: MailboxStatus.OK,
      envelopes: [new Uint8Array(MAILBOX_LIMITS.maxFetchBytes - 255 * 100), ...Array.from({ length: 255 }, () => new Uint8Array(100))],
      ids: Array.from({ length: 256 }, () => new Uint8Array(16)),
      depositedAt: Array(256).fill(Date.now() * 1000),
      more: true
    })
    expect(full.length).toBeLessThanOrEqual(MAILBOX_LIMITS.maxResponseBytes)
    const request = MailboxRequest.encode({ op: MailboxOp.DEPOSIT, envelopes: [new Uint8Array(MAILBOX_LIMITS.maxDepositBytes - 63 * 100), ...Array.from({ length: 63 }, () => new Uint8Array(100))] })
    expect(request.length).toBeLessThanOrEqual(MAILBOX_LIMITS.maxRequestBytes)
  })
})
