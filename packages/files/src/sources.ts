import { hasBit } from './format.js'

/** What a download knows about one device that may hold the file. */
export class Source {
  /** Bitfield of the chunks it holds (undefined: not asked yet). */
  have: Uint8Array | undefined
  complete = false
  /** CHUNKS requests in flight. */
  inflight = 0
  /** A HAVE or LEAVES request in flight. */
  asking = false
  lastAsked = 0
  failures = 0
  retryAt = 0
  refusals = 0
  badChunks = 0
  /** Out of this download: refused too often, or served bad data. */
  dropped = false

  constructor (readonly peer: string) {}

  holds (i: number): boolean {
    return this.complete || (this.have !== undefined && hasBit(this.have, i))
  }

  /** Usable for a request now. */
  ready (now: number): boolean {
    return !this.dropped && now >= this.retryAt
  }

  /** A request failed (dial, reset, timeout, BUSY): back off exponentially. */
  failed (now: number, minMs: number, maxMs: number): void {
    this.failures++
    this.retryAt = now + Math.min(maxMs, minMs * 2 ** (this.failures - 1))
  }

  succeeded (): void {
    this.failures = 0
    this.retryAt = 0
  }
}
