import { join } from 'node:path'
import { FILES_PROTOCOL } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CHUNK_BYTES, SERVING_DEFAULTS, prepareFile } from '../src/index.js'
import { FileKind, FileRequest, FileResponse, FileStatus } from '../src/wire.js'
import { cleanup, connectAll, digest, startNode, tempDir, writeTestFile } from './helpers.js'
import type { TestNode } from './helpers.js'
import type { FileRef } from '../src/index.js'
import type { Stream } from '@libp2p/interface'

// Abuse of the file server's slots (docs/files.md, "Who may fetch"): streams that never send a
// request, or send it slowly, and a peer that asks for more than its share at once.

const running: TestNode[] = []
async function node (options: Parameters<typeof startNode>[0] = {}): Promise<TestNode> {
  const n = await startNode(options)
  running.push(n)
  return n
}
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.node.stop() })) })
afterAll(cleanup)

async function share (holder: TestNode, size: number): Promise<{ ref: FileRef, source: string }> {
  const source = join(await tempDir(), 'source')
  await writeTestFile(source, size)
  return { ref: await prepareFile(holder.files.store, source), source }
}

async function exported (n: TestNode, ref: FileRef): Promise<string> {
  const out = join(await tempDir(), 'out')
  await n.files.store.export(ref, out)
  return await digest(out)
}

async function until (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** A request as the client writes it: one length byte (requests are far below 128 bytes), then the protobuf. */
function framed (request: Partial<FileRequest>): Uint8Array {
  const body = FileRequest.encode(request)
  return Uint8Array.from([body.length, ...body])
}

/**
 * Keep `count` files streams open from `from` to `to`, sending nothing; a stream the server
 * closes is opened again (after 100 ms) until `stop()`. Returns every stream opened.
 */
function holdIdle (from: TestNode, to: TestNode, count: number): { streams: Stream[], stop: () => void } {
  const streams: Stream[] = []
  let stopped = false
  const keep = async (): Promise<void> => {
    while (!stopped) {
      const stream = await from.node.dialProtocol(to.node.peerId, FILES_PROTOCOL, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
      if (stream === undefined) { await new Promise(resolve => setTimeout(resolve, 100)); continue }
      streams.push(stream)
      await new Promise<void>(resolve => {
        if (stream.status !== 'open') { resolve(); return }
        stream.addEventListener('close', () => { resolve() }, { once: true })
      })
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  for (let i = 0; i < count; i++) void keep()
  return { streams, stop: () => { stopped = true } }
}

describe('serving slots', () => {
  it('a contact downloads while strangers hold idle and slow streams open; those are reset after the request timeout', async () => {
    const contact = await node()
    const requestTimeoutMs = 3_000
    const sender = await node({ authorize: (peer) => peer === contact.id, serving: { requestTimeoutMs } })
    // Five strangers, each keeping as many idle streams as one peer may have unread: 80 in
    // all, more than the 64 serving slots.
    const strangers = await Promise.all(Array.from({ length: 5 }, async () => await node()))
    await connectAll([contact, sender])
    // Each opener dials, so its side of the connection is ready when it opens streams.
    for (const s of strangers) await connectAll([s, sender])
    const { ref, source } = await share(sender, 8 * CHUNK_BYTES)
    const attacks = strangers.map(s => holdIdle(s, sender, SERVING_DEFAULTS.maxUnreadPerPeer))
    await until(() => attacks.every(a => a.streams.length >= SERVING_DEFAULTS.maxUnreadPerPeer), 20_000, 'the idle streams to open')

    // One more stranger sends a valid request a byte every 200 ms: it takes longer than allowed.
    const slowPeer = await node()
    await connectAll([slowPeer, sender])
    const slow = await slowPeer.node.dialProtocol(sender.node.peerId, FILES_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const request = framed({ root: Buffer.from(ref.root, 'hex'), kind: FileKind.HAVE })
    const dripping = (async () => {
      for (const byte of request) {
        if (slow.status !== 'open') return 'reset'
        try { slow.send(Uint8Array.of(byte)) } catch { return 'reset' }
        await new Promise(resolve => setTimeout(resolve, 200))
      }
      return 'sent'
    })()

    const started = Date.now()
    await contact.files.fetch(ref, () => [sender.id])
    const open = attacks.flatMap(a => a.streams).filter(s => s.status === 'open').length
    console.log(`a contact fetched 8 MiB in ${Date.now() - started} ms while strangers held ${open} idle files streams open`)
    expect(await exported(contact, ref)).toBe(await digest(source))

    // The idle streams are reset once the request timeout passes: stop re-opening them and
    // every one of them ends.
    for (const a of attacks) a.stop()
    const idle = attacks.flatMap(a => a.streams)
    await until(() => idle.every(s => s.status !== 'open'), requestTimeoutMs + 10_000, 'the idle streams to be reset')
    expect(await dripping).toBe('reset')
    expect(sender.files.metrics.idleStreams).toBeGreaterThanOrEqual(5 * SERVING_DEFAULTS.maxUnreadPerPeer + 1)
    expect(sender.files.metrics.servedChunks).toBe(8)
    expect(sender.files.metrics.refused['not-yours'] ?? 0).toBe(0)
  })

  it('lets one peer have at most 16 streams waiting to be read: more get BUSY at once, counted', async () => {
    const sender = await node({ authorize: () => false, serving: { requestTimeoutMs: 2_000 } })
    const stranger = await node()
    await connectAll([stranger, sender])
    const streams: Stream[] = []
    for (let i = 0; i < 20; i++) streams.push(await stranger.node.dialProtocol(sender.node.peerId, FILES_PROTOCOL, { signal: AbortSignal.timeout(10_000) }))
    // Four streams over the cap are answered BUSY; the sixteen others get nothing, and are reset
    // once the request timeout passes.
    const answers = await Promise.allSettled(streams.map(async s => FileResponse.decode((await lpStream(s, { maxDataLength: 64 }).read({ signal: AbortSignal.timeout(20_000) })).subarray()).status))
    expect(answers.filter(a => a.status === 'fulfilled').map(a => a.value)).toEqual(Array(4).fill(FileStatus.BUSY))
    expect(answers.filter(a => a.status === 'rejected')).toHaveLength(16)
    expect(sender.files.metrics.refused['peer-busy']).toBe(4)
    expect(sender.files.metrics.idleStreams).toBe(16)
  })

  it('serves one peer at most 16 streams at once: the rest get BUSY, counted; another contact still downloads', async () => {
    const greedy = await node()
    const contact = await node()
    // Unread streams are not capped here: this test is about the serving slots alone.
    const sender = await node({ authorize: (peer) => peer === contact.id || peer === greedy.id, serving: { maxUnreadPerPeer: 64 } })
    await connectAll([greedy, sender])
    await connectAll([contact, sender])
    const { ref, source } = await share(sender, 16 * CHUNK_BYTES)

    // The greedy peer asks for 16 chunks on each of 24 streams and reads none of the data: each
    // stream it is served holds a slot, paced by its (paused) receive window.
    const asked = 24
    const streams: Stream[] = []
    for (let i = 0; i < asked; i++) {
      const stream = await greedy.node.dialProtocol(sender.node.peerId, FILES_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      stream.pause()
      stream.send(framed({ root: Buffer.from(ref.root, 'hex'), kind: FileKind.CHUNKS, start: 0, count: 16 }))
      streams.push(stream)
    }
    const excess = asked - SERVING_DEFAULTS.maxServingPerPeer
    await until(() => sender.files.metrics.refused['peer-busy'] === excess, 20_000, 'the excess streams to be refused')

    await contact.files.fetch(ref, () => [sender.id])
    expect(await exported(contact, ref)).toBe(await digest(source))
    expect(sender.files.metrics.refused['peer-busy']).toBe(excess)
    expect(sender.files.metrics.refused.busy ?? 0).toBe(0)
    for (const s of streams) s.abort(new Error('test over'))
  })
})
