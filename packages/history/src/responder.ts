import { toHex } from '@kith/core'
import { Reconciler } from '@kith/sync'
import { HISTORY_LIMITS, HISTORY_VERSION } from './constants.js'
import { HistorySyncError, invalidInput, isInvalidInput } from './errors.js'
import { FrameKind, Frames, NameTable, wireOf } from './wire.js'
import type { HistoryTuning } from './constants.js'
import type { HistoryMetrics } from './metrics.js'
import type { HistorySyncIndex } from './sync-index.js'
import type { HistoryFrame } from './wire.js'
import type { KithStore } from '@kith/store'
import type { Logger, PeerId, Stream } from '@libp2p/interface'

export interface ServeInit {
  store: KithStore
  /** The index of this store's history from `since` on. */
  index: (since: number) => Promise<HistorySyncIndex>
  tuning: HistoryTuning
  metrics: HistoryMetrics
  log: Logger
}

/**
 * The responder's side of /kith/history/1.0.0, for a peer already known to be one of our
 * devices: answer its reconciliation over our history (ts >= its `since`), then each WANT with
 * the records we have, in order, as many as fit in a frame. Never throws: a bad frame ends
 * the stream (and is counted).
 */
export async function serve (stream: Stream, remote: PeerId, init: ServeInit): Promise<void> {
  const { tuning, metrics } = init
  // Only the WANTs in flight are ever waiting here: a few small frames.
  const frames = new Frames(stream, { timeoutMs: tuning.frameTimeoutMs, maxBufferBytes: 2 * HISTORY_LIMITS.maxFrameBytes })
  try {
    const hello = await frames.read(FrameKind.HELLO)
    if (hello.version !== HISTORY_VERSION) throw invalidInput(`unsupported history sync version ${hello.version}`)
    const index = await init.index(hello.since)
    const reconciler = new Reconciler(index, { maxMessageBytes: HISTORY_LIMITS.maxReconBytes })
    let frame: HistoryFrame = hello
    for (let rounds = 1; frame.kind === FrameKind.HELLO || frame.kind === FrameKind.RECON; rounds++) {
      if (rounds > HISTORY_LIMITS.maxRounds) throw new HistorySyncError('reconciliation did not finish')
      let reply: Uint8Array | undefined
      try {
        reply = reconciler.reconcile(frame.recon).reply
      } catch (err) {
        throw invalidInput('bad reconciliation message', err)
      }
      await frames.write({ kind: FrameKind.RECON, recon: reply as Uint8Array<ArrayBuffer> })
      frame = await frames.read(FrameKind.RECON, FrameKind.WANT, FrameKind.END)
    }
    while (frame.kind === FrameKind.WANT) {
      await answer(frames, frame.ids, index, init)
      frame = await frames.read(FrameKind.WANT, FrameKind.END)
    }
    await stream.close({ signal: AbortSignal.timeout(tuning.frameTimeoutMs) })
    metrics.servedSyncs++
  } catch (err: any) {
    if (isInvalidInput(err)) metrics.invalid++
    init.log('history sync served to %p failed: %s', remote, err?.message)
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  } finally {
    metrics.bytesServed += frames.bytes
  }
}

/** One RECORDS frame for a WANT: the ids in order, as many as fit; `answered` says how many. */
async function answer (frames: Frames, ids: Uint8Array[], index: HistorySyncIndex, init: ServeInit): Promise<void> {
  const positions = ids.map(id => index.indexOf(id))
  const found = positions.filter((p): p is number => p !== undefined)
  const stored = await init.store.historyRecordsAt(found.map(p => index.refAt(p)))
  const names = new NameTable()
  const records: Array<Uint8Array<ArrayBuffer>> = []
  const sent = new Set<number>()
  let bytes = 0
  let answered = 0
  let next = 0
  for (const [i, position] of positions.entries()) {
    const record = position === undefined ? undefined : stored[next++]
    // A record that is not the one indexed there (changed since the index was read) is not sent.
    if (record !== undefined && !sent.has(position as number) && record.id === toHex(ids[i] as Uint8Array)) {
      // Always at least one id per frame, so every WANT is answered in the end.
      // Room for the largest record and the two names it may add.
      const room = init.tuning.recordsFrameBytes - bytes - names.bytes - HISTORY_LIMITS.maxRecordBytes - 2 * (HISTORY_LIMITS.maxNameBytes + 2)
      if (answered > 0 && (room < 0 || records.length >= HISTORY_LIMITS.maxRecords)) break
      const wire = wireOf(record, names)
      if (wire !== undefined) {
        bytes += wire.length
        records.push(wire)
        sent.add(position as number)
      }
    }
    answered++
  }
  await frames.write({ kind: FrameKind.RECORDS, names: names.names, records, answered })
  init.metrics.served += records.length
}
