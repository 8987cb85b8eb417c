import { createHash } from 'node:crypto'
import { toHex } from '@kith/core'
import { MemorySyncStorage } from '../src/memory-storage.js'
import { Reconciler } from '../src/reconciler.js'
import type { SyncItem } from '../src/item.js'
import type { ReconcilerOptions } from '../src/options.js'

/** A deterministic id of `length` bytes (16 to 32) for a label. */
export function idOf (label: string | number, length = 16): Uint8Array {
  return new Uint8Array(createHash('sha256').update(String(label)).digest().subarray(0, length))
}

/** `count` items with distinct ids, timestamps spread over about `span` ms from `start`. */
export function items (prefix: string, count: number, start = 1_700_000_000_000, span = count * 1000): SyncItem[] {
  return Array.from({ length: count }, (_, i) => ({ ts: start + Math.floor(i * span / Math.max(count, 1)), id: idOf(`${prefix}${i}`) }))
}

/** Lower-case hex of each id, sorted: for comparing id lists as sets. */
export function hexSet (ids: Iterable<Uint8Array>): string[] {
  return [...ids].map(id => toHex(id)).sort()
}

export interface Side { have: Uint8Array[], need: Uint8Array[] }

export interface Outcome {
  initiator: Side
  responder: Side
  /** Messages sent by the initiator, the first included: the round trips. */
  rounds: number
  /** Bytes sent both ways. */
  bytes: number
  /** Largest message either way. */
  largest: number
}

/** Run a whole exchange in memory; a runaway exchange fails after `maxRounds`. */
export function run (a: SyncItem[], b: SyncItem[], options: ReconcilerOptions = {}, maxRounds = 200): Outcome {
  const initiator = new Reconciler(new MemorySyncStorage(a), options)
  const responder = new Reconciler(new MemorySyncStorage(b), options)
  const outcome: Outcome = { initiator: { have: [], need: [] }, responder: { have: [], need: [] }, rounds: 0, bytes: 0, largest: 0 }
  let message: Uint8Array | undefined = initiator.initiate()
  while (message !== undefined) {
    if (++outcome.rounds > maxRounds) throw new Error(`no end after ${maxRounds} rounds`)
    count(outcome, message)
    const answer = responder.reconcile(message)
    collect(outcome.responder, answer)
    if (answer.reply === undefined) throw new Error('the responder must always reply')
    count(outcome, answer.reply)
    const result = initiator.reconcile(answer.reply)
    collect(outcome.initiator, result)
    message = result.reply
  }
  return outcome
}

function count (outcome: Outcome, message: Uint8Array): void {
  outcome.bytes += message.length
  outcome.largest = Math.max(outcome.largest, message.length)
}

function collect (side: Side, result: Side): void {
  side.have.push(...result.have)
  side.need.push(...result.need)
}

/** Ids of items in `a` and not in `b`, as sorted hex. */
export function minus (a: SyncItem[], b: SyncItem[]): string[] {
  const inB = new Set(b.map(item => toHex(item.id)))
  return [...new Set(a.map(item => toHex(item.id)).filter(id => !inB.has(id)))].sort()
}
