import { decodeSyncMessage } from './decode.js'
import { INFINITY_BOUND, minimalBound } from './item.js'
import { encodeIds, MessageBuilder } from './message-builder.js'
import { settingsOf } from './options.js'
import { FINAL_RANGE_BYTES, MAX_ID_LIST_OVERHEAD_BYTES, MAX_SKIP_RANGE_BYTES, Mode } from './wire.js'
import type { SyncBound } from './item.js'
import type { ReconcilerOptions, Settings } from './options.js'
import type { SyncStorage } from './storage.js'
import type { WireRange } from './wire.js'

/** What one call to {@link Reconciler.reconcile} learned and what to send back. */
export interface ReconcileResult {
  /**
   * The message for the peer. Absent only on the initiator, when reconciliation is complete;
   * the responder always replies, and learns of the end when the initiator stops sending.
   */
  reply?: Uint8Array
  /** Ids we have that the peer lacks, learned in this call. */
  have: Uint8Array[]
  /** Ids the peer has that we lack, learned in this call. */
  need: Uint8Array[]
}

interface Round {
  readonly out: MessageBuilder
  /** Upper bound of ranges found equal and not yet written: they become one Skip range. */
  skipTo: SyncBound | undefined
  readonly have: Uint8Array[]
  readonly need: Uint8Array[]
}

const EMPTY = new Uint8Array(0)

/**
 * One side of a range-based set reconciliation (after Negentropy). The initiator calls
 * {@link initiate} once and sends the result; then each side passes every message it receives
 * to {@link reconcile} and sends back the reply, until the initiator gets no reply.
 *
 * Who learns what: the initiator's `have` and `need`, summed over its calls, are exactly the
 * ids the responder lacks and the ids it lacks, each once. The responder learns a part of the
 * same difference (its `have` ⊆ the initiator's `need`, its `need` ⊆ the initiator's `have`,
 * no id twice): the ranges the initiator listed by id and it answered in full. So the initiator
 * should both fetch its `need` and push its `have`.
 *
 * One reconciler serves one exchange with one peer, over a set that does not change meanwhile;
 * it remembers the ids it reported, so its memory grows with the difference. Each message
 * costs work linear in its size plus the items it covers: hostile input can neither hang nor
 * grow a reply past `maxMessageBytes`. The number of rounds is for the caller to bound, with
 * a timeout on the exchange.
 */
export class Reconciler {
  readonly #storage: SyncStorage
  readonly #settings: Settings
  #role: 'initiator' | 'responder' | undefined
  /**
   * Ids reported so far. A full reply ends with one fingerprint over everything after the
   * point where it stopped, which can cover again ranges already settled by id lists.
   */
  readonly #reportedHave = new Set<string>()
  readonly #reportedNeed = new Set<string>()

  /** @throws {RangeError} when an option is out of its range */
  constructor (storage: SyncStorage, options: ReconcilerOptions = {}) {
    this.#storage = storage
    this.#settings = settingsOf(options)
  }

  /**
   * The first message, which makes this side the initiator: one fingerprint of the whole set.
   *
   * @throws {Error} when this reconciler already initiated or answered a message
   */
  initiate (): Uint8Array {
    if (this.#role !== undefined) throw new Error('initiate() must be the first call on a Reconciler')
    this.#role = 'initiator'
    const out = new MessageBuilder()
    out.add(INFINITY_BOUND, Mode.Fingerprint, this.#storage.fingerprint(0, this.#storage.size()))
    return out.encode()
  }

  /**
   * Process the peer's message. Without a prior {@link initiate} this side is the responder,
   * which always replies (possibly with a message of no ranges).
   *
   * @throws {SyncProtocolError} when the message is oversized, malformed or inconsistent. The
   * reconciler is left as it was and could take another message, but a peer that sends such
   * input is broken or hostile: drop the exchange.
   */
  reconcile (message: Uint8Array): ReconcileResult {
    const ranges = decodeSyncMessage(message, this.#settings.maxMessageBytes)
    this.#role ??= 'responder'
    const round: Round = { out: new MessageBuilder(), skipTo: undefined, have: [], need: [] }
    const size = this.#storage.size()
    let lower = 0
    for (const range of ranges) {
      if (round.out.bytes + this.#settings.reserve > this.#settings.maxMessageBytes) {
        // Full: one fingerprint covers the rest, and the next round goes on from there.
        this.#emit(round, INFINITY_BOUND, Mode.Fingerprint, this.#storage.fingerprint(lower, size))
        break
      }
      const upper = this.#storage.findLowerBound(range.bound)
      if (!this.#process(round, range, lower, upper)) break
      lower = upper
    }
    const { out, have, need } = round
    if (out.isEmpty && this.#role === 'initiator') return { have, need }
    return { reply: out.encode(), have, need }
  }

  /** Answer one incoming range covering our items lower ≤ i < upper; false if the reply is full. */
  #process (round: Round, range: WireRange, lower: number, upper: number): boolean {
    switch (range.mode) {
      case Mode.Skip:
        round.skipTo = range.bound
        return true
      case Mode.Fingerprint:
        if (Buffer.compare(this.#storage.fingerprint(lower, upper), range.fingerprint) === 0) round.skipTo = range.bound
        else if (upper - lower <= this.#settings.idListThreshold) this.#emit(round, range.bound, Mode.IdList, this.#ids(lower, upper))
        else this.#split(round, range.bound, lower, upper)
        return true
      case Mode.IdList:
        if (this.#role === 'responder') return this.#answerIds(round, range.bound, range.ids, lower, upper)
        // The initiator settles the range here: nothing goes back for it.
        this.#learn(round, range.ids, lower, upper)
        round.skipTo = range.bound
        return true
    }
  }

  /** Split our items into `branching` ranges of near-equal counts, each with its fingerprint. */
  #split (round: Round, bound: SyncBound, lower: number, upper: number): void {
    const { branching } = this.#settings
    const base = Math.floor((upper - lower) / branching)
    const extra = (upper - lower) % branching
    let from = lower
    for (let i = 0; i < branching; i++) {
      const to = from + base + (i < extra ? 1 : 0)
      const next = to === upper ? bound : minimalBound(this.#storage.itemAt(to - 1), this.#storage.itemAt(to))
      this.#emit(round, next, Mode.Fingerprint, this.#storage.fingerprint(from, to))
      from = to
    }
  }

  /**
   * The responder's answer to the initiator's ids: all of ours in the range, so the initiator
   * learns the difference. If they do not fit, as many as fit and a fingerprint for the rest;
   * the responder then learns nothing here, since the rest will be compared again.
   */
  #answerIds (round: Round, bound: SyncBound, theirs: Uint8Array[], lower: number, upper: number): boolean {
    const room = this.#settings.maxMessageBytes - round.out.bytes - MAX_SKIP_RANGE_BYTES - MAX_ID_LIST_OVERHEAD_BYTES - FINAL_RANGE_BYTES
    let used = 0
    let end = lower
    while (end < upper) {
      const bytes = 1 + this.#storage.itemAt(end).id.length
      if (used + bytes > room) break
      used += bytes
      end++
    }
    if (end === upper) {
      this.#learn(round, theirs, lower, upper)
      this.#emit(round, bound, Mode.IdList, this.#ids(lower, upper))
      return true
    }
    // The reserve left room for at least idListThreshold ids, so end > lower.
    this.#emit(round, minimalBound(this.#storage.itemAt(end - 1), this.#storage.itemAt(end)), Mode.IdList, this.#ids(lower, end))
    this.#emit(round, INFINITY_BOUND, Mode.Fingerprint, this.#storage.fingerprint(end, this.#storage.size()))
    return false
  }

  /** Compare the peer's ids in a range with ours there, reporting only ids not reported before. */
  #learn (round: Round, theirs: Uint8Array[], lower: number, upper: number): void {
    const missing = new Map<string, Uint8Array>()
    for (const id of theirs) missing.set(keyOf(id), id)
    for (let i = lower; i < upper; i++) {
      const { id } = this.#storage.itemAt(i)
      const key = keyOf(id)
      if (!missing.delete(key)) report(this.#reportedHave, key, new Uint8Array(id), round.have)
    }
    for (const [key, id] of missing) report(this.#reportedNeed, key, id, round.need)
  }

  /** Our ids lower ≤ i < upper as an IdList payload. */
  #ids (lower: number, upper: number): Uint8Array {
    const ids: Uint8Array[] = []
    for (let i = lower; i < upper; i++) ids.push(this.#storage.itemAt(i).id)
    return encodeIds(ids)
  }

  /** Write a range, after the Skip range for any equal ranges before it. */
  #emit (round: Round, bound: SyncBound, mode: number, payload: Uint8Array): void {
    if (round.skipTo !== undefined) {
      round.out.add(round.skipTo, Mode.Skip, EMPTY)
      round.skipTo = undefined
    }
    round.out.add(bound, mode, payload)
  }
}

/** A compact map key for an id. */
function keyOf (id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1')
}

function report (reported: Set<string>, key: string, id: Uint8Array, out: Uint8Array[]): void {
  if (reported.has(key)) return
  reported.add(key)
  out.push(id)
}
