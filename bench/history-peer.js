// The source device of bench/history.js, in its own process: a Kith node whose LevelDB store
// (sealed at rest) holds the history a new device pulls, and a bare libp2p node serving the
// raw-stream floor. Driven over the IPC channel (see ChildProcess in lib.js).
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { byteStream } from '@libp2p/utils'
import { historySync } from '@kith/history'
import { openStore } from '@kith/store'
import { LISTEN, Profiler, atRestCipher, cpuSince, createRawNode, serveParent, textOf } from './lib.js'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'

const CHUNK = 64 * 1024

let dir
let raw
let source
let cpuMark
let profiler

/** `count` realistic messages, written as messaging writes them: incoming and outgoing, 100–300 byte texts, 1% files. */
async function populate (store, me, count, conversations) {
  const peers = Array.from({ length: conversations }, () => `12D3KooW${randomBytes(33).toString('base64url').slice(0, 44)}`)
  const start = Date.now() - count * 1000
  const BATCH = 5000
  for (let at = 0; at < count; at += BATCH) {
    const batch = []
    for (let i = at; i < Math.min(count, at + BATCH); i++) {
      const conversation = peers[(i * 7919) % conversations]
      const out = i % 3 === 0
      const message = { id: randomBytes(16).toString('hex'), conversation, from: out ? me : conversation, text: textOf(i, 100 + (i * 37) % 201), ts: start + i * 1000 + (i % 17), status: out ? 'delivered' : 'received' }
      if (i % 100 === 99) batch.push({ ...message, text: '', file: { hash: randomBytes(32).toString('hex'), key: randomBytes(32).toString('hex'), size: 100_000 + i, name: `photo-${i}.jpg`, type: 'image/jpeg' } })
      else batch.push(message)
    }
    // The messaging path's batched write (no sync index yet: the first sync builds it).
    await store.appendIncomingMany(batch)
  }
}

async function stopSource () {
  if (source == null) return
  await source.node.stop()
  await source.store.close()
  await rm(source.path, { recursive: true, force: true })
  source = undefined
}

serveParent({
  /** The floor, on `protocol`: a bare stream that answers an 8-byte count with that many bytes. */
  async listen ({ protocol }) {
    dir = await mkdtemp(join(tmpdir(), 'kith-bench-history-'))
    raw = await createRawNode()
    await raw.handle(protocol, async (stream) => {
      const bytes = byteStream(stream)
      const head = (await bytes.read({ bytes: 8 })).subarray()
      const want = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0))
      const chunk = randomBytes(CHUNK)
      for (let sent = 0; sent < want; sent += CHUNK) await bytes.write(chunk.subarray(0, Math.min(CHUNK, want - sent)))
      await stream.close()
    })
    return { rawAddrs: raw.getMultiaddrs().map(String) }
  },
  /** A fresh source device holding `count` messages; `requester` is the new device's peer id (its own device). */
  async prepare ({ count, conversations, requester }) {
    await stopSource()
    const path = join(dir, `source-${count}`)
    const store = await openStore(path, atRestCipher())
    const node = await createLibp2p({
      addresses: { listen: LISTEN },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] },
      services: { history: historySync({ store, isOwnDevice: (peer) => peer.toString() === requester }) }
    })
    source = { node, store, path }
    const started = performance.now()
    await populate(store, node.peerId.toString(), count, conversations)
    return { addrs: node.getMultiaddrs().map(String), peerId: node.peerId.toString(), populateMs: performance.now() - started }
  },
  /** Build the source's sync index (what the first sync it serves would do), timed. */
  async index () {
    const started = performance.now()
    const entries = await source.store.historySyncEntries()
    return { ms: performance.now() - started, count: entries.count }
  },
  async mark ({ profile }) {
    cpuMark = process.cpuUsage()
    if (profile) { profiler = new Profiler(); await profiler.start() }
  },
  async measure ({ profilePath }) {
    const cpuMs = cpuSince(cpuMark) / 1000
    if (profiler != null) { await profiler.stop(profilePath); profiler = undefined }
    return { cpuMs, metrics: { ...source.node.services.history.metrics } }
  },
  async stop () { await shutdown() }
}, shutdown)

async function shutdown () {
  await stopSource().catch(() => {})
  await raw?.stop()
  if (dir != null) await rm(dir, { recursive: true, force: true })
}
