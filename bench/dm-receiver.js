// The receiving side of bench/dm.js, in its own process (forked by it; talks over IPC).
// Runs a raw libp2p node serving /bench/raw/1.0.0 and a Kith node on LevelDB, counts what
// arrives, and answers the parent's commands.
import '@kith/core/polyfill'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createKithNode } from '@kith/node'
import { openStore } from '@kith/store'
import { generateDeviceKey } from '@kith/crypto'
import { toHex } from '@kith/core'
import { ID_BYTES, LISTEN, MAX_FRAME_BYTES, Profiler, RAW_PROTOCOL, cpuSince, createRawNode, now, serveParent, serveRawAcks, storeOptions } from './lib.js'

if (process.send == null) {
  console.error('bench/dm-receiver.js is started by bench/dm.js')
  process.exit(2)
}

const counts = { raw: 0, kith: 0, kithBad: 0, rawBad: 0 }
/** When each message reached us (ms, monotonic clock), by id: latency runs only. */
let stamps = null
let cpuMark = process.cpuUsage()
let raw
let kith
const kiths = []
const kithStores = []
let tempDir
let profiler
let stopping

const commands = {
  async 'raw:start' ({ ackBytes, frameBytes }) {
    raw = await createRawNode()
    await raw.handle(RAW_PROTOCOL, (stream) => {
      void serveRawAcks(stream, { tally: counts, frameBytes, ackBytes, maxFrameBytes: MAX_FRAME_BYTES, onFrame: (frame) => { stamps?.set(toHex(frame.subarray(0, ID_BYTES)), now()) } })
    }, { maxInboundStreams: 16 })
    return { addrs: raw.getMultiaddrs().map(String) }
  },

  /** `mode`: 'e2ee', 'e2ee-at-rest' (Kith as users run it) or 'clear' (signed envelopes, the issue-2 path). */
  async 'kith:start' ({ mode = 'e2ee' } = {}) {
    tempDir ??= await mkdtemp(join(tmpdir(), 'kith-bench-recv-'))
    const { cipher, sync } = storeOptions(mode)
    const kithStore = await openStore(join(tempDir, `db-${mode}`), cipher, { sync })
    kithStores.push(kithStore)
    kith = await createKithNode({
      privateKey: await generateDeviceKey(),
      name: 'bench-receiver',
      store: kithStore,
      listen: LISTEN,
      mdns: false,
      // The default limiter (500 msg/s per peer) would disconnect the benchmark's sender.
      messaging: { ratePerSecond: 1e9, rateBurst: 1e9, encryption: mode === 'clear' ? 'none' : 'e2ee' }
    })
    kiths.push(kith)
    kith.addEventListener('message', (evt) => {
      counts.kith++
      if (evt.detail.text.length === 0) counts.kithBad++
      stamps?.set(evt.detail.id, now())
    })
    kith.addEventListener('contact', (evt) => { process.send({ event: 'kith:contact', peerId: evt.detail.peerId }) })
    return { invite: await kith.createInvite(), tempDir, peerId: kith.peerId.toString() }
  },

  /** Zero the counters and the CPU clock at the start of a phase. */
  async reset ({ stamp = false }) {
    counts.raw = counts.kith = counts.kithBad = counts.rawBad = 0
    stamps = stamp ? new Map() : null
    cpuMark = process.cpuUsage()
    return {}
  },

  async stamps () {
    return { stamps: Object.fromEntries(stamps ?? []) }
  },

  async count () {
    return { ...counts, cpuMicros: cpuSince(cpuMark), metrics: kith?.status().metrics }
  },

  async 'profile:start' () {
    profiler = new Profiler()
    await profiler.start()
    return {}
  },

  async 'profile:stop' ({ path }) {
    await profiler.stop(path)
    profiler = undefined
    return { path }
  },

  async stop () {
    await shutdown()
    return {}
  }
}

async function shutdown () {
  stopping ??= (async () => {
    await Promise.allSettled([raw?.stop(), ...kiths.map(k => k.stop())])
    await Promise.allSettled(kithStores.map(s => s.close()))
    if (tempDir != null) await rm(tempDir, { recursive: true, force: true })
  })()
  await stopping
}

serveParent(commands, shutdown)

