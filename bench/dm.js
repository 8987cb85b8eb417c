// Kith 1:1 DM benchmark: latency (p50/p99) and throughput between two node processes on
// loopback TCP, Kith (/kith/dm/1.0.0 over LevelDB) against a raw libp2p stream carrying frames
// of the same size (the floor). See bench/README.md.
//
//   node --import @kith/core/polyfill bench/dm.js [--size 256] [--count 20000]
//        [--latency-count 2000] [--warmup 500] [--count-warmup 2000] [--rounds 3]
//        [--window 256] [--kith-inflight 1024] [--kith-to alias|peer-id] [--only raw|kith]
//        [--profile] [--no-save]
import '@kith/core/polyfill'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Ack, AckStatus, ENCRYPTION_NONE, ENVELOPE_VERSION, Envelope, MessageKind, toHex } from '@kith/core'
import { generateDeviceKey, signMessage } from '@kith/crypto'
import { createKithNode } from '@kith/node'
import { openStore } from '@kith/store'
import {
  ChildProcess, ID_BYTES, KITH_MODES, LISTEN, MAX_FRAME_BYTES, Profiler, RAW_PROTOCOL, Signal, cpuSince, createRawNode, now, rawFrame, sameBytes, storeOptions,
  summarize, textOf, withTimeout
} from './lib.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const RESULTS = join(HERE, 'results')
const PHASE_TIMEOUT_MS = 90_000

const { values: flags } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    count: { type: 'string', default: '20000' },
    'latency-count': { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '500' },
    'count-warmup': { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    window: { type: 'string', default: '256' },
    'kith-inflight': { type: 'string', default: '1024' },
    'kith-to': { type: 'string', default: 'alias' },
    only: { type: 'string' },
    'no-warmup-round': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (flags.help) {
  console.log(`usage: node --import @kith/core/polyfill bench/dm.js [options]
  --size N            message text in bytes (default 256)
  --count M           messages per throughput run (default 20000)
  --latency-count N   round trips per latency run, after --warmup more (default 2000, warm-up 500)
  --count-warmup N    messages sent (and checked) before each throughput run, not timed (default 2000)
  --rounds R          repeat raw/kith, alternating which goes first (default 3)
  --window W          unacked frames in flight per peer, raw and Kith (default 256, Kith's default)
  --kith-inflight K   Kith throughput: at most K messages queued but not yet delivered; 0 = all at once (default 1024)
  --kith-to alias|peer-id   address Kith messages by contact alias (default, like the CLI) or by peer id
  --no-warmup-round   skip the untimed warm-up round (--warmup + --count-warmup messages per side)
  --only raw|kith     run one side only
  --profile           CPU-profile the throughput runs in both processes (bench/results/prof/); one round, no results file
  --no-save           do not write bench/results/`)
  process.exit(0)
}
const opts = {
  size: int('size'),
  count: int('count'),
  latencyCount: int('latency-count'),
  warmup: int('warmup'),
  countWarmup: int('count-warmup'),
  rounds: flags.profile ? 1 : int('rounds'),
  window: int('window'),
  kithInflight: int('kith-inflight'),
  kithTo: flags['kith-to'],
  only: flags.only,
  profile: flags.profile,
  warmupRound: !flags['no-warmup-round']
}
if (opts.size < 1 || opts.size > 16 * 1024) throw new RangeError('--size must be 1..16384 (Kith\'s maxTextBytes)')
if (!['alias', 'peer-id'].includes(opts.kithTo)) throw new RangeError('--kith-to alias|peer-id')
if (opts.only != null && !['raw', 'kith'].includes(opts.only)) throw new RangeError('--only raw|kith')

function int (name) {
  const n = Number(flags[name])
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a whole number`)
  return n
}

// ---- sizes: what a Kith envelope and ack of this text weigh on the wire ----

async function kithWireSizes (size) {
  const key = await generateDeviceKey()
  const recipient = peerIdFromPrivateKey(await generateDeviceKey()).toMultihash().bytes
  const id = randomBytes(ID_BYTES)
  const timestamp = BigInt(Date.now())
  const body = await signMessage(key, { id, recipient, timestamp }, { kind: MessageKind.TEXT, text: textOf(0, size), name: '', inviteToken: new Uint8Array(), addrs: [] })
  const envelope = Envelope.encode({ version: ENVELOPE_VERSION, id, recipient: new Uint8Array(recipient), timestamp, encryption: ENCRYPTION_NONE, body: new Uint8Array(body) })
  const ack = Ack.encode({ id: new Uint8Array(id), status: AckStatus.OK })
  return { frameBytes: envelope.length, ackBytes: ack.length }
}

// ---- raw libp2p stream ----

async function setupRaw (receiver, sizes) {
  const { addrs } = await receiver.call('raw:start', sizes)
  const node = await createRawNode()
  const stream = await node.dialProtocol(multiaddr(addrs[0]), RAW_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  const filler = new Uint8Array(randomBytes(sizes.frameBytes))

  return {
    name: 'raw',
    async latency (count) {
      const trips = []
      for (let i = 0; i < count; i++) {
        const frame = rawFrame(sizes.frameBytes, filler)
        const sent = now()
        await lp.write(frame)
        const ack = await lp.read()
        const acked = now()
        if (!sameBytes(ack.subarray(0, ID_BYTES), frame.subarray(0, ID_BYTES))) throw new Error('raw: ack for the wrong frame')
        trips.push({ id: toHex(frame.subarray(0, ID_BYTES)), sent, durable: sent, acked })
      }
      return trips
    },
    async throughput (count, window) {
      const inFlight = [] // ids sent, not yet acked, in order
      let head = 0
      let acked = 0
      const progress = new Signal()
      const t0 = now()
      const reader = (async () => {
        while (acked < count) {
          const ack = await lp.read()
          if (head >= inFlight.length || !sameBytes(ack.subarray(0, ID_BYTES), inFlight[head])) throw new Error('raw: ack out of order')
          inFlight[head++] = undefined
          acked++
          progress.notify()
        }
      })()
      let failure
      reader.catch((err) => { failure = err; progress.notify() })
      let sent = 0
      while (sent < count) {
        if (failure != null) throw failure
        const room = Math.min(window - (sent - acked), count - sent)
        if (room <= 0) { await progress.wait(); continue }
        const batch = []
        for (let i = 0; i < room; i++) {
          const frame = rawFrame(sizes.frameBytes, filler)
          inFlight.push(frame.subarray(0, ID_BYTES))
          batch.push(frame)
        }
        sent += room
        await lp.writeV(batch)
      }
      await reader
      return now() - t0
    },
    async stop () {
      await stream.close().catch(() => stream.abort(new Error('closing')))
      await node.stop()
    }
  }
}

// ---- Kith ----

/** Row labels: the floor, Kith with end-to-end encryption off (the issue-2 path), Kith as users run it. */
const LABELS = { raw: 'raw libp2p stream', 'kith-clear': 'kith, signed (no E2EE)', 'kith-nosync': 'kith, E2EE, writes not synced (before)', kith: 'kith, end-to-end encrypted', 'kith-at-rest': 'kith, E2EE + sealed at rest' }

async function setupKith (receiver, dirs, mode) {
  const contact = receiver.once('kith:contact')
  const { invite, tempDir, peerId } = await receiver.call('kith:start', { mode })
  dirs.push(tempDir) // the receiver removes it; we do too if it dies
  const dir = await mkdtemp(join(os.tmpdir(), 'kith-bench-send-'))
  dirs.push(dir)
  const { cipher, sync } = storeOptions(mode)
  const store = await openStore(join(dir, 'db'), cipher, { sync })
  const node = await createKithNode({
    privateKey: await generateDeviceKey(),
    name: 'bench-sender',
    store,
    listen: LISTEN,
    mdns: false,
    messaging: { window: opts.window, encryption: mode === 'clear' ? 'none' : 'e2ee' }
  })

  // One listener: delivered ids go to whoever waits for them.
  const waiters = new Map()
  const early = new Set()
  let onDelivered = null
  let refused = 0
  node.addEventListener('message:status', (evt) => {
    const record = evt.detail
    if (record.status === 'refused') refused++
    if (record.status !== 'delivered') return
    if (onDelivered != null) { onDelivered(record); return }
    const wake = waiters.get(record.id)
    if (wake != null) { waiters.delete(record.id); wake() } else early.add(record.id)
  })
  const delivered = (id) => {
    if (early.delete(id)) return Promise.resolve()
    return new Promise(resolve => waiters.set(id, resolve))
  }

  await node.acceptInvite(invite, 'peer')
  await withTimeout(contact, 20_000, 'Kith invite: the receiver never saw our introduction')
  // ...and its ack is back: the outbox is empty.
  const t = Date.now()
  while (node.messaging.pending() > 0) {
    if (Date.now() - t > 20_000) throw new Error('Kith introduction never acked')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  let seq = 0
  const to = opts.kithTo === 'alias' ? 'peer' : peerId

  return {
    name: KITH_MODES[mode],
    async latency (count) {
      const trips = []
      for (let i = 0; i < count; i++) {
        const text = textOf(seq++, opts.size)
        const sent = now()
        const record = await node.send(to, text)
        const durable = now()
        await delivered(record.id)
        trips.push({ id: record.id, sent, durable, acked: now() })
      }
      if (refused > 0) throw new Error(`Kith: ${refused} messages refused`)
      return trips
    },
    async throughput (count) {
      let settled = 0
      let submitted = 0
      const progress = new Signal()
      const done = new Promise(resolve => {
        onDelivered = () => {
          settled++
          if (settled === count) resolve()
          progress.notify()
        }
      })
      const cap = opts.kithInflight === 0 ? Infinity : opts.kithInflight
      const t0 = now()
      try {
        // send() resolves once the message is durable; fire them concurrently, a chunk of up to
        // `window` at a time, keeping at most `cap` queued-but-undelivered.
        while (submitted < count) {
          const room = Math.min(opts.kithInflight === 0 ? count : opts.window, count - submitted, cap - (submitted - settled))
          if (room <= 0) { await progress.wait(); continue }
          const chunk = []
          for (let i = 0; i < room; i++) chunk.push(node.send(to, textOf(seq++, opts.size)))
          submitted += room
          await Promise.all(chunk)
        }
        await done
        return now() - t0
      } finally {
        onDelivered = null
        if (refused > 0) throw new Error(`Kith: ${refused} messages refused`)
      }
    },
    async stop () {
      await node.stop()
      await store.close()
    }
  }
}

// ---- running ----

async function measure (receiver, side, round, sizes) {
  const label = LABELS[side.name]
  const total = opts.warmup + opts.latencyCount

  // Latency: one message at a time, each until its ack is back. The receiver stamps when each
  // one reached it (same monotonic clock: both processes are on this machine).
  await receiver.call('reset', { stamp: true })
  let cpu = process.cpuUsage()
  const trips = (await withTimeout(side.latency(total), PHASE_TIMEOUT_MS, `${label} latency`)).slice(opts.warmup)
  const senderCpu = cpuSince(cpu)
  let seen = await receiver.call('count')
  check(side.name, seen, total)
  const { stamps } = await receiver.call('stamps')
  const samples = trips.map(t => t.acked - t.sent)
  const lat = summarize(samples)
  if (trips.some(t => stamps[t.id] == null)) throw new Error(`${side.name}: the receiver has no arrival time for some messages`)
  const legSamples = {
    toDurable: trips.map(t => t.durable - t.sent),
    toReceiver: trips.map(t => stamps[t.id] - t.durable),
    backToSender: trips.map(t => t.acked - stamps[t.id])
  }
  const latCpu = { sender: senderCpu / total, receiver: seen.cpuMicros / total }

  // Throughput: as fast as the window lets us, until the last one is acked. A short untimed
  // run first, so both sides start warm (JIT, buffers, LevelDB memtable).
  if (opts.countWarmup > 0) {
    await receiver.call('reset')
    await withTimeout(side.throughput(opts.countWarmup, opts.window), PHASE_TIMEOUT_MS, `${label} throughput warm-up`)
    check(side.name, await receiver.call('count'), opts.countWarmup)
  }
  await receiver.call('reset')
  if (opts.profile) {
    await receiver.call('profile:start')
    profiler = new Profiler()
    await profiler.start()
  }
  cpu = process.cpuUsage()
  const ms = await withTimeout(side.throughput(opts.count, opts.window), PHASE_TIMEOUT_MS, `${label} throughput`)
  const tputSenderCpu = cpuSince(cpu)
  if (opts.profile) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    profiles.push(await profiler.stop(join(RESULTS, 'prof', `${side.name}-sender-${stamp}.cpuprofile`)))
    profiles.push((await receiver.call('profile:stop', { path: join(RESULTS, 'prof', `${side.name}-receiver-${stamp}.cpuprofile`) })).path)
  }
  seen = await receiver.call('count')
  check(side.name, seen, opts.count)
  const perSecond = opts.count / (ms / 1000)
  const tputCpu = { sender: tputSenderCpu / opts.count, receiver: seen.cpuMicros / opts.count }

  console.log(`  round ${round} ${label.padEnd(18)} p50 ${fmt(lat.p50)} ms  p99 ${fmt(lat.p99)} ms  ` +
    `${Math.round(perSecond).toLocaleString('en-US').padStart(7)} msg/s  (${opts.count} in ${(ms / 1000).toFixed(2)} s; ` +
    `CPU µs/msg send ${Math.round(tputCpu.sender)} recv ${Math.round(tputCpu.receiver)})`)
  return { round, samples, legSamples, latency: lat, latencyCpuMicrosPerMsg: latCpu, throughput: { messages: opts.count, ms, perSecond, received: counted(seen, side.name), cpuMicrosPerMsg: tputCpu } }
}

/** An untimed pass over both phases, checked like the real ones. */
async function warmUp (receiver, side) {
  await receiver.call('reset')
  await withTimeout(side.latency(opts.warmup), PHASE_TIMEOUT_MS, `${side.name} warm-up latency`)
  await withTimeout(side.throughput(opts.countWarmup, opts.window), PHASE_TIMEOUT_MS, `${side.name} warm-up throughput`)
  check(side.name, await receiver.call('count'), opts.warmup + opts.countWarmup)
}

/** The receiver got exactly what we sent: the numbers count real deliveries only. */
/** The receiver counts both Kith modes under `kith`. */
function counted (seen, name) {
  return seen[name === 'raw' ? 'raw' : 'kith']
}

function check (name, seen, expected) {
  const got = counted(seen, name)
  const bad = name === 'raw' ? seen.rawBad : seen.kithBad
  if (got !== expected || bad !== 0) throw new Error(`${name}: receiver counted ${got} (${bad} malformed), expected ${expected}`)
}

/** Which code was measured: the commit, and whether the work tree had changes on top of it. */
function gitState () {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no', '--', 'packages', 'apps').length > 0 }
  } catch {
    return undefined
  }
}

function fmt (ms) { return ms.toFixed(3).padStart(7) }

let profiler
const profiles = []

async function main () {
  const started = Date.now()
  const cpus = os.cpus()
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    // Anything else running skews the numbers on a small machine: keep a trace of it.
    loadAverageAtStart: os.loadavg().map(x => Math.round(x * 100) / 100)
  }
  const code = gitState()
  const sizes = await kithWireSizes(opts.size)
  console.log(`Kith DM benchmark: ${opts.size}-byte text = ${sizes.frameBytes}-byte envelope, ${sizes.ackBytes}-byte ack; ` +
    `window ${opts.window}; latency ${opts.latencyCount} (+${opts.warmup} warm-up), throughput ${opts.count} (+${opts.countWarmup} warm-up); ${opts.rounds} round(s)`)
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.os}`)

  const receiver = new ChildProcess(join(HERE, 'dm-receiver.js'), 'receiver')
  const dirs = []
  const sides = {}
  const runs = { raw: [], 'kith-clear': [], 'kith-nosync': [], kith: [], 'kith-at-rest': [] }
  let failed = false
  const onSignal = () => {
    failed = true
    // Stopping a node that never came up can hang: give cleanup a few seconds, then go anyway.
    setTimeout(() => process.exit(130), 5000).unref()
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  async function cleanup () {
    await Promise.allSettled(Object.values(sides).map(s => s.stop()))
    await receiver.stop()
    await Promise.allSettled(dirs.map(d => rm(d, { recursive: true, force: true })))
  }

  try {
    await receiver.start()
    if (opts.only !== 'kith') sides.raw = await setupRaw(receiver, sizes)
    if (opts.only !== 'raw') sides['kith-clear'] = await setupKith(receiver, dirs, 'clear')
    if (opts.only !== 'raw') sides['kith-nosync'] = await setupKith(receiver, dirs, 'e2ee-nosync')
    if (opts.only !== 'raw') sides.kith = await setupKith(receiver, dirs, 'e2ee')
    if (opts.only !== 'raw') sides['kith-at-rest'] = await setupKith(receiver, dirs, 'e2ee-at-rest')
    const order = Object.keys(sides)
    // Warm both processes up first (JIT tiers, V8 background compiles, LevelDB files): on a
    // small machine a cold first round has scattered multi-ms stalls that are no one's fault.
    if (opts.warmupRound) {
      const t0 = Date.now()
      for (const name of order) await warmUp(receiver, sides[name])
      console.log(`  warm-up round (not counted): ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    }
    for (let round = 1; round <= opts.rounds; round++) {
      // Alternate who goes first, so neither always runs on a warmer (or more fragmented) process.
      const names = round % 2 === 1 ? order : [...order].reverse()
      for (const name of names) runs[name].push(await measure(receiver, sides[name], round, sizes))
    }
  } catch (err) {
    failed = true
    console.error(err)
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (failed) { process.exitCode = 1; return }

  const results = {}
  for (const [name, list] of Object.entries(runs)) {
    if (list.length === 0) continue
    const lat = summarize(list.flatMap(r => r.samples))
    const perSecond = list.reduce((a, r) => a + r.throughput.perSecond, 0) / list.length
    const mean = (f) => list.reduce((a, r) => a + f(r), 0) / list.length
    const leg = (k) => summarize(list.flatMap(r => r.legSamples[k]))
    results[name] = {
      latencyMs: lat,
      latencyLegsMs: { sendToDurable: name === 'raw' ? null : leg('toDurable'), durableToReceiver: leg('toReceiver'), receiverToAcked: leg('backToSender') },
      messagesPerSecond: perSecond,
      cpuMicrosPerMessage: {
        latency: { sender: mean(r => r.latencyCpuMicrosPerMsg.sender), receiver: mean(r => r.latencyCpuMicrosPerMsg.receiver) },
        throughput: { sender: mean(r => r.throughput.cpuMicrosPerMsg.sender), receiver: mean(r => r.throughput.cpuMicrosPerMsg.receiver) }
      },
      rounds: list.map(r => ({ round: r.round, latencyMs: r.latency, messagesPerSecond: r.throughput.perSecond, throughputMs: r.throughput.ms, received: r.throughput.received }))
    }
  }

  console.log('')
  const rows = [['', 'p50 ms', 'p99 ms', 'mean ms', 'msgs/s', 'CPU µs/msg send+recv']]
  for (const [name, r] of Object.entries(results)) {
    const cpu = r.cpuMicrosPerMessage.throughput
    rows.push([LABELS[name], r.latencyMs.p50.toFixed(3), r.latencyMs.p99.toFixed(3), r.latencyMs.mean.toFixed(3),
      Math.round(r.messagesPerSecond).toLocaleString('en-US'), `${Math.round(cpu.sender)} + ${Math.round(cpu.receiver)}`])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  for (const row of rows) console.log(row.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('   '))

  console.log('')
  console.log('where a round trip goes (latency runs; p50 / p99 ms):')
  const legRows = [['', 'send() -> durable', '-> at receiver', 'receiver -> delivered']]
  for (const [name, r] of Object.entries(results)) {
    const f = (x) => `${x.p50.toFixed(3)} / ${x.p99.toFixed(3)}`
    const l = r.latencyLegsMs
    legRows.push([LABELS[name], name === 'raw' ? '-' : f(l.sendToDurable), f(l.durableToReceiver), f(l.receiverToAcked)])
  }
  const legWidths = legRows[0].map((_, i) => Math.max(...legRows.map(r => r[i].length)))
  for (const row of legRows) console.log(row.map((c, i) => i === 0 ? c.padEnd(legWidths[i]) : c.padStart(legWidths[i])).join('   '))

  let ratios
  if (results.raw != null && results.kith != null) {
    ratios = {
      p50: results.kith.latencyMs.p50 / results.raw.latencyMs.p50,
      p99: results.kith.latencyMs.p99 / results.raw.latencyMs.p99,
      throughput: results.kith.messagesPerSecond / results.raw.messagesPerSecond
    }
    const ok = (b) => b ? 'met' : 'MISSED'
    console.log('')
    console.log(`kith p99 / raw p99        = ${ratios.p99.toFixed(2)}x   (target <= 2x: ${ok(ratios.p99 <= 2)})`)
    console.log(`kith msgs/s / raw msgs/s  = ${(ratios.throughput * 100).toFixed(1)}%  (target >= 50%: ${ok(ratios.throughput >= 0.5)})`)
    console.log(`kith p50 / raw p50        = ${ratios.p50.toFixed(2)}x`)
  }
  if (results.raw != null && results['kith-clear'] != null) {
    const clear = results['kith-clear']
    ratios = { ...ratios, signedP99: clear.latencyMs.p99 / results.raw.latencyMs.p99, signedThroughput: clear.messagesPerSecond / results.raw.messagesPerSecond }
    console.log(`signed p99 / raw p99      = ${ratios.signedP99.toFixed(2)}x   (the 1:1 issue's path)`)
    console.log(`signed msgs/s / raw msgs/s = ${(ratios.signedThroughput * 100).toFixed(1)}%`)
  }
  if (results.kith != null && results['kith-clear'] != null) {
    ratios = { ...ratios, e2eeVsClearThroughput: results.kith.messagesPerSecond / results['kith-clear'].messagesPerSecond }
    console.log(`E2EE msgs/s / signed msgs/s = ${(ratios.e2eeVsClearThroughput * 100).toFixed(1)}%  (target >= 80%: ${ratios.e2eeVsClearThroughput >= 0.8 ? 'met' : 'MISSED'})`)
  }
  if (results.kith != null && results['kith-nosync'] != null) {
    const before = results['kith-nosync']
    ratios = { ...ratios, syncedVsUnsyncedThroughput: results.kith.messagesPerSecond / before.messagesPerSecond, syncedVsUnsyncedP99: results.kith.latencyMs.p99 / before.latencyMs.p99 }
    console.log(`E2EE synced / not synced: msgs/s ${(ratios.syncedVsUnsyncedThroughput * 100).toFixed(1)}%, p50 ${(results.kith.latencyMs.p50 / before.latencyMs.p50).toFixed(2)}x, p99 ${ratios.syncedVsUnsyncedP99.toFixed(2)}x  (the cost of fsync before acking)`)
  }
  if (results['kith-at-rest'] != null && results['kith-clear'] != null) {
    ratios = { ...ratios, atRestVsClearThroughput: results['kith-at-rest'].messagesPerSecond / results['kith-clear'].messagesPerSecond }
    console.log(`E2EE + at rest msgs/s / signed msgs/s = ${(ratios.atRestVsClearThroughput * 100).toFixed(1)}%`)
  }
  if (profiles.length > 0) {
    console.log('')
    console.log('CPU profiles of the throughput runs (summarize with bench/prof-summary.js):')
    for (const p of profiles) console.log(`  node bench/prof-summary.js ${p}`)
  }

  const out = {
    benchmark: 'kith-dm',
    timestamp: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine,
    code,
    params: {
      textBytes: opts.size,
      envelopeBytes: sizes.frameBytes,
      ackBytes: sizes.ackBytes,
      rawFrame: `${sizes.frameBytes} bytes (the size of a Kith envelope for the same text): 16-byte id + filler; ack: the id padded to ${sizes.ackBytes} bytes`,
      latencyCount: opts.latencyCount,
      warmup: opts.warmup,
      throughputWarmup: opts.countWarmup,
      warmupRound: opts.warmupRound,
      kithAddressedBy: opts.kithTo,
      throughputCount: opts.count,
      rounds: opts.rounds,
      window: opts.window,
      kithInflight: opts.kithInflight === 0 ? 'unbounded' : opts.kithInflight,
      transport: 'TCP on 127.0.0.1, Noise, yamux; sender and receiver in separate processes',
      kithStore: 'LevelDB (classic-level) in a temp dir on each side',
      profiled: opts.profile
    },
    results,
    ratios,
    targets: ratios == null ? undefined : { p99WithinTwiceRaw: ratios.p99 <= 2, throughputAtLeastHalfRaw: ratios.throughput >= 0.5 }
  }
  if (!flags['no-save'] && !opts.profile) {
    await mkdir(RESULTS, { recursive: true })
    const file = join(RESULTS, `dm-${out.timestamp.replace(/[:.]/g, '-')}.json`)
    const json = JSON.stringify(out, (_k, v) => typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e4) / 1e4 : v, 2) + '\n'
    await writeFile(file, json)
    await writeFile(join(RESULTS, 'dm-latest.json'), json)
    console.log(`\nwrote ${file.slice(ROOT.length + 1)} and bench/results/dm-latest.json (${out.durationSeconds.toFixed(0)} s)`)
  }
}

await main()
