// The other processes of bench/reach.js (forked by it, driven over IPC): one runs the relay R,
// one runs bob. See the header of bench/reach.js.
//
// relay: a Kith node started with `relay: {}` and `public: true` (circuit relay v2 for its
//   contacts and a LevelDB mailbox), plus two bare protocols for the mailbox floors: a sink
//   (alice -> R, the deposit floor) and a source (R -> bob, the drain floor).
// bob: two Kith nodes on LevelDB. `direct` listens on loopback TCP; `relayed` listens nowhere
//   (like a device behind NAT) and is reachable only through its reservation on R. Both serve
//   the bare echo protocol of the raw floor and count what arrives. `relayed` can be stopped and
//   started again with the same keys and store (the mailbox drain).
import '@kith/core/polyfill'
import { realpathSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { generateDeviceKey, generateIdentityKey } from '@kith/crypto'
import { createKithNode } from '@kith/node'
import { openStore } from '@kith/store'
import { cpuSince, now, serveParent, serveRawAcks, withTimeout } from './lib.js'

/** The raw floor of section 1: length-prefixed frames, each answered with an ack-sized frame. */
export const RAW_ECHO = '/bench/reach/raw/1.0.0'
/** Deposit floor: alice writes a count, then that many frames; R answers once at the end. */
export const RAW_SINK = '/bench/reach/sink/1.0.0'
/** Drain floor: bob asks, R writes the frames (sizes set by `source:sizes`), bob reads them all. */
export const RAW_SOURCE = '/bench/reach/source/1.0.0'
/** Larger than any mailbox frame: a Kith envelope is at most 64 KiB. */
const MAX_FRAME = 1024 * 1024 + 16 * 1024
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

let tempDir
let cpuMark = process.cpuUsage()
let stopping
/** Running nodes by name, with the stores we opened for them. */
const nodes = new Map()

async function dir () {
  tempDir ??= await mkdtemp(join(tmpdir(), 'kith-bench-reach-'))
  return tempDir
}

/** A Kith node on LevelDB under our temp dir; `keys` and `dbName` make it restartable. */
async function startKith (name, { keys, dbName, listen, counts, ...options }) {
  const store = await openStore(join(await dir(), dbName))
  let node
  try {
    node = await createKithNode({ ...keys, name, store, listen, mdns: false, start: false, ...options })
  } catch (err) {
    await store.close()
    throw err
  }
  if (counts != null) {
    node.addEventListener('message', (evt) => {
      counts.kith++
      if (evt.detail.text.length === 0) counts.bad++
      counts.onMessage?.(evt.detail)
    })
  }
  node.addEventListener('contact', (evt) => { process.send({ event: 'contact', node: name, peerId: evt.detail.peerId }) })
  await node.start()
  nodes.set(name, { node, store })
  return node
}

/**
 * Stop a node, but give up after STOP_GRACE_MS: a node's stop waits for a presence publish
 * under way (reach.ts), which can take up to its 30 s timeout when the DHT peers are gone.
 * Returns how long it took, or that it timed out (its databases are then closed under it).
 */
async function stopKith (name) {
  const entry = nodes.get(name)
  if (entry == null) return undefined
  nodes.delete(name)
  const t0 = Date.now()
  const stopped = await Promise.race([entry.node.stop().then(() => true, () => true), sleep(STOP_GRACE_MS).then(() => false)])
  if (!stopped) {
    console.error(`bench/reach-peer.js: ${name} did not stop within ${STOP_GRACE_MS} ms (a presence publish under way?); closing its databases`)
    await entry.node.mailboxDb?.close().catch(() => {})
  }
  await entry.store.close().catch(() => {})
  return stopped ? { ms: Date.now() - t0 } : { timedOutAfterMs: STOP_GRACE_MS }
}
const STOP_GRACE_MS = 5_000

function kith (name) {
  const entry = nodes.get(name)
  if (entry == null) throw new Error(`no running node ${name}`)
  return entry.node
}

// ---- bob ----

/** What reached each of bob's nodes since the last reset. */
const counts = { direct: newCounts(), relayed: newCounts() }
function newCounts () { return { kith: 0, bad: 0, raw: 0, rawBad: 0 } }
/** bob's relayed node: its keys, so it can come back as the same device. */
let relayedKeys
/** While draining: wait for this many texts starting with `prefix`. */
let drainWatch

const bobCommands = {
  /** Start bob's `direct` or `relayed` node; returns its peer id and addresses. */
  async 'bob:start' ({ which }) {
    const name = `bob-${which}`
    if (which === 'relayed') relayedKeys ??= { privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey() }
    const keys = which === 'relayed' ? relayedKeys : { privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey() }
    const tally = counts[which]
    if (which === 'relayed') {
      tally.onMessage = (message) => {
        const w = drainWatch
        if (w == null || !message.text.startsWith(w.prefix)) return
        w.first ??= now()
        w.ids.add(message.id)
        if (w.ids.size === w.expect) { w.done = now(); w.resolve() }
      }
    }
    const node = await startKith(name, {
      keys,
      dbName: `db-${which}`,
      // Behind a NAT: no address of its own, reachable only through its reservation on R.
      listen: which === 'relayed' ? [] : LISTEN,
      counts: tally,
      // The default limiter (500 msg/s per peer) would disconnect the benchmark's sender.
      messaging: { ratePerSecond: 1e9, rateBurst: 1e9 }
    })
    return { peerId: node.peerId.toString(), addrs: node.libp2p.getMultiaddrs().map(String) }
  },

  /** Register the raw echo protocol on a node; frames must be `frameBytes`, acks are `ackBytes`. */
  async 'raw:serve' ({ which, frameBytes, ackBytes }) {
    const node = kith(`bob-${which}`)
    await node.libp2p.unhandle(RAW_ECHO)
    await node.libp2p.handle(RAW_ECHO, (stream) => { void serveRawAcks(stream, { tally: counts[which], frameBytes, ackBytes, maxFrameBytes: MAX_FRAME }) }, { runOnLimitedConnection: true, maxInboundStreams: 16 })
    return {}
  },

  async 'bob:accept' ({ which, code, alias }) {
    await kith(`bob-${which}`).acceptInvite(code, alias)
    return {}
  },

  async 'bob:invite' ({ which }) {
    return { code: await kith(`bob-${which}`).createInvite() }
  },

  /**
   * Take a reservation on the relay now. reservations.ts reserves on identify (before the relay
   * is a contact, when it accepted our invite) and then every 15 s: ask it to top up at once.
   */
  async 'bob:reserve' ({ relay }) {
    const node = kith('bob-relayed')
    const t0 = Date.now()
    while (!node.reach.status().relays.includes(relay)) {
      if (Date.now() - t0 > 20_000) throw new Error(`no reservation on the relay after 20 s: ${JSON.stringify(node.reach.status())}`)
      await node.libp2p.services.reservations.topUp()
      await sleep(50)
    }
    return { ms: Date.now() - t0, status: node.reach.status(), addrs: node.libp2p.getMultiaddrs().map(String) }
  },

  /** Quiet after befriending: nothing pending, and the contact's key package held (as test/helpers/testnet.ts settled()). */
  async 'bob:settled' ({ which, peer }) {
    const node = kith(`bob-${which}`)
    return { pending: node.messaging.pending(), holdsKeyPackage: await node.groups.canAdd(peer) }
  },

  /** How bob's node is connected to a peer. */
  async 'bob:conns' ({ which, peer }) {
    const node = kith(`bob-${which}`)
    return { conns: node.libp2p.getConnections(peerIdFromString(peer)).map(c => ({ id: c.id, addr: c.remoteAddr.toString(), limited: c.limits != null })) }
  },

  async 'bob:stop-direct' () {
    await stopKith('bob-direct')
    return {}
  },

  /** Make R bob's mailbox and publish a presence record that says so. */
  async 'bob:mailbox' ({ relay }) {
    const node = kith('bob-relayed')
    await node.reach.addMailbox(await node.resolveContact(relay))
    // addMailbox schedules a publish; make sure one that lists the mailbox has finished.
    await node.reach.publish()
    await node.reach.publish()
    return { status: node.reach.status() }
  },

  async 'bob:stop-relayed' () {
    await stopKith('bob-relayed')
    return {}
  },

  /**
   * Start bob's relayed node again (same keys, same store): it drains its mailbox at start.
   * Resolves when `expect` new texts starting with `prefix` have arrived.
   */
  async 'bob:drain' ({ expect, prefix, alice, timeoutMs }) {
    let resolve
    const arrived = new Promise(r => { resolve = r })
    drainWatch = { prefix, expect, ids: new Set(), first: undefined, done: undefined, resolve }
    const cpu = process.cpuUsage()
    const t0 = now()
    await bobCommands['bob:start']({ which: 'relayed' })
    const started = now()
    await withTimeout(arrived, timeoutMs, `bob draining ${expect} envelopes (got ${drainWatch.ids.size})`)
    const cpuMicros = cpuSince(cpu)
    const w = drainWatch
    drainWatch = undefined
    // The history holds exactly these texts, once each.
    const node = kith('bob-relayed')
    const texts = []
    let before
    while (texts.length < expect) {
      const page = await node.history(alice, { limit: 1000, ...(before != null ? { before } : {}) })
      if (page.length === 0) break
      texts.push(...page.filter(m => m.from === alice && m.text.startsWith(prefix)))
      before = page[0].seq
    }
    return { t0, started, first: w.first, done: w.done, received: w.ids.size, inHistory: new Set(texts.map(m => m.text)).size, cpuMicros, metrics: node.status().metrics }
  },

  /** The drain floor: read `count` frames from R's source protocol. */
  async 'raw:drain' ({ relay, count }) {
    const node = kith('bob-relayed')
    const t0 = now()
    const stream = await node.libp2p.dialProtocol(peerIdFromString(relay), RAW_SOURCE, { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) })
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
    await lp.write(new Uint8Array([1]))
    let bytes = 0
    for (let i = 0; i < count; i++) bytes += (await lp.read()).byteLength
    const done = now()
    await stream.close().catch(() => stream.abort(new Error('closing')))
    return { t0, done, bytes }
  }
}

// ---- relay ----

/** The frame sizes R's source protocol sends (the drain floor). */
let sourceSizes = []

async function serveSink (stream) {
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
  try {
    const header = await lp.read()
    const count = new DataView(header.subarray().buffer, header.subarray().byteOffset).getUint32(0)
    let bytes = 0
    for (let i = 0; i < count; i++) bytes += (await lp.read()).byteLength
    const ack = new Uint8Array(8)
    new DataView(ack.buffer).setUint32(0, count)
    new DataView(ack.buffer).setUint32(4, bytes)
    await lp.write(ack)
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

async function serveSource (stream) {
  const lp = lpStream(stream, { maxDataLength: MAX_FRAME })
  try {
    await lp.read()
    const filler = randomBytes(Math.max(1, ...sourceSizes))
    for (let i = 0; i < sourceSizes.length; i += 64) {
      await lp.writeV(sourceSizes.slice(i, i + 64).map(size => filler.subarray(0, size)))
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

const relayCommands = {
  /** Start R: relay for contacts, public, a LevelDB mailbox with room for `envelopes`. */
  async 'relay:start' ({ envelopes }) {
    const home = await dir()
    const quota = { envelopes: Math.max(20_000, 2 * envelopes), bytes: Math.max(256 * 2 ** 20, envelopes * 64 * 1024) }
    const node = await startKith('relay', {
      keys: { privateKey: await generateDeviceKey(), identityKey: await generateIdentityKey() },
      dbName: 'db-relay',
      listen: LISTEN,
      // With a home folder (and our own store), the mailbox is LevelDB at HOME/mailbox, as `kith start --relay` runs it.
      home,
      relay: {},
      public: true,
      mailbox: { perRecipient: quota, perDepositor: quota }
    })
    await node.libp2p.handle(RAW_SINK, (stream) => { void serveSink(stream) }, { runOnLimitedConnection: true })
    await node.libp2p.handle(RAW_SOURCE, (stream) => { void serveSource(stream) }, { runOnLimitedConnection: true })
    return { peerId: node.peerId.toString(), addrs: node.libp2p.getMultiaddrs().map(String), quota }
  },

  async 'relay:invite' () {
    return { code: await kith('relay').createInvite() }
  },

  async 'mailbox:stats' () {
    return { holding: kith('relay').status().network.holding }
  },

  async 'source:sizes' ({ sizes }) {
    sourceSizes = sizes
    return {}
  }
}

// ---- both ----

const commonCommands = {
  /** Zero the counters and the CPU clock at the start of a phase. */
  async reset () {
    for (const which of Object.keys(counts)) Object.assign(counts[which], { kith: 0, bad: 0, raw: 0, rawBad: 0 })
    cpuMark = process.cpuUsage()
    return {}
  },

  async count () {
    const plain = (c) => ({ kith: c.kith, bad: c.bad, raw: c.raw, rawBad: c.rawBad })
    return { direct: plain(counts.direct), relayed: plain(counts.relayed), cpuMicros: cpuSince(cpuMark) }
  },

  /** Stop the nodes (each within STOP_GRACE_MS) and say how long each took. */
  async 'stop:nodes' () {
    const names = [...nodes.keys()]
    const results = await Promise.all(names.map(stopKith))
    return Object.fromEntries(names.map((name, i) => [name, results[i]]))
  },

  async stop () {
    await shutdown()
    return {}
  }
}

async function shutdown () {
  stopping ??= (async () => {
    await Promise.allSettled([...nodes.keys()].map(stopKith))
    if (tempDir != null) await rm(tempDir, { recursive: true, force: true, maxRetries: 3 }).catch(err => { console.error("RM FAILED", err); throw err })
  })()
  await stopping
}

function sleep (ms) { return new Promise(resolve => setTimeout(resolve, ms)) }

// bench/reach.js imports the protocol ids above; only a forked copy serves.
if (process.argv[1] != null && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  if (process.send == null) {
    console.error('bench/reach-peer.js is started by bench/reach.js')
    process.exit(2)
  }
  serveParent({ ...commonCommands, ...bobCommands, ...relayCommands }, shutdown)
}
