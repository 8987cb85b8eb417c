import { Reconciler } from '@kith/sync'
import { HISTORY_LIMITS, HISTORY_VERSION } from './constants.js'
import { HistorySyncError, invalidInput, isInvalidInput } from './errors.js'
import { keyOf } from './sync-index.js'
import { FrameKind, Frames, importedOf, recordIdOf } from './wire.js'
import type { HistoryTuning } from './constants.js'
import type { HistorySyncResult } from './index.js'
import type { HistoryMetrics } from './metrics.js'
import type { HistorySyncIndex } from './sync-index.js'
import type { HistoryFrame } from './wire.js'
import type { ImportedMessage, KithStore } from '@kith/store'
import type { Stream } from '@libp2p/interface'

export interface PullInit {
  store: KithStore
  /** The index of this store's history from `since` on. */
  index: () => Promise<HistorySyncIndex>
  since: number
  tuning: HistoryTuning
  metrics: HistoryMetrics
  signal?: AbortSignal | undefined
  /** Called as ids are settled (`fetched` of `total`); the caller throttles. */
  progress: (fetched: number, total: number) => void
}

/**
 * The requester's side of /kith/history/1.0.0 on an open stream: reconcile this store's
 * (ts, id) set with the other device's, then fetch what is missing, `batchSize` ids per WANT
 * with `window` WANTs in flight, each answer written in one batch as it arrives.
 */
export async function pull (stream: Stream, init: PullInit): Promise<HistorySyncResult> {
  const started = performance.now()
  const { tuning, metrics } = init
  // Answers to the WANTs in flight, with room for a frame being written into the buffer.
  const frames = new Frames(stream, { timeoutMs: tuning.frameTimeoutMs, maxBufferBytes: (tuning.window + 1) * HISTORY_LIMITS.maxFrameBytes, signal: init.signal })
  try {
    const index = await init.index()
    const { need, rounds } = await reconcile(frames, index, init.since)
    const fetch = await fetchMissing(frames, need, init)
    await frames.write({ kind: FrameKind.END })
    await stream.close({ signal: AbortSignal.timeout(tuning.frameTimeoutMs) })
    metrics.synced++
    return { ...fetch, needed: need.length, rounds, bytes: frames.bytes, ms: performance.now() - started }
  } catch (err: any) {
    if (isInvalidInput(err)) metrics.invalid++
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    metrics.bytesFetched += frames.bytes
  }
}

async function reconcile (frames: Frames, index: HistorySyncIndex, since: number): Promise<{ need: Uint8Array[], rounds: number }> {
  const reconciler = new Reconciler(index, { maxMessageBytes: HISTORY_LIMITS.maxReconBytes })
  const need: Uint8Array[] = []
  await frames.write({ kind: FrameKind.HELLO, version: HISTORY_VERSION, since, recon: reconciler.initiate() as Uint8Array<ArrayBuffer> })
  for (let rounds = 1; ; rounds++) {
    const frame = await frames.read(FrameKind.RECON)
    let result
    try {
      result = reconciler.reconcile(frame.recon)
    } catch (err) {
      throw invalidInput('bad reconciliation message', err)
    }
    for (const id of result.need) need.push(id)
    if (result.reply === undefined) return { need, rounds }
    if (rounds >= HISTORY_LIMITS.maxRounds) throw new HistorySyncError('reconciliation did not finish')
    await frames.write({ kind: FrameKind.RECON, recon: result.reply as Uint8Array<ArrayBuffer> })
  }
}

async function fetchMissing (frames: Frames, need: Uint8Array[], init: PullInit): Promise<{ fetched: number, known: number, unavailable: number, skipped: number }> {
  const { batchSize, window } = init.tuning
  const total = need.length
  const inFlight: Uint8Array[][] = []
  /** Ids the other device has not got to yet: asked again first. */
  const again: Uint8Array[][] = []
  let next = 0
  let settled = 0
  const result = { fetched: 0, known: 0, unavailable: 0, skipped: 0 }
  const ask = async (): Promise<void> => {
    while (inFlight.length < window && (again.length > 0 || next < total)) {
      const ids = again.shift() ?? need.slice(next, next += Math.min(batchSize, HISTORY_LIMITS.maxWantIds))
      inFlight.push(ids)
      await frames.write({ kind: FrameKind.WANT, ids: ids as Array<Uint8Array<ArrayBuffer>> })
    }
  }
  init.progress(0, total)
  await ask()
  // Each batch is written while the next is read and checked: at most two batches in hand.
  let previous: Promise<void> = Promise.resolve()
  const writing = new Set<Promise<unknown>>()
  try {
    while (inFlight.length > 0) {
      const asked = inFlight.shift() as Uint8Array[]
      const frame = await frames.read(FrameKind.RECORDS)
      if (frame.answered > asked.length) throw invalidInput('a records frame answers more ids than were asked for')
      if (frame.answered < asked.length) again.push(asked.slice(frame.answered))
      const records = checkRecords(frame, asked, init, result)
      // Keep the other device busy while this batch is written.
      await ask()
      const importing = init.store.importHistory(records)
      writing.add(importing)
      void importing.catch(() => {}).finally(() => writing.delete(importing))
      const { answered } = frame
      const served = frame.records.length
      const done = Promise.all([previous, importing]).then(([, written]) => {
        result.fetched += written.records.length
        result.known += written.known
        result.unavailable += answered - served
        init.metrics.fetched += written.records.length
        settled += answered
        init.progress(settled, total)
      })
      await previous
      previous = done
    }
    await previous
  } catch (err) {
    // A batch being written lands (or not) whole before the sync gives up.
    await Promise.allSettled([...writing])
    throw err
  }
  return result
}

/**
 * The records of a frame, checked: each one of the ids the frame answers, at most once (else
 * the other device is lying or broken: the sync ends); fields in their limits (else the record
 * is refused, counted and left out; it stays missing).
 */
function checkRecords (frame: HistoryFrame, asked: Uint8Array[], init: PullInit, result: { skipped: number }): ImportedMessage[] {
  const open = new Set<string>()
  for (let i = 0; i < frame.answered; i++) open.add(keyOf(asked[i] as Uint8Array))
  const records: ImportedMessage[] = []
  for (const bytes of frame.records) {
    const id = recordIdOf(bytes)
    if (id === undefined || !open.delete(keyOf(id))) throw invalidInput('the other device sent a record that was not asked for')
    try {
      records.push(importedOf(bytes, frame.names, init.since))
    } catch (err) {
      if (!(err instanceof HistorySyncError)) throw err
      init.metrics.invalid++
      result.skipped++
    }
  }
  return records
}
