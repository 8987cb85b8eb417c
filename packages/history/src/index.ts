/**
 * @packageDocumentation
 *
 * History sync between the devices of one user (docs/devices.md, "History sync"), on
 * `/kith/history/1.0.0`. A device pulls from another of its user's devices the history it
 * lacks, across every conversation: the two reconcile their sets of (time, message id) with
 * range-based set reconciliation (`@kith/sync`), so the talk grows with the difference, not
 * with the history; then the missing records come in batches, each written in ONE LevelDB
 * batch, so a sync cut off at any moment (even by kill -9) goes on where it stopped the next
 * time, and nothing is written twice. Each device keeps its own `seq` numbers: an imported
 * record is appended at the end of its conversation, a batch in (time, id) order. (A new
 * device gets its history in time order; one that already held part of it may see a few older
 * messages appended after newer ones: seq is the order messages reached this device.)
 *
 * The store keeps a sealed index of every record's time and id (`KithStore.historySyncEntries`),
 * which the service starts building in the background when it starts: the first time, each
 * record is read once; afterwards a sync that finds nothing new costs milliseconds.
 *
 * A device serves only peers that `isOwnDevice` accepts (checked on every inbound stream), and
 * pulls only from them. Every frame is bounded before it is parsed; a malformed, oversized or
 * unexpected frame, or a record that was not asked for, ends the stream with a
 * {@link HistorySyncError} and is counted in `metrics.invalid`; a record whose fields are out
 * of their limits is left out and counted.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { historySync } from '@kith/history'
 *
 * const node = await createLibp2p({
 *   ...,
 *   services: {
 *     history: historySync({ store, isOwnDevice: (peer) => myDevices.has(peer.toString()) })
 *   }
 * })
 * node.services.history.addEventListener('history:progress', (evt) => {
 *   console.log(`${evt.detail.fetched} of ${evt.detail.total} messages`)
 * })
 * // On a newly linked device: pull everything the identity device holds.
 * const { fetched, bytes, ms } = await node.services.history.sync(identityDevice)
 * // Later, only the last week.
 * await node.services.history.sync(laptop, { since: Date.now() - 7 * 86_400_000, signal })
 * ```
 */
import { DefaultHistorySync } from './history-sync.js'
import type { HistoryTuning } from './constants.js'
import type { HistoryMetrics } from './metrics.js'
import type { KithStore } from '@kith/store'
import type { ComponentLogger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export { HISTORY_PROTOCOL, HISTORY_VERSION, HISTORY_LIMITS, HISTORY_DEFAULTS } from './constants.js'
export type { HistoryTuning } from './constants.js'
export { HistorySyncError, HistorySyncRefusedError } from './errors.js'
export type { HistoryMetrics } from './metrics.js'

/** Events of the history sync service. */
export interface HistorySyncEvents {
  /**
   * A sync made progress: `fetched` of the `total` records this device lacked are settled
   * (written, or found gone or invalid on the other side). At most ~4 a second per sync, and a
   * last one when the sync ends well, with `fetched === total`.
   */
  'history:progress': CustomEvent<{ peer: string, fetched: number, total: number }>
}

/** What the history sync service needs from the node. */
export interface HistorySyncInit {
  /** This device's store: history is read from and imported into it. */
  store: KithStore
  /** Whether a peer is one of this user's own devices (checked on every inbound stream; others are refused and counted). */
  isOwnDevice: (peer: PeerId) => boolean
  /** Tuning (defaults in {@link HISTORY_DEFAULTS}). */
  tuning?: Partial<HistoryTuning>
}

/** Exactly the libp2p components the service uses. */
export interface HistorySyncComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

/** Options of {@link HistorySync.sync}. */
export interface HistorySyncOptions {
  /** Only messages with `ts >= since` (ms since the epoch); default: all of history. */
  since?: number
  signal?: AbortSignal
}

/** What one sync did. */
export interface HistorySyncResult {
  /** Records written to this device's history. */
  fetched: number
  /** Records this device lacked, as reconciliation found. */
  needed: number
  /** Records that were here already when their batch was written (arrived meanwhile by another path). */
  known: number
  /** Records the other device no longer had. */
  unavailable: number
  /** Records refused for fields out of their limits (they stay missing). */
  skipped: number
  /** Reconciliation round trips. */
  rounds: number
  /** Frame bytes sent and received (the Noise and yamux framing around them not counted). */
  bytes: number
  /** Time from opening the stream to the last batch written. */
  ms: number
}

/** The history sync service. */
export interface HistorySync extends Startable, TypedEventTarget<HistorySyncEvents> {
  /**
   * Pull from `peer` (one of this user's devices) what this device lacks. Resumable: each
   * batch is committed as it arrives, and the next sync fetches only what is still missing.
   *
   * @throws {HistorySyncRefusedError} when `peer` is not one of ours, or it does not hold us for one of its
   * @throws {HistorySyncError} when the other device sends bad frames, lies, stops answering or ends the stream
   * @throws AbortError when `signal` aborts (what was written stays)
   * @throws the dial's error when `peer` cannot be reached
   */
  sync(peer: PeerId, options?: HistorySyncOptions): Promise<HistorySyncResult>
  readonly metrics: HistoryMetrics
}

/** Create the history sync service for libp2p's `services`. */
export function historySync (init: HistorySyncInit): (components: HistorySyncComponents) => HistorySync {
  return (components) => new DefaultHistorySync(components, init)
}
