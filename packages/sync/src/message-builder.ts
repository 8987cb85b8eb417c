import { SYNC_VERSION } from './constants.js'
import { SyncMessage } from './proto/sync.js'
import { VERSION_BYTES, varintLength } from './wire.js'
import type { SyncBound } from './item.js'

/**
 * Collects the ranges of one outgoing message and keeps its exact encoded size, so the
 * reconciler can stop before the size limit.
 */
export class MessageBuilder {
  readonly #message: SyncMessage = { version: SYNC_VERSION, boundTs: [], boundId: [], mode: [], payload: [] }
  /** Timestamps are sent as deltas from the previous bound's. */
  #lastTs = 0
  #bytes = VERSION_BYTES

  /** Encoded size so far. */
  get bytes (): number {
    return this.#bytes
  }

  /** Whether no range was added. */
  get isEmpty (): boolean {
    return this.#message.mode.length === 0
  }

  /** Append a range; bounds must come in increasing order. */
  add (bound: SyncBound, mode: number, payload: Uint8Array): void {
    // 0 stands for +infinity, so finite deltas are sent plus one.
    const code = bound.ts === Number.POSITIVE_INFINITY ? 0 : bound.ts - this.#lastTs + 1
    if (code !== 0) this.#lastTs = bound.ts
    this.#message.boundTs.push(code)
    this.#message.boundId.push(new Uint8Array(bound.id))
    this.#message.mode.push(mode)
    this.#message.payload.push(new Uint8Array(payload))
    this.#bytes += 1 + varintLength(code) +
      1 + varintLength(bound.id.length) + bound.id.length +
      1 + varintLength(mode) +
      1 + varintLength(payload.length) + payload.length
  }

  /** The message's bytes. */
  encode (): Uint8Array {
    return SyncMessage.encode(this.#message)
  }
}

/** An IdList payload: each id as one length byte, then its bytes. */
export function encodeIds (ids: Uint8Array[]): Uint8Array {
  let length = 0
  for (const id of ids) length += 1 + id.length
  const out = new Uint8Array(length)
  let pos = 0
  for (const id of ids) {
    out[pos] = id.length
    out.set(id, pos + 1)
    pos += 1 + id.length
  }
  return out
}
