// Shared pieces of the DM benchmark: the raw protocol, payloads, statistics, profiling.
import '@kith/core/polyfill'
import { randomBytes } from 'node:crypto'
import { writeFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { Session } from 'node:inspector/promises'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { generateDataKey, openRecord, sealRecord } from '@kith/crypto'

/** The floor: a bare libp2p stream protocol carrying frames the size of Kith envelopes. */
export const RAW_PROTOCOL = '/bench/raw/1.0.0'
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
export const KITH_MODES = { clear: 'kith-clear', e2ee: 'kith', 'e2ee-at-rest': 'kith-at-rest' }
