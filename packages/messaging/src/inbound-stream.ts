import { LIMITS, lengthPrefixed } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { INBOUND_IDLE_MS, MAX_QUEUED_FRAMES } from './constants.js'
import { Pulse } from './pulse.js'
import type { Stream } from '@libp2p/interface'

/**
 * Frames read off the wire but not yet handled, counted across all inbound streams: a reader
 * stops reading (and so, through yamux's flow control, its peer stops sending) while the total
 * is at its cap, so many streams at once can't queue unbounded memory.
 */
export class InboundBudget {
  private used = 0
  private readonly waiting = new Pulse()
  constructor (readonly cap: number) {}

  get queued (): number { return this.used }

  /** Take one frame's place, waiting while none is free; false if `cancelled` says to stop waiting. */
  async take (cancelled: () => boolean): Promise<boolean> {
    while (this.used >= this.cap) {
      if (cancelled()) return false
      await this.waiting.wait(1_000)
    }
    if (cancelled()) return false
    this.used++
    return true
  }

  give (count: number): void {
    this.used -= count
    this.waiting.notify()
  }
}

/** Most frames handled (verified, stored, acked) together. */
const MAX_BATCH = 256

/** What the service does with frames: their acks, in order, and whether to drop the stream after them. */
export type BatchHandler = (frames: Uint8Array[]) => Promise<{ acks: Uint8Array[], drop: boolean }>

/**
 * Serve one inbound /kith/dm stream. A reader takes frames off the wire (each size-limited
 * before it is read) while the handler works on the previous ones, so frames that arrive
 * together are verified, stored in one batch and acked in one write; a lone frame is handled
 * at once. Acks go out in frame order. Resolves when the stream ends; throws (after aborting the
 * stream) when it has to be dropped.
 *
 * @param admit - called per frame before it is queued; false drops the stream (flooding)
 * @param budget - the frames queued across all streams (by default, this stream's own)
 */
export async function serveInbound (stream: Stream, handle: BatchHandler, admit: () => boolean, budget = new InboundBudget(MAX_QUEUED_FRAMES)): Promise<void> {
  const lp = lpStream(stream, lengthPrefixed(LIMITS.maxFrameBytes))
  const queue: Uint8Array[] = []
  const pulse = new Pulse()
  const handled = new Pulse()
  let ended = false
  let stopped = false
  let failure: Error | undefined

  const reading = (async () => {
    try {
      while (!stopped) {
        // Read no further ahead than MAX_QUEUED_FRAMES on this stream, nor past the budget of all streams.
        while (queue.length >= MAX_QUEUED_FRAMES && !stopped) await handled.wait(1_000)
        // A sender closes a stream it has not used for IDLE_CLOSE_MS; one that holds it open longer, silent, is let go.
        const frame = await lp.read({ signal: AbortSignal.timeout(INBOUND_IDLE_MS) })
        if (!admit()) throw new Error('peer is flooding')
        if (!await budget.take(() => stopped)) break
        queue.push(frame.subarray())
        pulse.notify()
      }
    } catch (err: any) {
      if (err?.name !== 'UnexpectedEOFError' && err?.name !== 'TimeoutError' && err?.name !== 'AbortError' && !stopped) failure = err
    } finally {
      ended = true
      pulse.notify()
    }
  })()

  try {
    while (failure == null) {
      if (queue.length === 0) {
        if (ended) break
        await pulse.wait(60_000)
        continue
      }
      const batch = queue.splice(0, MAX_BATCH)
      handled.notify()
      let result
      try {
        result = await handle(batch)
      } finally {
        budget.give(batch.length)
      }
      if (result.acks.length > 0) await lp.writeV(result.acks)
      if (result.drop) throw new Error('undecodable frame')
    }
    if (failure != null) throw failure
    await stream.close()
  } catch (err: any) {
    stream.abort(err)
    throw err
  } finally {
    stopped = true
    handled.notify()
    budget.give(queue.splice(0).length)
    await reading
  }
}
