import { LIMITS } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { Pulse } from './pulse.js'
import type { Stream } from '@libp2p/interface'

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
 */
export async function serveInbound (stream: Stream, handle: BatchHandler, admit: () => boolean): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: LIMITS.maxFrameBytes })
  const queue: Uint8Array[] = []
  const pulse = new Pulse()
  let ended = false
  let failure: Error | undefined

  const reading = (async () => {
    try {
      while (true) {
        const frame = await lp.read()
        if (!admit()) throw new Error('peer is flooding')
        queue.push(frame.subarray())
        pulse.notify()
      }
    } catch (err: any) {
      if (err?.name !== 'UnexpectedEOFError') failure = err
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
      const { acks, drop } = await handle(queue.splice(0, MAX_BATCH))
      if (acks.length > 0) await lp.writeV(acks)
      if (drop) throw new Error('undecodable frame')
    }
    if (failure != null) throw failure
    await stream.close()
  } catch (err: any) {
    stream.abort(err)
    throw err
  } finally {
    await reading
  }
}
