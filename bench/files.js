// Files between two processes: Kith (two `kith start` daemons driven through their API) beside
// raw Node TCP (the limit) and a raw libp2p stream (the floor), the same files, the same run.
// Every row reads a file on one side and has it synced to disk on the other.
//
//   npm run bench:files                      # setup, then this
//   node --import @kith/core/polyfill bench/files.js [--sizes 1,100,1024] [--no-resume]
import { spawn, execFileSync } from 'node:child_process'
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { byteStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { KithClient } from '@kith/api'
import { ChildProcess, FILE_PROTOCOL, createRawNode } from './lib.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const KITH = join(HERE, '..', 'apps', 'cli', 'bin', 'kith.js')
const MiB = 1024 * 1024
const args = process.argv.slice(2)
const SIZES = (valueOf('--sizes') ?? '1,100,1024').split(',').map(Number)
const RESUME = !args.includes('--no-resume')

function valueOf (flag) {
  const i = args.indexOf(flag)
  return i >= 0 ? args[i + 1] : undefined
}

/** `size` MiB of random bytes in a file. */
async function randomFile (path, size) {
  const file = await open(path, 'w')
  const block = Buffer.alloc(Math.min(size, 8) * MiB)
  for (let at = 0; at < size * MiB; at += block.length) await file.write(randomFillSync(block))
  await file.close()
}

async function sha256 (path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk)
  return hash.digest('hex')
}

/** Resident memory of a process now (VmRSS), MiB. */
async function rssNow (pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))
  return Number(match?.[1] ?? 0) / 1024
}

/** Sample a process's resident memory until `stop()`: resolves with the highest seen, MiB. */
function sampleRss (pid) {
  let peak = 0
  let running = true
  const done = (async () => {
    while (running) { peak = Math.max(peak, await rssNow(pid)); await sleep(20) }
    return peak
  })()
  return { stop: async () => { running = false; return await done } }
}

/** Peak resident memory of a process since it started (VmHWM), MiB. */
async function peakRss (pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? 0) / 1024
}

function kith (home, cmd) {
  return JSON.parse(execFileSync(process.execPath, [KITH, '--home', home, ...cmd, '--json'], { encoding: 'utf8' }))
}

/** A `kith start` daemon on loopback, nothing downloaded by itself. */
class Daemon {
  constructor (home) { this.home = home }
  async start (port = 0) {
    this.child = spawn(process.execPath, [KITH, '--home', this.home, 'start', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns', '--auto-download', '0'], { stdio: 'ignore' })
    for (let i = 0; i < 300; i++) {
      try { this.api = await KithClient.fromHome(this.home); await this.api.status(); return } catch {}
      await sleep(100)
    }
    throw new Error(`${this.home}: kith start did not come up`)
  }

  async port () { return Number(String((await this.api.status()).addresses[0]).split('/')[4]) }
  kill9 () {
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    return exited
  }
}

const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))
const rate = (mib, ms) => mib / (ms / 1000)

async function main () {
  const dir = await mkdtemp(join(tmpdir(), 'kith-bench-files-'))
  const peer = new ChildProcess(join(HERE, 'files-peer.js'), 'sink')
  const daemons = []
  try {
    const sources = {}
    for (const size of SIZES) {
      sources[size] = join(dir, `source-${size}.bin`)
      await randomFile(sources[size], size)
    }
    const sinkPath = join(dir, 'sink.bin')

    // The floors: raw TCP and a raw libp2p stream into another process that writes to disk.
    await peer.start()
    const { tcpPort, addrs } = await peer.call('listen', { path: sinkPath })
    const raw = await createRawNode()
    const floors = {}
    for (const size of SIZES) {
      floors[size] = { tcp: await timed(async () => { await sendTcp(tcpPort, sources[size]); await peer.call('received', { kind: 'tcp' }) }) }
      floors[size].libp2p = await timed(async () => { await sendLibp2p(raw, addrs, sources[size]); await peer.call('received', { kind: 'libp2p' }) })
    }
    await raw.stop()
    await peer.stop()

    // Kith: alice sends, bob saves, each a real daemon.
    const alice = new Daemon(join(dir, 'alice'))
    const bob = new Daemon(join(dir, 'bob'))
    daemons.push(alice, bob)
    for (const d of [alice, bob]) {
      kith(d.home, ['init', '--name', d === alice ? 'alice' : 'bob', '--no-passphrase'])
      await d.start()
    }
    const { code } = await alice.api.invite()
    await bob.api.accept(code, 'alice')
    while ((await alice.api.contacts()).length === 0) await sleep(50)

    const kithRows = {}
    for (const size of SIZES) {
      kithRows[size] = await kithTransfer(alice, bob, sources[size], join(dir, `saved-${size}.bin`))
      if (await sha256(join(dir, `saved-${size}.bin`)) !== await sha256(sources[size])) throw new Error(`the ${size} MiB file arrived different`)
      await rm(join(dir, `saved-${size}.bin`))
    }
    const rss = { sender: await peakRss(alice.child.pid), receiver: await peakRss(bob.child.pid) }

    let resume
    if (RESUME) resume = await resumeRun(alice, bob, sources[Math.max(...SIZES)], Math.max(...SIZES), join(dir, 'resumed.bin'))

    await report(floors, kithRows, rss, resume)
  } finally {
    for (const d of daemons) await d.kill9().catch(() => {})
    await peer.stop().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}

async function timed (fn) {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

async function sendTcp (port, path) {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) {
    if (!socket.write(chunk)) await new Promise(resolve => socket.once('drain', resolve))
  }
  await new Promise(resolve => socket.end(resolve))
}

async function sendLibp2p (node, addrs, path) {
  const stream = await node.dialProtocol(multiaddr(addrs[0]), FILE_PROTOCOL)
  const bytes = byteStream(stream)
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) await bytes.write(chunk)
  await stream.close()
}

/** Send with `kith send-file`'s API call, then have bob save it: prepare, transfer and save times. */
async function kithTransfer (alice, bob, source, dest) {
  const sentAt = performance.now()
  const sent = await alice.api.sendFile('bob', source)
  const prepared = performance.now() - sentAt
  while ((await bob.api.history('alice', { limit: 5 })).every(m => m.id !== sent.id)) await sleep(5)
  const start = performance.now()
  const memory = { sender: sampleRss(alice.child.pid), receiver: sampleRss(bob.child.pid) }
  const saving = bob.api.saveFile(sent.id, dest)
  let transferred
  while (transferred == null) {
    if ((await bob.api.file(sent.id)).state === 'complete') transferred = performance.now() - start
    else await sleep(5)
  }
  const rss = { sender: await memory.sender.stop(), receiver: await memory.receiver.stop() }
  await saving
  return { prepared, transferred, saved: performance.now() - start - transferred, rss }
}

/** Kill the receiver -9 halfway, restart it: how long until it goes on, and until it is done. */
async function resumeRun (alice, bob, source, size, dest) {
  const sent = await alice.api.sendFile('bob', source)
  while ((await bob.api.history('alice', { limit: 5 })).every(m => m.id !== sent.id)) await sleep(5)
  const port = await bob.port()
  const saving = bob.api.saveFile(sent.id, dest).catch(() => {})
  let held = 0
  while (held < size * MiB / 2) { held = (await bob.api.file(sent.id)).received; await sleep(5) }
  await bob.kill9()
  await saving
  const restartedAt = performance.now()
  await bob.start(port)
  const kept = (await bob.api.file(sent.id)).received
  let goingOn
  let done
  while (done == null) {
    const view = await bob.api.file(sent.id)
    if (goingOn == null && view.received > kept) goingOn = performance.now() - restartedAt
    if (view.state === 'complete') done = performance.now() - restartedAt
    else await sleep(5)
  }
  const fetched = (await bob.api.status()).files.fetchedBytes
  await bob.api.saveFile(sent.id, dest)
  if (await sha256(dest) !== await sha256(source)) throw new Error('the resumed file arrived different')
  return { size, keptMiB: kept / MiB, goingOn, done, fetchedAfterMiB: fetched / MiB }
}

function report (floors, kithRows, rss, resume) {
  const rows = []
  for (const size of SIZES) {
    const f = floors[size]
    const k = kithRows[size]
    const kithRate = rate(size, k.transferred)
    rows.push({
      file: size >= 1024 ? `${size / 1024} GiB` : `${size} MiB`,
      'raw TCP MiB/s': rate(size, f.tcp).toFixed(0),
      'raw libp2p MiB/s': rate(size, f.libp2p).toFixed(0),
      'kith transfer MiB/s': kithRate.toFixed(0),
      'kith / libp2p': `${(100 * kithRate / rate(size, f.libp2p)).toFixed(0)}%`,
      'kith prepare s': (k.prepared / 1000).toFixed(2),
      'kith save s': (k.saved / 1000).toFixed(2),
      'kith end to end MiB/s': rate(size, k.prepared + k.transferred + k.saved).toFixed(0),
      'RSS in transfer MiB (sender/receiver)': `${k.rss.sender.toFixed(0)}/${k.rss.receiver.toFixed(0)}`
    })
  }
  console.table(rows)
  console.log(`peak RSS of the daemons over the whole run (VmHWM): sender ${rss.sender.toFixed(0)} MiB, receiver ${rss.receiver.toFixed(0)} MiB`)
  if (resume != null) {
    console.log(`resume (${resume.size} MiB, receiver killed -9 at half): ${resume.keptMiB.toFixed(0)} MiB kept; going again ${(resume.goingOn / 1000).toFixed(2)} s after the restart began, done after ${(resume.done / 1000).toFixed(2)} s; ${resume.fetchedAfterMiB.toFixed(0)} MiB fetched after the restart`)
  }
  const out = { when: new Date().toISOString(), sizes: SIZES, floors, kith: kithRows, rss, resume, rows }
  return mkdir(join(HERE, 'results'), { recursive: true }).then(async () => {
    const json = JSON.stringify(out, null, 2)
    await writeFile(join(HERE, 'results', `files-${Date.now()}.json`), json)
    await writeFile(join(HERE, 'results', 'files-latest.json'), json)
  })
}

await main()
