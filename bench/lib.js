// Shared pieces of the DM benchmark: the raw protocol, payloads, statistics, profiling.
import '@kith/core/polyfill'
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Session } from 'node:inspector/promises'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { lpStream } from '@libp2p/utils'
import { generateDataKey, openRecord, sealRecord } from '@kith/crypto'

/** The floor: a bare libp2p stream protocol carrying frames the size of Kith envelopes. */
export const RAW_PROTOCOL = '/bench/raw/1.0.0'
/** The floor of bench/files.js: a bare libp2p stream carrying a file's bytes. */
export const FILE_PROTOCOL = '/bench/file/1.0.0'
/** Same frame limit as Kith's /kith/dm/1.0.0 (LIMITS.maxFrameBytes). */
export const MAX_FRAME_BYTES = 64 * 1024
/** Kith message ids are 16 random bytes; the raw frames carry one too. */
export const ID_BYTES = 16
export const LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** A plain libp2p node: TCP, Noise, yamux, nothing else. */
export async function createRawNode () {
  return await createLibp2p({
    addresses: { listen: LISTEN },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] }
  })
}

/**
 * The `index`-th chat message of exactly `size` ASCII bytes (= UTF-8 bytes), each one
 * different so nothing can be deduplicated or cached by content.
 * @param {number} index
 * @param {number} size
 */
export function textOf (index, size) {
  const head = `msg ${index} `
  if (head.length >= size) return head.slice(0, size)
  return head + FILLER.slice(0, size - head.length)
}
const FILLER = 'The quick brown fox jumps over the lazy dog. '.repeat(400) // 18 kB, > maxTextBytes

/** A raw frame: a fresh 16-byte id, then filler up to `frameBytes`. */
export function rawFrame (frameBytes, filler) {
  const frame = new Uint8Array(frameBytes)
  frame.set(randomBytes(ID_BYTES), 0)
  frame.set(filler.subarray(0, frameBytes - ID_BYTES), ID_BYTES)
  return frame
}

/**
 * The floor's receiving side: read length-prefixed frames, count them in `tally` (`raw`, and
 * `rawBad` for a frame not `frameBytes` long), and answer each with its 16-byte id padded to
 * `ackBytes`, the size of a Kith ack. `onFrame` sees each frame first.
 */
export async function serveRawAcks (stream, { tally, frameBytes, ackBytes, maxFrameBytes, onFrame }) {
  const lp = lpStream(stream, { maxDataLength: maxFrameBytes })
  try {
    while (true) {
      let frame
      try {
        frame = await lp.read()
      } catch (err) {
        if (err?.name === 'UnexpectedEOFError') break
        throw err
      }
      tally.raw++
      if (frame.byteLength !== frameBytes) tally.rawBad++
      onFrame?.(frame)
      const ack = new Uint8Array(ackBytes)
      ack.set(frame.subarray(0, ID_BYTES), 0)
      await lp.write(ack)
    }
    await stream.close()
  } catch (err) {
    stream.abort(err)
  }
}

/** Two byte arrays are equal. */
export function sameBytes (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A wake-up signal (like Kith's Pulse): `wait()` resolves on the next `notify()`. */
export class Signal {
  #waiters = []
  notify () { const w = this.#waiters; this.#waiters = []; for (const f of w) f() }
  wait () { return new Promise(resolve => this.#waiters.push(resolve)) }
}

/** p50/p99/mean/min/max of latencies in ms (nearest-rank percentiles). */
export function summarize (samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const pct = p => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { n: sorted.length, p50: pct(50), p90: pct(90), p99: pct(99), mean, min: sorted[0], max: sorted[sorted.length - 1] }
}

/** Reject after `ms` with a message naming what hung. */
export async function withTimeout (promise, ms, what) {
  let timer
  try {
    return await Promise.race([promise, new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** CPU profiling of this process through the inspector, so only the measured phase is sampled. */
export class Profiler {
  #session
  async start () {
    this.#session = new Session()
    this.#session.connect()
    await this.#session.post('Profiler.enable')
    await this.#session.post('Profiler.setSamplingInterval', { interval: 200 })
    await this.#session.post('Profiler.start')
  }

  async stop (path) {
    const { profile } = await this.#session.post('Profiler.stop')
    this.#session.disconnect()
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, JSON.stringify(profile))
    return path
  }
}

/**
 * Milliseconds on the monotonic clock (CLOCK_MONOTONIC on Linux, shared by all processes on the
 * machine, so the sender's and the receiver's stamps compare).
 */
export function now () {
  return Number(process.hrtime.bigint()) / 1e6
}

/** CPU time (user + system, µs) used since `since` (a process.cpuUsage() value). */
export function cpuSince (since) {
  const d = process.cpuUsage(since)
  return d.user + d.system
}

/** Encryption at rest as a home-based node does it: every stored value sealed under a data key. */
export function atRestCipher () {
  const dataKey = generateDataKey()
  return { seal: (aad, plaintext) => sealRecord(dataKey, aad, plaintext), open: (aad, sealed) => openRecord(dataKey, aad, sealed) }
}

/** Kith's bench modes: signed clear text (the issue-2 path), E2EE, E2EE with the store sealed at rest. */
export const KITH_MODES = { clear: 'kith-clear', 'e2ee-nosync': 'kith-nosync', e2ee: 'kith', 'e2ee-at-rest': 'kith-at-rest' }

/** How a bench mode opens its store: sealed at rest or not, each batch synced to disk or left to the OS (the `e2ee-nosync` row: how Kith wrote before acks waited for fsync). */
export function storeOptions (mode) {
  return { cipher: mode === 'e2ee-at-rest' ? atRestCipher() : undefined, sync: mode !== 'e2ee-nosync' }
}

/**
 * A forked benchmark process driven over the Node IPC channel: `call(cmd, args)` runs one of
 * its commands and resolves with the result; `once(event)` waits for an event it sends. The
 * child answers `{ id, ok, result | error }` and sends `{ event: 'ready' }` when it is up.
 */
export class ChildProcess {
  #script
  #name
  #child
  #next = 0
  #pending = new Map()
  #listeners = new Map()
  #exited

  /** @param script - the module to fork; @param name - how errors name it */
  constructor (script, name) {
    this.#script = script
    this.#name = name
  }

  start () {
    this.#child = fork(this.#script, [], {
      cwd: join(dirname(fileURLToPath(import.meta.url)), '..'),
      execArgv: ['--import', '@kith/core/polyfill'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.#exited = new Promise(resolve => this.#child.once('exit', (code, signal) => resolve({ code, signal })))
    this.#child.on('message', (msg) => {
      if (msg.id != null) {
        const p = this.#pending.get(msg.id)
        this.#pending.delete(msg.id)
        if (msg.ok) p?.resolve(msg.result)
        else p?.reject(new Error(`${this.#name}: ${msg.error}`))
      } else if (msg.event != null) {
        for (const fn of this.#listeners.get(msg.event) ?? []) fn(msg)
      }
    })
    void this.#exited.then(({ code, signal }) => {
      for (const p of this.#pending.values()) p.reject(new Error(`${this.#name} exited (${code ?? signal})`))
      this.#pending.clear()
    })
    return withTimeout(this.once('ready'), 20_000, `${this.#name} process start`)
  }

  once (event) {
    return new Promise(resolve => {
      const fns = this.#listeners.get(event) ?? []
      const fn = (msg) => { this.#listeners.set(event, fns.filter(f => f !== fn)); resolve(msg) }
      fns.push(fn)
      this.#listeners.set(event, fns)
    })
  }

  call (cmd, args = {}) {
    const id = ++this.#next
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#child.send({ id, cmd, args })
    })
  }

  /** Ask it to stop (its `stop` command); kill it if it does not go within 10 s. */
  async stop () {
    if (this.#child == null || this.#child.exitCode != null || this.#child.signalCode != null) return
    try {
      await withTimeout(this.call('stop'), 10_000, `${this.#name} stop`)
    } catch {}
    const gone = await withTimeout(this.#exited, 5_000, `${this.#name} exit`).catch(() => undefined)
    if (gone == null) {
      this.#child.kill('SIGKILL')
      await this.#exited
    }
  }
}


/**
 * The child side of {@link ChildProcess}: run `commands[cmd](args)` for each call from the
 * parent, answer it, and say `ready`. `shutdown` runs on SIGTERM, on the `stop` command (which
 * must call it) and when the parent goes away, so temp dirs are removed whatever happens.
 */
export function serveParent (commands, shutdown) {
  process.on('message', async (msg) => {
    if (msg?.cmd == null) return
    try {
      const result = await commands[msg.cmd](msg.args ?? {})
      process.send({ id: msg.id, ok: true, result })
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: err?.stack ?? String(err) })
    }
    if (msg.cmd === 'stop') process.disconnect()
  })
  // Ctrl-C reaches the whole process group: let the parent stop us in order.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => { void shutdown().finally(() => process.exit(0)) })
  process.on('disconnect', () => { void shutdown().finally(() => process.exit(0)) })
  process.send({ event: 'ready' })
}
