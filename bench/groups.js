// Group messaging over gossipsub: Kith (MLS group, padded unsigned envelopes, the replica's
// rules) against raw gossipsub on the same nodes, topology and payload size, side by side.
// Members are split over processes (this one and forked bench/groups-peer.js; two by default).
//
//   npm run bench:gossip                                  # setup, then 30 members in 2 processes
//   node --import @kith/core/polyfill bench/groups.js --members 30 --processes 2 --messages 200 --interval 100
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { KithGroup, encodeGroupEnvelope } from '@kith/groups'
import { ChildProcess, cpuSince, now, summarize, withTimeout } from './lib.js'
import { Members, RAW_TOPIC, keyPackageFrom, textFor } from './group-members.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const { values: flags } = parseArgs({
  options: {
    members: { type: 'string', default: '30' },
    messages: { type: 'string', default: '200' },
    interval: { type: 'string', default: '100' },
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    processes: { type: 'string', default: '2' }
  }
})
const N = Number(flags.members)
const M = Number(flags.messages)
const INTERVAL = Number(flags.interval)
const SIZE = Number(flags.size)
const ROUNDS = Number(flags.rounds)
const PROCESSES = Math.max(2, Number(flags.processes))
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

const local = new Members()
const peers = Array.from({ length: PROCESSES - 1 }, (_, i) => new ChildProcess(join(HERE, 'groups-peer.js'), `peer ${i + 1}`))
/** Ask every peer process the same; their answers in order. */
const everyPeer = async (command, args = {}) => await Promise.all(peers.map(async p => await p.call(command, args)))
try {
  // Members 0.. in this process, the rest split evenly over the peers.
  const shares = Array.from({ length: PROCESSES }, (_, i) => Math.floor(N / PROCESSES) + (i < N % PROCESSES ? 1 : 0))
  const firsts = shares.map((_, i) => shares.slice(0, i).reduce((a, b) => a + b, 0))
  console.log(`Kith groups vs raw gossipsub: ${N} members (${shares.join(' + ')} in ${PROCESSES} processes), ${M} messages of ${SIZE}-byte text every ${INTERVAL} ms from one member, ${ROUNDS} rounds`)
  await Promise.all(peers.map(async p => await p.start()))
  const [, ...remotes] = await Promise.all([local.start(shares[0], 0), ...peers.map(async (p, i) => await p.call('start', { count: shares[i + 1], firstIndex: firsts[i + 1] }))])
  const all = [...local.describe(), ...remotes.flatMap(r => r.members)]

  // Member 0 creates the group and adds everyone in one commit.
  const creator = local.list[0]
  const created = await KithGroup.create('bench', creator.packages.publicPackage, creator.packages.privatePackage)
  const added = await created.add(all.slice(1).map(m => keyPackageFrom(m.keyPackage)))
  const topicSecret = randomBytes(32)
  await Promise.all([
    local.join(added.welcome, topicSecret, { index: 0, group: added.group }),
    everyPeer('join', { welcome: Buffer.from(added.welcome).toString('base64'), topicSecret: topicSecret.toString('base64') })
  ])

  // Each member dials three others: a ring plus chords, across the two processes.
  const targets = {}
  for (let i = 0; i < N; i++) targets[i] = [1, 2, 5].map(d => all[(i + d) % N].addrs[0])
  await Promise.all([local.connect(targets), everyPeer('connect', { targets })])
  const meshed = async () => [...local.topicPeers(), ...(await everyPeer('topicPeers')).flatMap(r => r.peers)].every(p => p >= 3)
  const t0 = Date.now()
  while (!await meshed()) {
    if (Date.now() - t0 > 30_000) throw new Error('the gossipsub mesh did not form in 30 s')
    await sleep(200)
  }

  // The raw payload has the size of a Kith envelope for the same text.
  const sample = await added.group.encrypt(new Uint8Array(1 + 16 + SIZE))
  const payloadBytes = encodeGroupEnvelope(sample.message).length
  const sides = {
    raw: async (seq) => {
      const payload = randomBytes(payloadBytes)
      payload.writeUInt32BE(seq, 0)
      await creator.node.libp2p.services.pubsub.publish(RAW_TOPIC, payload)
    },
    kith: async (seq) => { await creator.channel.send(textFor(seq, SIZE)) }
  }
  const pooled = { raw: { latencies: [], cpu: 0 }, kith: { latencies: [], cpu: 0 } }
  // Warm-up passes (not counted). Then each round: the two sides interleaved, message by message
  // (the order swapped every message), for latency: both meet the same background work (heartbeats,
  // garbage collection, the other process), which otherwise lands on one side's round by chance;
  // then each side alone, in alternating order, for its CPU cost.
  await phase(['raw'], 20)
  await phase(['kith'], 20)
  for (let round = 1; round <= ROUNDS; round++) {
    const both = await phase(['raw', 'kith'], M)
    const parts = []
    for (const side of ['raw', 'kith']) {
      const r = summarize(both.latencies[side])
      pooled[side].latencies.push(...both.latencies[side])
      parts.push(`${side} delivered ${(100 * both.latencies[side].length / (M * (N - 1))).toFixed(2)}%, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`)
    }
    console.log(`  round ${round}, interleaved: ${parts.join('; ')}`)
    for (const side of (round % 2 === 1 ? ['raw', 'kith'] : ['kith', 'raw'])) pooled[side].cpu += (await phase([side], M)).cpu
  }

  /** Send `count` messages of each side (interleaved when several), one every INTERVAL ms, and collect arrivals. */
  async function phase (sideList, count) {
    local.stamping = new Set(sideList)
    for (const side of sideList) local.stamps[side] = new Map()
    await everyPeer('phase', { sides: sideList })
    const cpuMark = process.cpuUsage()
    const sent = Object.fromEntries(sideList.map(side => [side, new Map()]))
    for (let seq = 0; seq < count; seq++) {
      for (const side of (seq % 2 === 0 ? sideList : [...sideList].reverse())) {
        sent[side].set(seq, now())
        await sides[side](seq)
      }
      await sleep(INTERVAL)
    }
    // Wait for stragglers: until everyone has everything, or 10 s.
    const deadline = Date.now() + 10_000
    let remote
    while (true) {
      remote = merge(await everyPeer('results', { sides: sideList }))
      const got = sideList.flatMap(side => [...local.stamps[side].values(), ...Object.values(remote.stamps[side])]).reduce((a, t) => a + t.length, 0)
      if (got >= sideList.length * count * (N - 1) || Date.now() > deadline) break
      await sleep(200)
    }
    const cpu = cpuSince(cpuMark) + remote.cpuMicros
    const latencies = {}
    for (const side of sideList) {
      latencies[side] = []
      for (const [seq, start] of sent[side]) {
        for (const t of [...(local.stamps[side].get(seq) ?? []), ...(remote.stamps[side][seq] ?? [])]) latencies[side].push(t - start)
      }
    }
    return { latencies, cpu }
  }
  const results = {}
  for (const [side, p] of Object.entries(pooled)) {
    results[side] = { delivered: p.latencies.length / (ROUNDS * M * (N - 1)), latencyMs: summarize(p.latencies), cpuMicrosPerMessage: p.cpu / (ROUNDS * M), payloadBytes }
  }
  console.log('')
  console.log('all rounds          delivered   p50 ms   p99 ms   CPU ms per message (all members)')
  for (const [side, r] of Object.entries(results)) {
    console.log(`${(side === 'raw' ? 'raw gossipsub' : 'kith group').padEnd(20)} ${(100 * r.delivered).toFixed(2).padStart(8)}%  ${r.latencyMs.p50.toFixed(1).padStart(7)}  ${r.latencyMs.p99.toFixed(1).padStart(7)}   ${(r.cpuMicrosPerMessage / 1000).toFixed(1)}`)
  }
  const ratio = results.kith.latencyMs.p99 / results.raw.latencyMs.p99
  console.log(`\nkith p99 / raw p99 = ${ratio.toFixed(2)}x (target <= 1.5x: ${ratio <= 1.5 ? 'met' : 'MISSED'}); envelope ${payloadBytes} bytes`)
} finally {
  await withTimeout(Promise.allSettled([local.stop(), ...peers.map(async p => await p.stop())]), 20_000, 'stopping').catch(() => {})
}

/** The peers' results as one: arrival stamps by side and sequence number, CPU summed. */
function merge (results) {
  const stamps = {}
  for (const r of results) {
    for (const [side, bySeq] of Object.entries(r.stamps)) {
      stamps[side] ??= {}
      for (const [seq, times] of Object.entries(bySeq)) (stamps[side][seq] ??= []).push(...times)
    }
  }
  return { stamps, cpuMicros: results.reduce((a, r) => a + r.cpuMicros, 0) }
}
