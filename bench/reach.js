// "Reach anyone" in numbers: each Kith path next to the raw libp2p floor for the same bytes,
// measured in the same run.
//
//   npm run bench:reach                                   # setup, then the defaults (~2-3 min on 2 cores)
//   node --import @kith/core/polyfill bench/reach.js --messages 200 --envelopes 1000 --dht-nodes 20 --lookups 10
//   node --import @kith/core/polyfill bench/reach.js --help
//
// 1. Relayed vs direct. Three processes on loopback TCP: this one (alice), a forked relay R
//    (bench/reach-peer.js: a Kith node with `relay: {}`, `public: true`) and a forked bob
//    (bench/reach-peer.js). Two alice/bob pairs of Kith nodes (LevelDB stores, E2EE): `direct`
//    (both listen on 127.0.0.1, alice dials bob) and `relayed` (neither listens: two devices
//    behind NATs, both friends of R holding a reservation on it; alice knows bob only by his
//    circuit address /ip4/127.0.0.1/tcp/RPORT/p2p/R/p2p-circuit/p2p/BOB, from his invite).
//    Neither may listen on loopback: DCUtR never upgrades there (it dials public addresses
//    only), but libp2p opens a stream by peer id on a limited connection only when no other
//    will do, so once identify has told bob alice's TCP address he dials it to answer her, and
//    the pair is direct within a second. Every connection alice has to the relayed bob is
//    checked, all along, to be a /p2p-circuit one (the run fails otherwise). For each pair:
//    latency (one message at a time: send() until alice's 'message:status' says delivered, i.e.
//    the round trip through bob's ack) and throughput (M messages back to back, 256 unacked in
//    flight as Kith's default, until all are delivered). Floor on the same connections: a bare
//    protocol on bob (runOnLimitedConnection), frames of the Kith envelope's size, each answered
//    with a frame of the Kith ack's size. Rounds alternate the order of the four sides.
// 2. Mailbox. Bob (relayed) makes R his mailbox and stops; alice sends E texts: the deposit rate
//    runs from the first send() until all E are `stored` in alice's history. Then bob starts
//    again (same keys, same store; alice is stopped first, so only the mailbox can deliver) and
//    the drain runs until his history holds the E texts. Floors: the same envelope sizes over a
//    bare stream alice -> R and R -> bob, and R's MailboxStore on LevelDB without the network
//    (deposits of 64 envelopes, fetches of 100 and their acks, as the protocol does).
// 3. Presence lookups. N bare libp2p nodes in this process on the in-memory transport (Noise,
//    yamux, identify, ping, kad-dht as Kith configures it), each dialling a few random others.
//    Presence records for some identities are published from random nodes; then lookupPresence
//    from random other nodes, interleaved with the floor: kad-dht findPeer (useCache: false, so
//    it always asks the network) of random peers.
//
// Results: tables as it goes, a markdown summary at the end, and the same numbers as JSON in
// bench/results/reach-<timestamp>.json and reach-latest.json (`--json` prints the JSON on stdout
// and everything else on stderr).
import '@kith/core/polyfill'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { setMaxListeners } from 'node:events'
import { createLibp2p } from 'libp2p'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { Level } from 'level'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { Ack, AckStatus, KAD_PROTOCOL, decodeInvite } from '@kith/core'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { createKithNode } from '@kith/node'
import { openStore } from '@kith/store'
import { MAILBOX_LIMITS, MailboxStore } from '@kith/mailbox'
import { lookupPresence, nextPresenceSeq, presenceDhtOptions, publishPresence, signPresence } from '@kith/presence'
import { multiaddr } from '@multiformats/multiaddr'
import { ChildProcess, ID_BYTES, Signal, cpuSince, now, rawFrame, sameBytes, summarize, textOf, withTimeout } from './lib.js'
import { RAW_ECHO, RAW_SINK } from './reach-peer.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..')
const RESULTS = join(HERE, 'results')
const PHASE_TIMEOUT_MS = 120_000
const SECTIONS = ['relay', 'mailbox', 'dht']

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    'latency-messages': { type: 'string' },
    warmup: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    size: { type: 'string', default: '256' },
    window: { type: 'string', default: '256' },
    'kith-inflight': { type: 'string', default: '1024' },
    envelopes: { type: 'string', default: '10000' },
    'dht-nodes': { type: 'string', default: '50' },
    'dht-degree': { type: 'string', default: '4' },
    identities: { type: 'string', default: '10' },
    lookups: { type: 'string', default: '50' },
    only: { type: 'string', default: SECTIONS.join(',') },
    json: { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (flags.help) {
  console.log(`usage: node --import @kith/core/polyfill bench/reach.js [options]
 relayed vs direct:
  --messages M          messages per throughput run (default 2000)
  --latency-messages N  round trips per latency run (default M/4)
  --warmup W            untimed round trips per side first, plus M/4 throughput (default 200)
  --rounds R            rounds of the four sides, alternating their order (default 2)
  --size S              text bytes (default 256); raw frames have the Kith envelope's size
  --window W            unacked frames in flight, raw and Kith (default 256, Kith's default)
  --kith-inflight K     Kith throughput: at most K messages queued but not yet delivered (default 1024)
 mailbox:
  --envelopes E         texts sent to bob while he is offline (default 10000)
 presence:
  --dht-nodes N         DHT nodes in this process, in-memory transport (default 50)
  --dht-degree D        random peers each node dials (default 4)
  --identities I        presence records published (default 10)
  --lookups K           presence lookups, and as many findPeer (default 50)
 output:
  --only LIST           sections to run, from relay,mailbox,dht (default all)
  --json                print the results as JSON on stdout (tables go to stderr)
  --no-save             do not write bench/results/`)
  process.exit(0)
}
const opts = {
  messages: int('messages'),
  warmup: int('warmup'),
  rounds: int('rounds'),
  size: int('size'),
  window: int('window'),
  kithInflight: int('kith-inflight'),
  envelopes: int('envelopes'),
  dhtNodes: int('dht-nodes'),
  dhtDegree: int('dht-degree'),
  identities: int('identities'),
  lookups: int('lookups'),
  only: new Set(flags.only.split(',').map(s => s.trim()).filter(s => s !== ''))
}
opts.latencyMessages = flags['latency-messages'] != null ? int('latency-messages') : Math.max(1, Math.round(opts.messages / 4))
for (const name of ['messages', 'rounds', 'envelopes', 'identities', 'lookups', 'window']) if (opts[name] < 1) throw new RangeError(`--${name} must be at least 1`)
for (const s of opts.only) if (!SECTIONS.includes(s)) throw new RangeError(`--only: unknown section ${s} (${SECTIONS.join(', ')})`)
if (opts.size < 6 || opts.size > 16 * 1024) throw new RangeError('--size must be 6..16384')
if (opts.dhtNodes < 3 || opts.identities < 1 || opts.identities >= opts.dhtNodes) throw new RangeError('--dht-nodes must be at least 3 and more than --identities')
if (opts.dhtDegree < 1 || opts.dhtDegree >= opts.dhtNodes) throw new RangeError('--dht-degree must be 1..dht-nodes - 1')

function int (name) {
  const n = Number(flags[name])
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a whole number`)
  return n
}

/** Human output: stdout, or stderr when stdout carries the JSON. */
const say = flags.json ? (...args) => console.error(...args) : (...args) => console.log(...args)
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))


/** Poll until `check()` is truthy. */
async function until (check, timeoutMs, what, everyMs = 50) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** The next event `name` from a child that matches. */
async function childEvent (child, name, match) {
  while (true) {
    const msg = await child.once(name)
    if (match(msg)) return msg
  }
}

const ms = (x) => x == null ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)
const rate = (x) => x == null ? '-' : Math.round(x).toLocaleString('en-US')
const ratio = (a, b) => a == null || b == null || b === 0 ? undefined : a / b
const times = (x) => x == null ? '-' : `${x.toFixed(2)}x`

/** Print rows as an aligned table: first column left, the rest right. */
function table (rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => String(r[i]).length)))
  for (const row of rows) say('  ' + row.map((c, i) => i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])).join('   '))
}

// ---- state, and cleanup whatever happens ----

const dirs = []
/** Kith nodes of this process, with their stores. */
const alices = new Map()
let dhtNodes = []
const relay = new ChildProcess(join(HERE, 'reach-peer.js'), 'relay')
const bob = new ChildProcess(join(HERE, 'reach-peer.js'), 'bob')

/** A node's stop waits for a presence publish under way (up to 30 s): give up after this long. */
const STOP_GRACE_MS = 5_000
let cleaning
/** Stop everything (each part within its grace period) and remove the temp dirs; once. */
function cleanup () {
  cleaning ??= (async () => {
    const dht = dhtNodes
    dhtNodes = []
    await Promise.allSettled([
      ...[...alices.keys()].map(stopAlice),
      Promise.race([Promise.allSettled(dht.map(n => n.stop())), sleep(STOP_GRACE_MS)]),
      relay.stop(),
      bob.stop()
    ])
    await Promise.allSettled(dirs.map(d => rm(d, { recursive: true, force: true, maxRetries: 3 })))
  })()
  return cleaning
}

async function startAlice (name, listen) {
  const dir = await mkdtemp(join(os.tmpdir(), 'kith-bench-reach-alice-'))
  dirs.push(dir)
  const store = await openStore(join(dir, 'db'))
  try {
    const node = await createKithNode({ privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey(), name, store, listen, mdns: false, messaging: { window: opts.window } })
    alices.set(name, { node, store })
    return node
  } catch (err) {
    await store.close()
    throw err
  }
}

/** Stop one of our nodes within STOP_GRACE_MS (then close its store under it); how long it took. */
async function stopAlice (name) {
  const entry = alices.get(name)
  if (entry == null) return undefined
  alices.delete(name)
  const t0 = Date.now()
  const stopped = await Promise.race([entry.node.stop().then(() => true, () => true), sleep(STOP_GRACE_MS).then(() => false)])
  await entry.store.close().catch(() => {})
  return stopped ? { ms: Date.now() - t0 } : { timedOutAfterMs: STOP_GRACE_MS }
}

// ---- section 1: relayed vs direct ----

const SIDE_LABELS = {
  'raw-direct': 'raw stream, direct',
  'kith-direct': 'kith, direct',
  'raw-relayed': 'raw stream, via R',
  'kith-relayed': 'kith, via R'
}

/** Kith's ack on the wire, for the raw floor's answers. */
const ACK_BYTES = Ack.encode({ id: new Uint8Array(ID_BYTES), status: AckStatus.OK }).length

/** Bob invites, alice accepts; resolves when both are quiet (nothing pending, key packages held). */
async function befriendBob (which, alice) {
  const { code } = await bob.call('bob:invite', { which })
  const bobPeer = decodeInvite(code)
  const seen = childEvent(bob, 'contact', m => m.node === `bob-${which}` && m.peerId === alice.peerId.toString())
  await alice.acceptInvite(code, 'bob')
  await withTimeout(seen, 20_000, `bob (${which}) seeing alice's introduction`)
  const bobId = (await alice.resolveContact('bob')).peerId
  await until(async () => {
    const theirs = await bob.call('bob:settled', { which, peer: alice.peerId.toString() })
    return alice.messaging.pending() === 0 && await alice.groups.canAdd(bobId) && theirs.pending === 0 && theirs.holdsKeyPackage
  }, 30_000, `alice and bob (${which}) to settle`)
  return { bobId, inviteAddrs: bobPeer.addrs.map(a => multiaddr(a).toString()) }
}

/** Kith: send() and the delivered status, as dm.js measures it. */
function kithSide (name, alice, to) {
  const waiters = new Map()
  const early = new Set()
  let onDelivered = null
  let refused = 0
  let seq = 0
  alice.addEventListener('message:status', (evt) => {
    const record = evt.detail
    if (record.conversation !== to) return
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
  const check = () => { if (refused > 0) throw new Error(`${name}: ${refused} messages refused`) }

  return {
    name,
    /** The envelope's byte size, read from the outbox before the ack settles it (tries a few times). */
    async envelopeBytes () {
      const sizes = []
      for (let i = 0; i < 200 && sizes.length < 5; i++) {
        const record = await alice.send(to, textOf(seq++, opts.size))
        const entry = (await alice.store.pendingOutbox(to)).find(e => e.id === record.id)
        if (entry != null) sizes.push(entry.envelope.length)
        await delivered(record.id)
      }
      if (sizes.length === 0) throw new Error(`${name}: never caught an envelope in the outbox`)
      // The most common size (they are all the same once the session is set up).
      const counted = new Map()
      for (const size of sizes) counted.set(size, (counted.get(size) ?? 0) + 1)
      return { frameBytes: [...counted].sort((a, b) => b[1] - a[1])[0][0], sizes }
    },
    async latency (count) {
      const samples = []
      for (let i = 0; i < count; i++) {
        const text = textOf(seq++, opts.size)
        const sent = now()
        const record = await alice.send(to, text)
        await delivered(record.id)
        samples.push(now() - sent)
      }
      check()
      return samples
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
        while (submitted < count) {
          const room = Math.min(opts.window, count - submitted, cap - (submitted - settled))
          if (room <= 0) { await progress.wait(); continue }
          const chunk = []
          for (let i = 0; i < room; i++) chunk.push(alice.send(to, textOf(seq++, opts.size)))
          submitted += room
          await Promise.all(chunk)
        }
        await done
        return now() - t0
      } finally {
        onDelivered = null
        check()
      }
    }
  }
}

/** The floor: a bare stream to bob's echo protocol on the same connection(s). */
async function rawSide (name, alice, to, frameBytes) {
  const stream = await alice.libp2p.dialProtocol(peerIdFromString(to), RAW_ECHO, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
  const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
  const filler = new Uint8Array(randomBytes(frameBytes))
  return {
    name,
    async latency (count) {
      const samples = []
      for (let i = 0; i < count; i++) {
        const frame = rawFrame(frameBytes, filler)
        const sent = now()
        await lp.write(frame)
        const ack = await lp.read()
        samples.push(now() - sent)
        if (!sameBytes(ack.subarray(0, ID_BYTES), frame.subarray(0, ID_BYTES))) throw new Error(`${name}: ack for the wrong frame`)
      }
      return samples
    },
    async throughput (count) {
      const inFlight = []
      let head = 0
      let acked = 0
      const progress = new Signal()
      const t0 = now()
      const reader = (async () => {
        while (acked < count) {
          const ack = await lp.read()
          if (head >= inFlight.length || !sameBytes(ack.subarray(0, ID_BYTES), inFlight[head])) throw new Error(`${name}: ack out of order`)
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
        const room = Math.min(opts.window - (sent - acked), count - sent)
        if (room <= 0) { await progress.wait(); continue }
        const batch = []
        for (let i = 0; i < room; i++) {
          const frame = rawFrame(frameBytes, filler)
          inFlight.push(frame.subarray(0, ID_BYTES))
          batch.push(frame)
        }
        sent += room
        await lp.writeV(batch)
      }
      await reader
      return now() - t0
    },
    async close () { await stream.close().catch(() => stream.abort(new Error('closing'))) }
  }
}

/**
 * Watch every connection alice has to the relayed bob: any that is not a circuit is a failure
 * of the measurement (an upgrade by DCUtR, or a direct dial), so it is recorded and reported.
 */
function watchCircuit (alice, bobId) {
  const seen = new Map()
  const note = (c) => { seen.set(c.id, { addr: c.remoteAddr.toString(), direction: c.direction, limited: c.limits != null }) }
  const look = () => { for (const c of alice.libp2p.getConnections(peerIdFromString(bobId))) note(c) }
  // Connections that open and close between two looks are caught by the event.
  const onOpen = (evt) => { if (evt.detail.remotePeer.toString() === bobId) note(evt.detail) }
  alice.libp2p.addEventListener('connection:open', onOpen)
  look()
  const timer = setInterval(look, 100)
  return {
    stop () { clearInterval(timer); alice.libp2p.removeEventListener('connection:open', onOpen); look() },
    report () {
      const all = [...seen.values()]
      return {
        connections: all.length,
        outbound: all.filter(c => c.direction === 'outbound').length,
        direct: all.filter(c => !c.addr.includes('/p2p-circuit')).map(c => c.addr),
        limited: all.every(c => c.limited),
        addrs: [...new Set(all.map(c => c.addr))]
      }
    }
  }
}

async function sectionRelay (ctx) {
  const { sides } = ctx
  const results = {}
  const which = (side) => side.endsWith('relayed') ? 'relayed' : 'direct'
  const runs = Object.fromEntries(Object.keys(SIDE_LABELS).map(k => [k, []]))
  const throughputWarmup = Math.max(1, Math.round(opts.messages / 4))

  async function measure (key, round) {
    const side = sides[key]
    const w = which(key)
    const kind = key.startsWith('raw') ? 'raw' : 'kith'
    await Promise.all([bob.call('reset'), relay.call('reset')])
    const samples = await withTimeout(side.latency(opts.latencyMessages), PHASE_TIMEOUT_MS, `${key} latency`)
    let seen = await bob.call('count')
    if (seen[w][kind] !== opts.latencyMessages || seen[w].bad + seen[w].rawBad !== 0) throw new Error(`${key}: bob counted ${seen[w][kind]} of ${opts.latencyMessages} (latency)`)
    await Promise.all([bob.call('reset'), relay.call('reset')])
    const cpu = process.cpuUsage()
    const elapsed = await withTimeout(side.throughput(opts.messages), PHASE_TIMEOUT_MS, `${key} throughput`)
    const aliceCpu = cpuSince(cpu)
    const [bobSeen, relaySeen] = await Promise.all([bob.call('count'), relay.call('count')])
    seen = bobSeen
    if (seen[w][kind] !== opts.messages || seen[w].bad + seen[w].rawBad !== 0) throw new Error(`${key}: bob counted ${seen[w][kind]} of ${opts.messages} (throughput)`)
    const perSecond = opts.messages / (elapsed / 1000)
    const cpuPerMsg = { alice: aliceCpu / opts.messages, bob: seen.cpuMicros / opts.messages, relay: relaySeen.cpuMicros / opts.messages }
    const lat = summarize(samples)
    say(`  round ${round} ${SIDE_LABELS[key].padEnd(19)} p50 ${ms(lat.p50).padStart(6)} ms  p99 ${ms(lat.p99).padStart(6)} ms  ${rate(perSecond).padStart(7)} msg/s  ` +
      `(CPU µs/msg alice ${Math.round(cpuPerMsg.alice)} bob ${Math.round(cpuPerMsg.bob)} relay ${Math.round(cpuPerMsg.relay)})`)
    runs[key].push({ round, samples, latency: lat, perSecond, ms: elapsed, cpuPerMsg })
  }

  const order = Object.keys(SIDE_LABELS)
  say(`\n1. relayed vs direct: ${opts.size}-byte text = ${ctx.frameBytes}-byte envelope, ${ACK_BYTES}-byte ack; latency ${opts.latencyMessages} round trips, throughput ${opts.messages} messages (window ${opts.window}); ${opts.rounds} round(s)`)
  const t0 = Date.now()
  for (const key of order) {
    await withTimeout(sides[key].latency(opts.warmup), PHASE_TIMEOUT_MS, `${key} warm-up`)
    await withTimeout(sides[key].throughput(throughputWarmup), PHASE_TIMEOUT_MS, `${key} warm-up`)
  }
  say(`  warm-up (not counted): ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  for (let round = 1; round <= opts.rounds; round++) {
    for (const key of (round % 2 === 1 ? order : [...order].reverse())) await measure(key, round)
  }
  ctx.watch.stop()
  const circuit = ctx.watch.report()
  const bobSide = await bob.call('bob:conns', { which: 'relayed', peer: ctx.aliceRelayed.peerId.toString() })
  const bobDirect = bobSide.conns.filter(c => !c.addr.includes('/p2p-circuit'))
  if (circuit.direct.length > 0 || bobDirect.length > 0) throw new Error(`the relayed pair got a direct connection: ${JSON.stringify({ alice: circuit.direct, bob: bobDirect })}`)

  for (const [key, list] of Object.entries(runs)) {
    if (list.length === 0) continue
    const mean = (f) => list.reduce((a, r) => a + f(r), 0) / list.length
    results[key] = {
      latencyMs: summarize(list.flatMap(r => r.samples)),
      messagesPerSecond: mean(r => r.perSecond),
      cpuMicrosPerMessage: { alice: mean(r => r.cpuPerMsg.alice), bob: mean(r => r.cpuPerMsg.bob), relay: mean(r => r.cpuPerMsg.relay) },
      rounds: list.map(r => ({ round: r.round, latencyMs: r.latency, messagesPerSecond: r.perSecond, throughputMs: r.ms }))
    }
  }
  say('')
  const rows = [['all rounds', 'p50 ms', 'p99 ms', 'mean ms', 'msgs/s', 'CPU µs/msg alice+bob+relay']]
  for (const [key, r] of Object.entries(results)) {
    const c = r.cpuMicrosPerMessage
    rows.push([SIDE_LABELS[key], ms(r.latencyMs.p50), ms(r.latencyMs.p99), ms(r.latencyMs.mean), rate(r.messagesPerSecond), `${Math.round(c.alice)} + ${Math.round(c.bob)} + ${Math.round(c.relay)}`])
  }
  table(rows)
  const ratios = {
    kithRelayedOverDirectP50: ratio(results['kith-relayed']?.latencyMs.p50, results['kith-direct']?.latencyMs.p50),
    kithRelayedOverDirectP99: ratio(results['kith-relayed']?.latencyMs.p99, results['kith-direct']?.latencyMs.p99),
    kithRelayedOverDirectThroughput: ratio(results['kith-relayed']?.messagesPerSecond, results['kith-direct']?.messagesPerSecond),
    rawRelayedOverDirectP50: ratio(results['raw-relayed']?.latencyMs.p50, results['raw-direct']?.latencyMs.p50),
    rawRelayedOverDirectThroughput: ratio(results['raw-relayed']?.messagesPerSecond, results['raw-direct']?.messagesPerSecond),
    kithOverRawRelayedP50: ratio(results['kith-relayed']?.latencyMs.p50, results['raw-relayed']?.latencyMs.p50),
    kithOverRawRelayedP99: ratio(results['kith-relayed']?.latencyMs.p99, results['raw-relayed']?.latencyMs.p99),
    kithOverRawRelayedThroughput: ratio(results['kith-relayed']?.messagesPerSecond, results['raw-relayed']?.messagesPerSecond),
    kithOverRawDirectP99: ratio(results['kith-direct']?.latencyMs.p99, results['raw-direct']?.latencyMs.p99),
    kithOverRawDirectThroughput: ratio(results['kith-direct']?.messagesPerSecond, results['raw-direct']?.messagesPerSecond)
  }
  say('')
  say(`  relayed / direct, kith: p50 ${times(ratios.kithRelayedOverDirectP50)}, p99 ${times(ratios.kithRelayedOverDirectP99)}, throughput ${times(ratios.kithRelayedOverDirectThroughput)}`)
  say(`  relayed / direct, raw:  p50 ${times(ratios.rawRelayedOverDirectP50)}, throughput ${times(ratios.rawRelayedOverDirectThroughput)}`)
  say(`  kith / raw, via R:      p50 ${times(ratios.kithOverRawRelayedP50)}, p99 ${times(ratios.kithOverRawRelayedP99)}, throughput ${times(ratios.kithOverRawRelayedThroughput)}`)
  say(`  connections alice had to the relayed bob: ${circuit.connections} (${circuit.outbound} dialled by her), all /p2p-circuit${circuit.limited ? ' and limited' : ''}: ${circuit.addrs.join(', ')}`)
  return { results, ratios, circuit }
}

// ---- section 2: mailbox ----

async function sectionMailbox (ctx) {
  const E = opts.envelopes
  const alice = ctx.aliceRelayed
  const bobId = ctx.bobRelayed
  const prefix = 'mail '
  const timeoutMs = Math.max(60_000, E * 20)
  say(`\n2. mailbox: ${E} texts of ${opts.size} bytes for bob while he is offline, held by R`)

  const registered = await bob.call('bob:mailbox', { relay: ctx.relayId })
  if (!registered.status.mailboxes.includes(ctx.relayId)) throw new Error('bob could not make R his mailbox')
  await bob.call('bob:stop-relayed')
  await until(() => alice.libp2p.getConnections(peerIdFromString(bobId)).length === 0, 10_000, 'alice to see bob go')

  // Deposit: send everything; the outbox finds bob unreachable, looks him up, and hands the
  // envelopes to R. Time every call into the mailbox client too.
  const deposits = []
  const deposit = alice.reach.deposit.bind(alice.reach)
  alice.reach.deposit = async (peer, envelopes) => {
    const t = now()
    try {
      return await deposit(peer, envelopes)
    } finally {
      deposits.push({ envelopes: envelopes.length, ms: now() - t })
    }
  }
  const stored = new Set()
  let allStored
  const storedAll = new Promise(resolve => { allStored = resolve })
  alice.addEventListener('message:status', (evt) => {
    if (evt.detail.conversation !== bobId || evt.detail.status !== 'stored') return
    stored.add(evt.detail.id)
    if (stored.size === E) allStored(now())
  })
  const cpu = process.cpuUsage()
  await relay.call('reset')
  const t0 = now()
  const ids = new Set()
  for (let i = 0; i < E; i += opts.window) {
    const chunk = []
    for (let j = i; j < Math.min(E, i + opts.window); j++) chunk.push(alice.send(bobId, prefix + textOf(j, opts.size - prefix.length)))
    for (const record of await Promise.all(chunk)) ids.add(record.id)
  }
  const sent = now()
  const done = await withTimeout(storedAll, timeoutMs, `all ${E} envelopes stored (${stored.size} so far)`)
  const depositCpu = { alice: cpuSince(cpu), relay: (await relay.call('count')).cpuMicros }
  delete alice.reach.deposit // back to Reach's own method
  const history = (await latestHistory(alice, bobId, E)).filter(m => ids.has(m.id))
  if (history.length !== E || history.some(m => m.status !== 'stored' || !(m.mailboxes >= 1))) {
    const tally = {}
    for (const m of history) tally[`${m.status}/${m.mailboxes}`] = (tally[`${m.status}/${m.mailboxes}`] ?? 0) + 1
    throw new Error(`alice's history does not show ${E} stored messages: ${history.length} found, ${JSON.stringify(tally)}`)
  }
  const holding = (await relay.call('mailbox:stats')).holding
  if (holding?.envelopes !== E) throw new Error(`R holds ${holding?.envelopes} envelopes, expected ${E}`)
  const outbox = (await alice.store.pendingOutbox(bobId)).filter(e => ids.has(e.id))
  if (outbox.length !== E) throw new Error(`alice's outbox holds ${outbox.length} of the ${E} envelopes`)
  const envelopes = outbox.map(e => e.envelope)
  const sizes = envelopes.map(e => e.length)
  const bytes = sizes.reduce((a, b) => a + b, 0)
  const inDeposit = deposits.reduce((a, d) => a + d.ms, 0)
  const kithDeposit = {
    envelopes: E,
    envelopeBytes: { total: bytes, min: Math.min(...sizes), max: Math.max(...sizes) },
    sendMs: sent - t0,
    storedMs: done - t0,
    perSecond: E / ((done - t0) / 1000),
    depositCalls: deposits.length,
    envelopesPerCall: summarize(deposits.map(d => d.envelopes)),
    inDepositCallsMs: inDeposit,
    depositCallRate: E / (inDeposit / 1000),
    cpuMicrosPerEnvelope: { alice: depositCpu.alice / E, relay: depositCpu.relay / E }
  }
  say(`  kith deposit: ${E} stored in ${(kithDeposit.storedMs / 1000).toFixed(2)} s = ${rate(kithDeposit.perSecond)} envelopes/s ` +
    `(send() of all: ${(kithDeposit.sendMs / 1000).toFixed(2)} s; ${deposits.length} deposit calls, ${(inDeposit / 1000).toFixed(2)} s inside them = ${rate(kithDeposit.depositCallRate)}/s; ` +
    `CPU µs/envelope alice ${Math.round(kithDeposit.cpuMicrosPerEnvelope.alice)} relay ${Math.round(kithDeposit.cpuMicrosPerEnvelope.relay)})`)

  // Deposit floor: the same sizes over a bare stream alice -> R.
  const rawDeposit = await rawSink(alice, ctx.relayId, sizes)
  say(`  raw stream alice -> R: ${E} frames (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${(rawDeposit.ms / 1000).toFixed(2)} s = ${rate(rawDeposit.perSecond)} frames/s`)

  // Drain: only the mailbox can deliver now.
  ctx.stops['alice-relayed'] = await stopAlice('alice-relayed')
  await relay.call('source:sizes', { sizes })
  await relay.call('reset')
  const drained = await bob.call('bob:drain', { expect: E, prefix, alice: alice.peerId.toString(), timeoutMs })
  const relayDrainCpu = (await relay.call('count')).cpuMicros
  if (drained.received !== E || drained.inHistory !== E) throw new Error(`bob drained ${drained.received} and holds ${drained.inHistory} of ${E}`)
  const emptied = await until(async () => (await relay.call('mailbox:stats')).holding?.envelopes === 0 && now(), 30_000, 'R to empty bob\'s mailbox')
  const kithDrain = {
    envelopes: E,
    fromRestartMs: drained.done - drained.t0,
    nodeStartMs: drained.started - drained.t0,
    firstAfterMs: drained.first - drained.t0,
    perSecond: E / ((drained.done - drained.t0) / 1000),
    perSecondFromFirst: E / ((drained.done - drained.first) / 1000),
    mailboxEmptyWithinMs: emptied - drained.t0,
    cpuMicrosPerEnvelope: { bob: drained.cpuMicros / E, relay: relayDrainCpu / E }
  }
  say(`  kith drain: ${E} in bob's history ${(kithDrain.fromRestartMs / 1000).toFixed(2)} s after his restart = ${rate(kithDrain.perSecond)} envelopes/s ` +
    `(node up after ${(kithDrain.nodeStartMs / 1000).toFixed(2)} s, first text after ${(kithDrain.firstAfterMs / 1000).toFixed(2)} s; ${rate(kithDrain.perSecondFromFirst)}/s from the first; ` +
    `CPU µs/envelope bob ${Math.round(kithDrain.cpuMicrosPerEnvelope.bob)} relay ${Math.round(kithDrain.cpuMicrosPerEnvelope.relay)})`)

  // Drain floor: the same sizes over a bare stream R -> bob.
  const raw = await bob.call('raw:drain', { relay: ctx.relayId, count: E })
  const rawDrain = { ms: raw.done - raw.t0, perSecond: E / ((raw.done - raw.t0) / 1000), bytes: raw.bytes }
  say(`  raw stream R -> bob: ${E} frames in ${(rawDrain.ms / 1000).toFixed(2)} s = ${rate(rawDrain.perSecond)} frames/s`)

  // Storage floor: R's MailboxStore on LevelDB, no network.
  const storage = await storageFloor(envelopes, alice.peerId.toString(), bobId)
  say(`  MailboxStore on LevelDB: deposit ${rate(storage.deposit.perSecond)}/s (batches of 64), fetch + ack ${rate(storage.drain.perSecond)}/s (pages of 100)`)

  say('')
  table([
    ['', 'envelopes/s', 'time s'],
    ['kith deposit (send -> stored)', rate(kithDeposit.perSecond), (kithDeposit.storedMs / 1000).toFixed(2)],
    ['  of which inside deposit calls', rate(kithDeposit.depositCallRate), (inDeposit / 1000).toFixed(2)],
    ['raw stream alice -> R', rate(rawDeposit.perSecond), (rawDeposit.ms / 1000).toFixed(2)],
    ['MailboxStore deposit (LevelDB)', rate(storage.deposit.perSecond), (storage.deposit.ms / 1000).toFixed(2)],
    ['kith drain (restart -> all in history)', rate(kithDrain.perSecond), (kithDrain.fromRestartMs / 1000).toFixed(2)],
    ['raw stream R -> bob', rate(rawDrain.perSecond), (rawDrain.ms / 1000).toFixed(2)],
    ['MailboxStore fetch + ack (LevelDB)', rate(storage.drain.perSecond), (storage.drain.ms / 1000).toFixed(2)]
  ])
  return { deposit: kithDeposit, drain: kithDrain, floors: { rawDeposit, rawDrain, storage } }
}

/** The latest `count` messages of a conversation (history() pages are at most LIMITS.maxPageSize). */
async function latestHistory (node, conversation, count) {
  const out = []
  let before
  while (out.length < count) {
    const page = await node.history(conversation, { limit: Math.min(1000, count - out.length), ...(before != null ? { before } : {}) })
    if (page.length === 0) break
    out.unshift(...page)
    before = page[0].seq
  }
  return out
}

/** Alice writes `sizes.length` frames of these sizes to R's sink, 64 per write; R answers at the end. */
async function rawSink (alice, relayId, sizes) {
  const filler = randomBytes(Math.max(...sizes))
  const t0 = now()
  const stream = await alice.libp2p.dialProtocol(peerIdFromString(relayId), RAW_SINK, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
  const lp = lpStream(stream, { maxDataLength: 1024 })
  const header = new Uint8Array(4)
  new DataView(header.buffer).setUint32(0, sizes.length)
  await lp.write(header)
  for (let i = 0; i < sizes.length; i += 64) await lp.writeV(sizes.slice(i, i + 64).map(size => filler.subarray(0, size)))
  const ack = (await withTimeout(lp.read(), 60_000, 'raw sink ack')).subarray()
  const elapsed = now() - t0
  const view = new DataView(ack.buffer, ack.byteOffset)
  if (view.getUint32(0) !== sizes.length) throw new Error('raw sink: R counted the wrong number of frames')
  await stream.close().catch(() => stream.abort(new Error('closing')))
  return { ms: elapsed, perSecond: sizes.length / (elapsed / 1000), bytes: view.getUint32(4) }
}

/** The mailbox's own LevelDB work for these envelopes, as R's server does it, without the network. */
async function storageFloor (envelopes, depositor, recipient) {
  const dir = await mkdtemp(join(os.tmpdir(), 'kith-bench-reach-mailbox-'))
  dirs.push(dir)
  const store = new MailboxStore(new Level(join(dir, 'mailbox')), { perRecipient: { envelopes: 2 * envelopes.length + 1, bytes: 2 ** 40 }, perDepositor: { envelopes: 2 * envelopes.length + 1, bytes: 2 ** 40 } })
  await store.open()
  try {
    await store.register(recipient)
    let t0 = now()
    for (let i = 0; i < envelopes.length; i += MAILBOX_LIMITS.maxDepositEnvelopes) {
      const results = await store.deposit(depositor, envelopes.slice(i, i + MAILBOX_LIMITS.maxDepositEnvelopes))
      if (results.some(r => r !== 'stored')) throw new Error(`storage floor: deposit said ${results.find(r => r !== 'stored')}`)
    }
    const depositMs = now() - t0
    t0 = now()
    let after
    let taken = 0
    let fetchMs = 0
    while (true) {
      const f = now()
      const { entries, more } = await store.page(recipient, { limit: 100, maxBytes: MAILBOX_LIMITS.maxFetchBytes, ...(after != null ? { after } : {}) })
      fetchMs += now() - f
      if (entries.length === 0) break
      taken += await store.ack(recipient, entries.map(e => e.id))
      after = entries.at(-1).id
      if (!more) break
    }
    const drainMs = now() - t0
    if (taken !== envelopes.length) throw new Error(`storage floor: acked ${taken} of ${envelopes.length}`)
    return {
      deposit: { ms: depositMs, perSecond: envelopes.length / (depositMs / 1000) },
      drain: { ms: drainMs, perSecond: envelopes.length / (drainMs / 1000), fetchMs, ackMs: drainMs - fetchMs }
    }
  } finally {
    await store.close()
  }
}

// ---- section 3: presence lookups in a DHT ----

async function sectionDht (stillStopping) {
  const N = opts.dhtNodes
  say(`\n3. presence lookups: ${N} DHT nodes in one process (in-memory transport), each dialling ${opts.dhtDegree} random others; ${opts.identities} records, ${opts.lookups} lookups and ${opts.lookups} findPeer`)
  const t0 = Date.now()
  const tag = randomBytes(4).toString('hex')
  for (let i = 0; i < N; i++) {
    dhtNodes.push(await createLibp2p({
      privateKey: await generateDeviceKey(),
      addresses: { listen: [`/memory/kith-bench-reach-${tag}-${i}`] },
      transports: [memory()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({ protocol: KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper, ...presenceDhtOptions() })
      }
    }))
  }
  const nodes = dhtNodes
  const pick = (n, not = -1) => { let i; do { i = Math.floor(Math.random() * n) } while (i === not); return i }
  const dials = []
  for (let i = 0; i < N; i++) {
    const targets = new Set()
    while (targets.size < opts.dhtDegree) targets.add(pick(N, i))
    for (const j of targets) dials.push([i, j])
  }
  // A few dials at a time: all at once they queue behind each other's Noise handshakes and time out.
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < dials.length) {
      const [i, j] = dials[next++]
      await nodes[i].dial(nodes[j].getMultiaddrs()[0], { signal: AbortSignal.timeout(30_000) })
    }
  }))
  const dialledMs = Date.now() - t0
  // Nothing else runs from here on: the other processes are gone (the relay's node may sit out
  // its whole stop grace, idle, while the nodes above start and dial).
  await stillStopping
  // Routing tables: wait until no table has changed for a second (at most 30 s).
  const tableSizes = () => nodes.map(n => n.services.dht.routingTable.size)
  let last = tableSizes().join()
  let stableSince = Date.now()
  const settleStart = Date.now()
  while (Date.now() - stableSince < 1000 && Date.now() - settleStart < 30_000) {
    await sleep(250)
    const current = tableSizes().join()
    if (current !== last) { last = current; stableSince = Date.now() }
  }
  const sizes = tableSizes()
  const routing = { min: Math.min(...sizes), mean: sizes.reduce((a, b) => a + b, 0) / N, max: Math.max(...sizes), connectionsMean: nodes.reduce((a, n) => a + n.getConnections().length, 0) / N }
  say(`  up and dialled in ${(dialledMs / 1000).toFixed(1)} s; routing tables ${routing.min}..${routing.max} peers (mean ${routing.mean.toFixed(1)}), ${routing.connectionsMean.toFixed(1)} connections per node`)

  // Publish: each identity from its own device, a random node, one after the other (at once,
  // they take ten times as long each and reach fewer peers: this process is the bottleneck).
  const identities = []
  const devices = new Set()
  for (let k = 0; k < opts.identities; k++) {
    let d
    do { d = pick(N) } while (devices.has(d))
    devices.add(d)
    const device = nodes[d]
    const identityKey = await generateIdentityKey()
    const seq = nextPresenceSeq(undefined)
    const record = signPresence(identityKey, { seq, certificate: issueDeviceCertificate(identityKey, device.peerId.publicKey), device: device.peerId, addrs: device.getMultiaddrs().map(a => a.decapsulateCode(421)) })
    const t = now()
    const { stored } = await publishPresence(device.services.dht, identityKey, record, { signal: querySignal(30_000) })
    identities.push({ identityKey, device: d, seq, record, publishMs: now() - t, stored })
  }
  const publish = { ms: summarize(identities.map(i => i.publishMs)), storedAt: summarize(identities.map(i => i.stored)) }
  say(`  published ${opts.identities} records: p50 ${ms(publish.ms.p50)} ms, each stored at ${publish.storedAt.min}..${publish.storedAt.max} peers`)

  // Lookups and the floor, interleaved (which goes first alternates).
  const presence = []
  const findPeer = []
  async function lookupOne () {
    const who = identities[Math.floor(Math.random() * identities.length)]
    const from = nodes[pick(N, who.device)]
    let first
    const t = now()
    // lookupPresence walks the whole query; note when the first copy of the record came by.
    const dht = {
      get: (key, options) => (async function * () {
        for await (const event of from.services.dht.get(key, options)) {
          const value = event.name === 'VALUE' ? event.value : event.name === 'PEER_RESPONSE' ? event.record?.value : undefined
          if (first == null && value != null && sameBytes(value, who.record)) first = now() - t
          yield event
        }
      })()
    }
    let found
    let error
    try {
      found = await lookupPresence(dht, who.identityKey.publicKey, { signal: querySignal(20_000) })
    } catch (err) {
      error = err?.name ?? String(err)
    }
    const ok = found != null && found.seq === who.seq && found.device.equals(nodes[who.device].peerId)
    presence.push({ ms: now() - t, firstRecordMs: first, ok, error })
  }
  async function findOne () {
    const target = pick(N)
    const from = nodes[pick(N, target)]
    const targetId = nodes[target].peerId
    let first
    let error
    const t = now()
    try {
      for await (const event of from.services.dht.findPeer(targetId, { useCache: false, signal: querySignal(20_000) })) {
        if (first == null && event.name === 'FINAL_PEER' && event.peer.id.equals(targetId)) first = now() - t
      }
    } catch (err) {
      error = err?.name ?? String(err)
    }
    findPeer.push({ ms: now() - t, firstMs: first, ok: first != null, error })
  }
  const cpu = process.cpuUsage()
  const tl = now()
  for (let k = 0; k < opts.lookups; k++) {
    if (k % 2 === 0) { await lookupOne(); await findOne() } else { await findOne(); await lookupOne() }
  }
  const wall = now() - tl
  const busy = cpuSince(cpu) / 1000
  const okOf = (list) => list.filter(x => x.ok)
  const summary = {
    nodes: N,
    degree: opts.dhtDegree,
    dialledMs,
    routing,
    publish,
    presence: {
      lookups: presence.length,
      success: okOf(presence).length / presence.length,
      ms: summarize(okOf(presence).map(x => x.ms)),
      firstRecordMs: summarize(okOf(presence).filter(x => x.firstRecordMs != null).map(x => x.firstRecordMs)),
      errors: presence.filter(x => x.error != null).map(x => x.error)
    },
    findPeer: {
      lookups: findPeer.length,
      success: okOf(findPeer).length / findPeer.length,
      ms: summarize(okOf(findPeer).map(x => x.ms)),
      firstMs: summarize(okOf(findPeer).map(x => x.firstMs)),
      errors: findPeer.filter(x => x.error != null).map(x => x.error)
    },
    cpuShareDuringLookups: busy / wall
  }
  say('')
  table([
    ['', 'success', 'p50 ms', 'p99 ms', 'mean ms'],
    ['lookupPresence (whole query)', pct(summary.presence.success), ms(summary.presence.ms.p50), ms(summary.presence.ms.p99), ms(summary.presence.ms.mean)],
    ['  until the record first came by', '', ms(summary.presence.firstRecordMs.p50), ms(summary.presence.firstRecordMs.p99), ms(summary.presence.firstRecordMs.mean)],
    ['findPeer, useCache: false (whole query)', pct(summary.findPeer.success), ms(summary.findPeer.ms.p50), ms(summary.findPeer.ms.p99), ms(summary.findPeer.ms.mean)],
    ['  until the peer was found', '', ms(summary.findPeer.firstMs.p50), ms(summary.findPeer.firstMs.p99), ms(summary.findPeer.firstMs.mean)]
  ])
  say(`  this process used ${(100 * summary.cpuShareDuringLookups).toFixed(0)}% of a core during the lookups (all ${N} nodes share it)`)
  const stopping = dhtNodes
  dhtNodes = []
  await Promise.race([Promise.allSettled(stopping.map(n => n.stop())), sleep(STOP_GRACE_MS)])
  return summary
}

/** A timeout signal for a DHT query: kad-dht adds a listener per peer it asks. */
function querySignal (ms) {
  const signal = AbortSignal.timeout(ms)
  setMaxListeners(Infinity, signal)
  return signal
}

function pct (x) { return x == null || Number.isNaN(x) ? '-' : `${(100 * x).toFixed(0)}%` }

// ---- setup of the three parties ----

async function setupParties () {
  await Promise.all([relay.start(), bob.start()])
  const r = await relay.call('relay:start', { envelopes: opts.envelopes })
  const ctx = { relayId: r.peerId, relayAddrs: r.addrs, quota: r.quota, sides: {}, stops: {} }

  // bob (relayed) befriends R, which serves relays and mailboxes to contacts only; then he takes a reservation.
  const bobRelayed = await bob.call('bob:start', { which: 'relayed' })
  ctx.bobRelayed = bobRelayed.peerId
  const { code } = await relay.call('relay:invite')
  const rSeesBob = childEvent(relay, 'contact', m => m.peerId === bobRelayed.peerId)
  await bob.call('bob:accept', { which: 'relayed', code, alias: 'relay' })
  await withTimeout(rSeesBob, 20_000, 'R seeing bob\'s introduction')
  const reserved = await bob.call('bob:reserve', { relay: r.peerId })
  ctx.reservation = { ms: reserved.ms, addrs: reserved.addrs }

  // alice is behind a NAT too, and R's friend with a reservation of her own, or bob could not
  // answer her: libp2p's openConnection(peer) never reuses a limited (relayed) connection, it
  // dials the peer's known addresses. bob's acks ride the stream alice opened, but what he sends
  // her himself (key packages, receipts) needs an address of hers: her reservation on R.
  ctx.aliceRelayed = await startAlice('alice-relayed', [])
  const { code: aliceCode } = await relay.call('relay:invite')
  const rSeesAlice = childEvent(relay, 'contact', m => m.peerId === ctx.aliceRelayed.peerId.toString())
  await ctx.aliceRelayed.acceptInvite(aliceCode, 'relay')
  await withTimeout(rSeesAlice, 20_000, 'R seeing alice\'s introduction')
  await until(async () => {
    await ctx.aliceRelayed.libp2p.services.reservations.topUp()
    return ctx.aliceRelayed.reach.status().relays.includes(r.peerId)
  }, 20_000, 'alice\'s reservation on R')
  const relayedPair = await befriendBob('relayed', ctx.aliceRelayed)
  const known = (await ctx.aliceRelayed.libp2p.peerStore.get(peerIdFromString(ctx.bobRelayed))).addresses.map(a => a.multiaddr.toString())
  if (relayedPair.inviteAddrs.some(a => !a.includes('/p2p-circuit')) || known.some(a => !a.includes('/p2p-circuit'))) {
    throw new Error(`alice knows a direct address of the relayed bob: ${JSON.stringify({ invite: relayedPair.inviteAddrs, known })}`)
  }
  ctx.watch = watchCircuit(ctx.aliceRelayed, ctx.bobRelayed)
  ctx.relayedAddrs = known
  say(`  relay R ${r.addrs[0]}; bob's reservation on R after ${reserved.ms} ms; alice knows bob (relayed) only as ${known.join(', ')}`)

  if (opts.only.has('relay')) {
    const bobDirect = await bob.call('bob:start', { which: 'direct' })
    ctx.bobDirect = bobDirect.peerId
    ctx.aliceDirect = await startAlice('alice-direct', ['/ip4/127.0.0.1/tcp/0'])
    await befriendBob('direct', ctx.aliceDirect)
    const kd = kithSide('kith-direct', ctx.aliceDirect, ctx.bobDirect)
    const kr = kithSide('kith-relayed', ctx.aliceRelayed, ctx.bobRelayed)
    const direct = await kd.envelopeBytes()
    const relayed = await kr.envelopeBytes()
    ctx.frameBytes = Math.max(direct.frameBytes, relayed.frameBytes)
    for (const which of ['direct', 'relayed']) await bob.call('raw:serve', { which, frameBytes: ctx.frameBytes, ackBytes: ACK_BYTES })
    ctx.sides['raw-direct'] = await rawSide('raw-direct', ctx.aliceDirect, ctx.bobDirect, ctx.frameBytes)
    ctx.sides['kith-direct'] = kd
    ctx.sides['raw-relayed'] = await rawSide('raw-relayed', ctx.aliceRelayed, ctx.bobRelayed, ctx.frameBytes)
    ctx.sides['kith-relayed'] = kr
  }
  return ctx
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

function summaryTable (out) {
  const rows = ['| | Kith | raw floor (same run) | Kith / floor |', '|---|---|---|---|']
  const r = out.relay?.results
  if (r != null) {
    for (const w of ['direct', 'relayed']) {
      const k = r[`kith-${w}`]
      const f = r[`raw-${w}`]
      const label = w === 'direct' ? 'direct' : 'through relay R'
      rows.push(`| 1:1 latency, ${label} (p50 / p99) | ${ms(k.latencyMs.p50)} / ${ms(k.latencyMs.p99)} ms | ${ms(f.latencyMs.p50)} / ${ms(f.latencyMs.p99)} ms | ${times(k.latencyMs.p50 / f.latencyMs.p50)} / ${times(k.latencyMs.p99 / f.latencyMs.p99)} |`)
      rows.push(`| 1:1 throughput, ${label} | ${rate(k.messagesPerSecond)} msg/s | ${rate(f.messagesPerSecond)} msg/s | ${times(k.messagesPerSecond / f.messagesPerSecond)} |`)
    }
  }
  const m = out.mailbox
  if (m != null) {
    const f = m.floors
    rows.push(`| mailbox deposit, ${m.deposit.envelopes.toLocaleString('en-US')} envelopes (send -> all stored) | ${rate(m.deposit.perSecond)} env/s | stream ${rate(f.rawDeposit.perSecond)}/s; LevelDB ${rate(f.storage.deposit.perSecond)}/s | ${times(m.deposit.perSecond / Math.min(f.rawDeposit.perSecond, f.storage.deposit.perSecond))} |`)
    rows.push(`| mailbox drain on restart (-> all in history) | ${rate(m.drain.perSecond)} env/s (${(m.drain.fromRestartMs / 1000).toFixed(1)} s) | stream ${rate(f.rawDrain.perSecond)}/s; LevelDB ${rate(f.storage.drain.perSecond)}/s | ${times(m.drain.perSecond / Math.min(f.rawDrain.perSecond, f.storage.drain.perSecond))} |`)
  }
  const d = out.dht
  if (d != null) {
    rows.push(`| presence lookup, ${d.nodes} DHT nodes (p50 / p99, success) | ${ms(d.presence.ms.p50)} / ${ms(d.presence.ms.p99)} ms, ${pct(d.presence.success)} | findPeer ${ms(d.findPeer.ms.p50)} / ${ms(d.findPeer.ms.p99)} ms, ${pct(d.findPeer.success)} | ${times(d.presence.ms.p50 / d.findPeer.ms.p50)} / ${times(d.presence.ms.p99 / d.findPeer.ms.p99)} |`)
  }
  rows.push('', 'Kith ÷ floor: for times above 1 is slower, for rates below 1 is slower; mailbox rates are set against the slower floor.')
  return rows.join('\n')
}

async function main () {
  const started = Date.now()
  const cpus = os.cpus()
  const machine = { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, loadAverageAtStart: os.loadavg().map(x => Math.round(x * 100) / 100) }
  say(`Kith reach benchmark (${[...opts.only].join(', ')}); machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`)
  const out = { benchmark: 'kith-reach', timestamp: new Date(started).toISOString(), machine, code: gitState(), params: { ...opts, only: [...opts.only] } }
  let failed = false
  let interrupted = false
  const onSignal = () => {
    failed = interrupted = true
    say('\ninterrupted: stopping the nodes and removing the temp dirs…')
    setTimeout(() => process.exit(130), 3 * STOP_GRACE_MS).unref()
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let ctx
  let stopping
  try {
    if (opts.only.has('relay') || opts.only.has('mailbox')) {
      ctx = await setupParties()
      out.setup = { relay: ctx.relayAddrs[0], reservationMs: ctx.reservation.ms, relayedBobKnownAs: ctx.relayedAddrs, mailboxQuota: ctx.quota, frameBytes: ctx.frameBytes, ackBytes: ACK_BYTES }
      out.seconds = { setup: (Date.now() - started) / 1000 }
      if (opts.only.has('relay')) {
        const t = Date.now()
        out.relay = await sectionRelay(ctx)
        out.seconds.relay = (Date.now() - t) / 1000
        for (const side of Object.values(ctx.sides)) await side.close?.()
        await bob.call('bob:stop-direct')
        ctx.stops['alice-direct'] = await stopAlice('alice-direct')
      } else {
        ctx.watch.stop()
      }
      if (opts.only.has('mailbox')) {
        const t = Date.now()
        out.mailbox = await sectionMailbox(ctx)
        out.seconds.mailbox = (Date.now() - t) / 1000
      }
    }
    if (ctx != null) {
      // The DHT section has the machine to itself: stop the others first (a node that sits out
      // its stop grace is idle, so the DHT nodes' start-up may overlap with that).
      stopping = (async () => {
        ctx.stops['alice-relayed'] ??= await stopAlice('alice-relayed')
        const [relayStops, bobStops] = await Promise.all([relay.call('stop:nodes'), bob.call('stop:nodes')])
        out.stops = { ...ctx.stops, ...relayStops, ...bobStops }
        const slow = Object.entries(out.stops).filter(([, s]) => s?.timedOutAfterMs != null).map(([name]) => name)
        if (slow.length > 0) say(`\n  note: ${slow.join(', ')} did not stop within ${STOP_GRACE_MS / 1000} s (Reach.stop() waits for a presence publish under way, up to 30 s)`)
        await Promise.all([relay.stop(), bob.stop()])
      })()
      stopping.catch(() => {}) // awaited below; do not let an early failure leave it unhandled
      if (!opts.only.has('dht')) await stopping
    }
    if (opts.only.has('dht')) {
      const t = Date.now()
      out.dht = await sectionDht(stopping)
      out.seconds = { ...out.seconds, dht: (Date.now() - t) / 1000 }
    }
  } catch (err) {
    failed = true
    if (!interrupted) console.error(err)
  } finally {
    await cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (failed) { process.exitCode = 1; return }

  out.durationSeconds = (Date.now() - started) / 1000
  const markdown = summaryTable(out)
  out.markdown = markdown
  const parts = Object.entries(out.seconds ?? {}).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')
  say(`\nsummary (${out.durationSeconds.toFixed(0)} s: ${parts}):\n`)
  say(markdown)
  const json = JSON.stringify(out, (_k, v) => typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e4) / 1e4 : v, 2) + '\n'
  if (!flags['no-save']) {
    await mkdir(RESULTS, { recursive: true })
    const file = join(RESULTS, `reach-${out.timestamp.replace(/[:.]/g, '-')}.json`)
    await writeFile(file, json)
    await writeFile(join(RESULTS, 'reach-latest.json'), json)
    say(`\nwrote ${file.slice(ROOT.length + 1)} and bench/results/reach-latest.json`)
  }
  if (flags.json) process.stdout.write(json)
}

await main()
