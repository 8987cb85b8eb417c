import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { FILES_PROTOCOL } from '@kith/core'
import { memoryStore } from '@kith/store'
import { lpStream } from '@libp2p/utils'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CHUNK_BYTES, CHUNK_STRIDE, FETCH_DEFAULTS, prepareFile } from '../src/index.js'
import { FileKind, FileRequest, FileResponse, FileStatus, decodeRequest } from '../src/wire.js'
import { cleanup, connectAll, digest, startNode, tempDir, writeTestFile } from './helpers.js'
import type { TestNode } from './helpers.js'
import type { FileRef } from '../src/index.js'
import type { Stream } from '@libp2p/interface'

const running: TestNode[] = []
async function node (options: Parameters<typeof startNode>[0] = {}): Promise<TestNode> {
  const n = await startNode(options)
  running.push(n)
  return n
}
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.node.stop() })) })
afterAll(cleanup)

/** Prepare a file of `size` random bytes on `holder`; returns its ref and the source path. */
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

describe('fetching over TCP', () => {
  it('fetches a 20 MiB file byte-identical, with progress and a complete event', async () => {
    const [sender, receiver] = [await node(), await node()]
    await connectAll([sender, receiver])
    const { ref, source } = await share(sender, 20 * CHUNK_BYTES + 12345)
    const progress: number[] = []
    let completed = ''
    receiver.files.addEventListener('progress', (e) => progress.push(e.detail.verifiedBytes))
    receiver.files.addEventListener('complete', (e) => { completed = e.detail.root })
    await receiver.files.fetch(ref, () => [sender.id])
    expect(completed).toBe(ref.root)
    expect(progress.at(-1)).toBe(ref.size)
    expect(await receiver.files.store.get(ref.root)).toMatchObject({ complete: true, verifiedBytes: ref.size })
    expect(await exported(receiver, ref)).toBe(await digest(source))
    expect(sender.files.metrics.servedChunks).toBe(21)
    expect(receiver.files.metrics.fetchedBytes).toBe(ref.size + 21 * 16)
    expect(receiver.files.downloads()).toEqual([])
  })

  it('refuses a peer the file was not sent to, and that peer gets FileUnavailableError', async () => {
    const stranger = await node()
    const sender = await node({ authorize: (peer) => peer !== stranger.id })
    await connectAll([sender, stranger])
    const { ref } = await share(sender, 3 * CHUNK_BYTES)
    const started = Date.now()
    await expect(stranger.files.fetch(ref, () => [sender.id])).rejects.toMatchObject({ name: 'FileUnavailableError' })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(sender.files.metrics.refused['not-yours']).toBeGreaterThanOrEqual(2)
    expect(sender.files.metrics.servedChunks).toBe(0)
    // The state stays, with nothing held, for a later attempt.
    expect(await stranger.files.store.get(ref.root)).toMatchObject({ complete: false, haveChunks: 0 })
  })

  it('group swarm: a member that completed serves the next one alongside the sender', async () => {
    const [sender, a, b, c] = [await node(), await node(), await node(), await node()]
    await connectAll([sender, a, b, c])
    const { ref, source } = await share(sender, 24 * CHUNK_BYTES)
    await a.files.fetch(ref, () => [sender.id])
    const servedBySender = sender.files.metrics.servedChunks
    await b.files.fetch(ref, () => [sender.id, a.id, c.id])
    expect(await exported(b, ref)).toBe(await digest(source))
    expect(a.files.metrics.servedChunks).toBeGreaterThan(0)
    expect(sender.files.metrics.servedChunks - servedBySender).toBeGreaterThan(0)
    expect(a.files.metrics.servedChunks + sender.files.metrics.servedChunks - servedBySender).toBe(24)
    // c never had it: it answered what it holds (nothing) and served nothing.
    expect(c.files.metrics.servedChunks).toBe(0)
  })

  it('penalises a source that serves corrupted chunks and completes from the honest one', async () => {
    const [sender, receiver] = [await node(), await node()]
    const liar = await node()
    await connectAll([sender, receiver, liar])
    const { ref, source } = await share(sender, 12 * CHUNK_BYTES)
    await serveCorrupted(liar, sender, ref)
    const bad: string[] = []
    receiver.files.addEventListener('bad-source', (e) => bad.push(`${e.detail.peer}:${e.detail.reason}`))
    await receiver.files.fetch(ref, () => [liar.id, sender.id])
    expect(await exported(receiver, ref)).toBe(await digest(source))
    expect(receiver.files.metrics.badChunks).toBeGreaterThanOrEqual(1)
    // Dropped at its second bad chunk; requests already sent to it may each bring one more.
    expect(receiver.files.metrics.badChunks).toBeLessThanOrEqual(FETCH_DEFAULTS.maxBadChunks - 1 + FETCH_DEFAULTS.requestsPerSource)
    expect(bad.length).toBeGreaterThanOrEqual(1)
    expect(bad.every(b => b === `${liar.id}:bad-chunk`)).toBe(true)
  })

  it('resumes an aborted fetch in a new service over the same folder and store, fetching only the rest', async () => {
    const sender = await node()
    const store = await memoryStore()
    const dir = await tempDir()
    // Progress after every chunk, so the abort lands mid-file however fast loopback is.
    const first = await node({ store, dir, tuning: { progressPerSecond: 100_000 } })
    await connectAll([sender, first])
    const size = 40 * CHUNK_BYTES
    const { ref, source } = await share(sender, size)
    const controller = new AbortController()
    first.files.addEventListener('progress', (e) => { if (e.detail.verifiedBytes >= size / 4) controller.abort() })
    await expect(first.files.fetch(ref, () => [sender.id], { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    const partial = await first.files.store.get(ref.root)
    expect(partial?.complete).toBe(false)
    expect(partial?.haveChunks).toBeGreaterThan(0)
    expect(partial?.haveChunks).toBeLessThan(40)
    await first.node.stop()

    const second = await node({ store, dir })
    await connectAll([sender, second])
    await second.files.fetch(ref, () => [sender.id])
    expect(second.files.metrics.fetchedBytes).toBeLessThan(size)
    expect(second.files.metrics.fetchedBytes).toBe((40 - (partial?.haveChunks ?? 0)) * CHUNK_STRIDE)
    expect(await exported(second, ref)).toBe(await digest(source))
  })

  it('answers an oversized or malformed request INVALID, counts it, and keeps serving', async () => {
    const [sender, receiver] = [await node(), await node()]
    await connectAll([sender, receiver])
    const { ref } = await share(sender, 2 * CHUNK_BYTES)
    const ask = async (frame: Uint8Array): Promise<FileStatus> => {
      const stream = await receiver.node.dialProtocol(sender.node.peerId, FILES_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      const lp = lpStream(stream, { maxDataLength: 1024 })
      await lp.write(frame)
      const status = FileResponse.decode((await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()).status
      await stream.close().catch(() => {})
      return status
    }
    expect(await ask(new Uint8Array(1000))).toBe(FileStatus.INVALID)
    expect(await ask(new Uint8Array([0xff, 0xff, 0xff]))).toBe(FileStatus.INVALID)
    expect(await ask(FileRequest.encode({ root: new Uint8Array(31), kind: FileKind.HAVE, start: 0, count: 0 }))).toBe(FileStatus.INVALID)
    expect(await ask(FileRequest.encode({ root: Buffer.from(ref.root, 'hex'), kind: FileKind.CHUNKS, start: 1, count: 5 }))).toBe(FileStatus.INVALID)
    expect(await ask(FileRequest.encode({ root: Buffer.from(ref.root, 'hex'), kind: FileKind.CHUNKS, start: 0, count: 17 }))).toBe(FileStatus.INVALID)
    expect(sender.files.metrics.invalidRequests).toBe(5)
    expect(await ask(FileRequest.encode({ root: new Uint8Array(32), kind: FileKind.HAVE, start: 0, count: 0 }))).toBe(FileStatus.NOT_FOUND)
    await receiver.files.fetch(ref, () => [sender.id])
    expect(await receiver.files.store.get(ref.root)).toMatchObject({ complete: true })
  })
})

/**
 * Make `liar` serve `ref` like a holder (HAVE: complete; LEAVES: the honest leaves) but with a
 * flipped byte in every chunk, reading from the honest holder's folder.
 */
async function serveCorrupted (liar: TestNode, holder: TestNode, ref: FileRef): Promise<void> {
  const chunks = Math.ceil(ref.size / CHUNK_BYTES)
  await liar.node.unhandle(FILES_PROTOCOL)
  await liar.node.handle(FILES_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: 256 })
    const request = decodeRequest((await lp.read()).subarray())
    const ok = FileResponse.encode({ status: FileStatus.OK, chunks, complete: true, have: new Uint8Array(0) })
    await lp.write(ok)
    if (request.kind === FileKind.LEAVES) {
      const leaves = await open(holder.files.store.leavesPath(ref.root), 'r')
      const all = Buffer.alloc(chunks * 32)
      await leaves.read(all, 0, all.length, 0)
      await leaves.close()
      await lp.write(all)
    } else if (request.kind === FileKind.CHUNKS) {
      const blob = await open(holder.files.store.blobPath(ref.root), 'r')
      try {
        for (let i = request.start; i < request.start + request.count; i++) {
          const length = Math.min(CHUNK_BYTES, ref.size - i * CHUNK_BYTES) + 16
          const chunk = Buffer.alloc(length)
          await blob.read(chunk, 0, length, i * CHUNK_STRIDE)
          chunk[7] = (chunk[7] as number) ^ 0x80
          await lp.write(chunk)
        }
      } finally {
        await blob.close()
      }
    }
    await stream.close()
  }, { runOnLimitedConnection: true })
}
