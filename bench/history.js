// History sync to a new device: how long a newly linked device takes to pull 10k, 100k and 1M
// messages from another device of its user, both stores LevelDB sealed at rest, two processes
// on loopback TCP (Noise, yamux); beside it, a raw libp2p stream moving the same bytes.
// See bench/README.md.
//
//   npm run bench:history
//   node --import @kith/core/polyfill bench/history.js [--sizes 10000,100000,1000000]
//        [--conversations 50] [--profile] [--no-save]
import '@kith/core/polyfill'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { byteStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { historySync } from '@kith/history'
import { openStore } from '@kith/store'
import { ChildProcess, LISTEN, Profiler, atRestCipher, cpuSince, createRawNode, withTimeout } from './lib.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const RESULTS = join(HERE, 'results')
const MB = 1e6
/** The floor: a bare stream on which the source answers an 8-byte count with that many bytes. */
const RAW_BYTES_PROTOCOL = '/bench/history-raw/1.0.0'

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    conversations: { type: 'string', default: '50' },
    'batch-size': { type: 'string' },
    window: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (flags.help) {
  console.log(`usage: node --import @kith/core/polyfill bench/history.js [options]
  --sizes A,B,C        history sizes in messages (default 10000,100000,1000000)
  --conversations N    conversations the history is spread over (default 50)
  --batch-size N       records per WANT and per LevelDB batch on the new device (default: HISTORY_DEFAULTS)
  --window N           WANTs in flight (default: HISTORY_DEFAULTS)
  --profile            CPU-profile both processes during each sync (bench/results/prof/history-*.cpuprofile)
  --no-save            do not write bench/results/`)
  process.exit(0)
}
const SIZES = flags.sizes.split(',').map(Number)
const CONVERSATIONS = Number(flags.conversations)
const TUNING = {
  ...(flags['batch-size'] != null ? { batchSize: Number(flags['batch-size']) } : {}),
  ...(flags.window != null ? { window: Number(flags.window) } : {})
}

/** The new device: an empty store sealed at rest and the history service, nothing else. */
async function newDevice (path, own) {
  const store = await openStore(path, atRestCipher())
  const node = await createLibp2p({
    addresses: { listen: LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] },
    services: { history: historySync({ store, isOwnDevice: (peer) => own.has(peer.toString()), tuning: TUNING }) }
  })
  return { node, store }
}

/** Pull `bytes` over one raw stream from the peer's floor node: open to last byte. */
async function rawPull (node, addrs, bytes) {
  const started = performance.now()
  const stream = await node.dialProtocol(multiaddr(addrs[0]), RAW_BYTES_PROTOCOL)
  const io = byteStream(stream)
  const request = new Uint8Array(8)
  new DataView(request.buffer).setBigUint64(0, BigInt(bytes))
  await io.write(request)
  let got = 0
  while (got < bytes) {
    const chunk = await io.read()
    if (chunk == null) throw new Error(`the raw stream ended after ${got} of ${bytes} bytes`)
    got += chunk.byteLength
  }
  await stream.close()
  return performance.now() - started
}

async function main () {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-history-new-'))
  const peer = new ChildProcess(join(HERE, 'history-peer.js'), 'source device')
  const raw = await createRawNode()
  const rows = []
  try {
    await peer.start()
    const { rawAddrs } = await peer.call('listen', { protocol: RAW_BYTES_PROTOCOL })
    // Warm up the floor's connection and JIT once.
    await rawPull(raw, rawAddrs, 4 * MB)
    for (const count of SIZES) {
      const own = new Set()
      const device = await newDevice(join(dir, `new-${count}`), own)
      try {
        const source = await peer.call('prepare', { count, conversations: CONVERSATIONS, requester: device.node.peerId.toString() })
        own.add(source.peerId)
        const index = await peer.call('index')
        await device.node.dial(multiaddr(source.addrs[0]))
        const stamp = new Date().toISOString().replace(/[:.]/g, '-')
        const profiler = flags.profile ? new Profiler() : undefined
        await profiler?.start()
        await peer.call('mark', { profile: flags.profile })
        const cpu = process.cpuUsage()
        const result = await withTimeout(device.node.services.history.sync(peerIdFromString(source.peerId)), 3_600_000, `sync of ${count}`)
        const cpuMs = cpuSince(cpu) / 1000
        const sourceSide = await peer.call('measure', { profilePath: join(RESULTS, 'prof', `history-source-${count}-${stamp}.cpuprofile`) })
        await profiler?.stop(join(RESULTS, 'prof', `history-new-${count}-${stamp}.cpuprofile`))
        const held = (await device.store.historySyncEntries()).count
        if (result.fetched !== count || held !== count) throw new Error(`the new device holds ${held} of ${count} messages (fetched ${result.fetched})`)
        const rawMs = await rawPull(raw, rawAddrs, result.bytes)
        rows.push({ count, populateMs: source.populateMs, indexMs: index.ms, ms: result.ms, bytes: result.bytes, rounds: result.rounds, rawMs, cpuMs: { new: cpuMs, source: sourceSide.cpuMs } })
        console.log(`${count}: ${result.ms.toFixed(0)} ms, ${(result.bytes / MB).toFixed(1)} MB (raw stream ${rawMs.toFixed(0)} ms); CPU new ${cpuMs.toFixed(0)} ms, source ${sourceSide.cpuMs.toFixed(0)} ms; source index build ${index.ms.toFixed(0)} ms`)
      } finally {
        await device.node.stop()
        await device.store.close()
        await rm(join(dir, `new-${count}`), { recursive: true, force: true })
      }
    }
  } finally {
    await raw.stop()
    await peer.stop()
    await rm(dir, { recursive: true, force: true })
  }
  report(rows)
  if (!flags['no-save'] && !flags.profile) await save(rows)
}

function report (rows) {
  console.table(rows.map(r => ({
    messages: r.count.toLocaleString('en'),
    'kith ms': r.ms.toFixed(0),
    'kith MB': (r.bytes / MB).toFixed(1),
    'raw stream ms (same bytes)': r.rawMs.toFixed(0),
    'kith / raw': `${(r.ms / r.rawMs).toFixed(1)}×`,
    'msgs/s': Math.round(r.count / (r.ms / 1000)).toLocaleString('en'),
    'ms per 1k msgs': (r.ms / (r.count / 1000)).toFixed(1),
    'CPU ms new/source': `${r.cpuMs.new.toFixed(0)}/${r.cpuMs.source.toFixed(0)}`,
    'source index build ms': r.indexMs.toFixed(0)
  })))
}

async function save (rows) {
  await mkdir(RESULTS, { recursive: true })
  const json = JSON.stringify({ when: new Date().toISOString(), conversations: CONVERSATIONS, tuning: TUNING, rows }, null, 2)
  await writeFile(join(RESULTS, `history-${Date.now()}.json`), json)
  await writeFile(join(RESULTS, 'history-latest.json'), json)
}

await main()
