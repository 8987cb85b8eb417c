import { TypedEventEmitter } from '@libp2p/interface'
import { HISTORY_DEFAULTS, HISTORY_LIMITS, HISTORY_PROTOCOL } from './constants.js'
import { HistorySyncRefusedError } from './errors.js'
import { newMetrics } from './metrics.js'
import { pull } from './requester.js'
import { serve } from './responder.js'
import { IndexCache } from './sync-index.js'
import { FrameKind, Frames } from './wire.js'
import type { HistoryTuning } from './constants.js'
import type { HistorySync, HistorySyncComponents, HistorySyncEvents, HistorySyncInit, HistorySyncOptions, HistorySyncResult } from './index.js'
import type { HistoryMetrics } from './metrics.js'
import type { Connection, Logger, PeerId, Startable, Stream } from '@libp2p/interface'

/** The history sync service: serves this device's history to the user's other devices, and pulls theirs. */
export class DefaultHistorySync extends TypedEventEmitter<HistorySyncEvents> implements HistorySync, Startable {
  readonly metrics: HistoryMetrics = newMetrics()
  private readonly log: Logger
  private readonly tuning: HistoryTuning
  /** Streams open now, in either role: aborted on stop. */
  private readonly streams = new Set<Stream>()
  private running = false
  private readonly indexes: IndexCache
  /** Building the store's sync index in the background from start, so the first sync finds it ready. */
  private warming: Promise<void> = Promise.resolve()

  constructor (private readonly components: HistorySyncComponents, private readonly init: HistorySyncInit) {
    super()
    this.log = components.logger.forComponent('kith:history')
    this.tuning = checkTuning({ ...HISTORY_DEFAULTS, ...init.tuning })
    this.indexes = new IndexCache(init.store)
  }

  readonly [Symbol.toStringTag] = '@kith/history'

  async start (): Promise<void> {
    await this.components.registrar.handle(HISTORY_PROTOCOL, (stream, connection) => { void this.handle(stream, connection) }, {
      maxInboundStreams: this.tuning.maxInboundStreams,
      // Our other device may be behind NAT, reached through a friend's relay.
      runOnLimitedConnection: true
    })
    this.running = true
    this.warming = this.indexes.get(0).then(() => {}, (err) => { this.log('building the history sync index failed: %s', err?.message) })
  }

  async stop (): Promise<void> {
    this.running = false
    await this.components.registrar.unhandle(HISTORY_PROTOCOL)
    for (const stream of this.streams) stream.abort(new Error('history sync stopped'))
    this.streams.clear()
    await this.warming
  }

  private async handle (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer
    this.streams.add(stream)
    try {
      if (!this.init.isOwnDevice(remote)) {
        this.metrics.refused++
        this.log('refused history sync from %p: not one of our devices', remote)
        const frames = new Frames(stream, { timeoutMs: this.tuning.frameTimeoutMs, maxBufferBytes: 64 * 1024 })
        await frames.write({ kind: FrameKind.REFUSED })
        await stream.close({ signal: AbortSignal.timeout(this.tuning.frameTimeoutMs) })
        return
      }
      await serve(stream, remote, { store: this.init.store, index: async (since) => await this.indexes.get(since), tuning: this.tuning, metrics: this.metrics, log: this.log })
    } catch (err: any) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.streams.delete(stream)
    }
  }

  async sync (peer: PeerId, options: HistorySyncOptions = {}): Promise<HistorySyncResult> {
    const since = options.since ?? 0
    if (!Number.isSafeInteger(since) || since < 0) throw new RangeError('since must be a time in ms since the epoch')
    if (!this.running) throw new Error('the history sync service is not started')
    // Records from a peer that is not ours would be taken into our history as if we had written or received them.
    if (!this.init.isOwnDevice(peer)) throw new HistorySyncRefusedError(`${peer.toString()} is not one of this user's devices`)
    options.signal?.throwIfAborted()
    const dialSignal = AbortSignal.timeout(this.tuning.frameTimeoutMs)
    const stream = await this.components.connectionManager.openStream(peer, HISTORY_PROTOCOL, {
      signal: options.signal == null ? dialSignal : AbortSignal.any([dialSignal, options.signal]),
      runOnLimitedConnection: true
    })
    this.streams.add(stream)
    const progress = this.progress(peer.toString())
    try {
      const result = await pull(stream, {
        store: this.init.store,
        index: async () => await this.indexes.get(since),
        since,
        tuning: this.tuning,
        metrics: this.metrics,
        signal: options.signal,
        progress: progress.report
      })
      progress.done()
      return result
    } finally {
      this.streams.delete(stream)
    }
  }

  /** Progress events for one sync: at most `progressPerSecond`, and always the last one. */
  private progress (peer: string): { report: (fetched: number, total: number) => void, done: () => void } {
    const gap = 1000 / this.tuning.progressPerSecond
    let last = Number.NEGATIVE_INFINITY
    let latest = { fetched: 0, total: 0 }
    let sentLatest = false
    const emit = (): void => {
      last = performance.now()
      sentLatest = true
      this.safeDispatchEvent('history:progress', { detail: { peer, ...latest } })
    }
    return {
      report: (fetched, total) => {
        latest = { fetched, total }
        sentLatest = false
        if (performance.now() - last >= gap && fetched < total) emit()
      },
      done: () => { if (!sentLatest) emit() }
    }
  }
}

/** @throws {RangeError} when a tuning value is out of its range */
function checkTuning (tuning: HistoryTuning): HistoryTuning {
  const ranges: Record<keyof HistoryTuning, [number, number]> = {
    batchSize: [1, HISTORY_LIMITS.maxWantIds],
    // The requester's read buffer holds this many frames (and one more) at most.
    window: [1, 8],
    recordsFrameBytes: [HISTORY_LIMITS.maxRecordBytes, HISTORY_LIMITS.maxFrameBytes - 64 * 1024],
    frameTimeoutMs: [1, 10 * 60_000],
    maxInboundStreams: [1, 64],
    progressPerSecond: [0.1, 1000]
  }
  for (const [name, [min, max]] of Object.entries(ranges)) {
    const value = tuning[name as keyof HistoryTuning]
    if (typeof value !== 'number' || !(value >= min && value <= max)) throw new RangeError(`history tuning ${name} must be from ${min} to ${max}, got ${value}`)
  }
  return tuning
}
