import fc from 'fast-check'
import { varint } from './helpers.js'
import type { lengthPrefixed } from '@kith/core'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Raw streams for fuzzing protocol handlers: bytes go out exactly as given (so a length
 * prefix can lie), and whatever comes back is collected until the handler ends the stream.
 */

/** A protocol handler took longer than the test allows to end a stream it was sent junk on. */
export class HandlerHangError extends Error { override name = 'HandlerHangError' }

/** How one exchange ended: what the handler wrote, and whether it closed the stream or reset it. */
export interface Exchanged {
  received: Uint8Array
  ended: 'closed' | 'reset'
  /**
   * The connection closed during the exchange: under load libp2p's connection monitor drops a
   * connection whose pings pile up, and every stream on it with it. Such a run shows nothing
   * about the handler either way; properties leave it out of what they assert.
   */
  connectionLost: boolean
}

/** Let `from` dial `to` (in-memory addresses are not announced anywhere). */
export async function introduce (from: Libp2p<any>, to: Libp2p<any>): Promise<void> {
  await from.peerStore.merge(to.peerId, { multiaddrs: to.getMultiaddrs() })
}

/**
 * Open `protocol` from `from` to `to`, write `chunks` as they are, close our side and read
 * until the handler ends the stream. Throws {@link HandlerHangError} when it has not within
 * `timeoutMs`: with our side closed, a handler that waits for more has its read end at once.
 */
export async function exchange (from: Libp2p<any>, to: PeerId | Multiaddr[], protocol: string, chunks: Uint8Array[], timeoutMs = 30_000): Promise<Exchanged> {
  const connection = await from.dial(to, { signal: AbortSignal.timeout(timeoutMs) })
  const stream = await connection.newStream(protocol, { signal: AbortSignal.timeout(timeoutMs), runOnLimitedConnection: true })
  const received: Uint8Array[] = []
  let ended: Exchanged['ended'] = 'closed'
  const talk = async (): Promise<void> => {
    // Read from the start: what the handler answers early is never left unread behind our writes.
    const reading = (async () => {
      try {
        for await (const chunk of stream) received.push(chunk.subarray())
      } catch {
        ended = 'reset'
      }
    })()
    try {
      for (const chunk of chunks) {
        if (!stream.send(chunk)) await stream.onDrain()
      }
      await stream.close()
    } catch {
      // The handler reset the stream while we wrote: what it sent before is still read.
      ended = 'reset'
    }
    await reading
  }
  // Aborting a stream does not end a read under way: race the exchange against the deadline.
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'hung'>(resolve => { timer = setTimeout(() => { resolve('hung') }, timeoutMs) })
  try {
    if (await Promise.race([talk(), deadline]) === 'hung') {
      stream.abort(new HandlerHangError('timed out'))
      throw new HandlerHangError(`${protocol}: the handler did not end the stream within ${timeoutMs} ms`)
    }
  } finally {
    clearTimeout(timer)
  }
  return { received: new Uint8Array(Buffer.concat(received)), ended, connectionLost: connection.status !== 'open' }
}

/** `frame` with its length prefix, as lpStream writes it. */
export function framed (frame: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.concat([varint(frame.length), frame]))
}

/** The length-prefixed frames in `bytes` (a trailing partial frame is left out). */
export function unframe (bytes: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = []
  let pos = 0
  while (pos < bytes.length) {
    let length = 0
    let scale = 1
    let byte: number
    do {
      if (pos >= bytes.length) return frames
      byte = bytes[pos++] as number
      length += (byte & 0x7f) * scale
      scale *= 128
    } while (byte >= 0x80)
    if (pos + length > bytes.length) return frames
    frames.push(bytes.subarray(pos, pos + length))
    pos += length
  }
  return frames
}

/**
 * What a fuzzer writes on a stream: well-framed frames (each from `frame`), a length prefix
 * that claims more than the handler's limit (then some bytes), or raw bytes with no framing.
 */
export function streamInput (frame: fc.Arbitrary<Uint8Array>, maxFrame: number, maxFrames = 3): fc.Arbitrary<Uint8Array[]> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(frame.map(framed), { minLength: 1, maxLength: maxFrames }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: maxFrame + 1, max: 2 ** 31 }), fc.uint8Array({ maxLength: 64 })).map(([length, rest]) => [varint(length), rest]) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map(raw => [raw]) },
    // A varint that never ends.
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map(n => [new Uint8Array(n).fill(0xff)]) }
  )
}

/**
 * The first frame a handler reads from `chunks`, as lpStream with {@link lengthPrefixed} reads
 * it: complete; refused by its length prefix (over `maxFrame`, or a prefix longer than
 * `maxFrame` needs, ended or not: `prefixEnded` says which); or cut short by the stream's end.
 */
export function firstFrame (chunks: Uint8Array[], maxFrame: number): { kind: 'frame', frame: Uint8Array, size: number } | { kind: 'oversized', prefixEnded: boolean } | { kind: 'incomplete' } {
  const bytes = Buffer.concat(chunks)
  const maxPrefix = varint(maxFrame).length
  let length = 0
  let scale = 1
  let pos = 0
  while (true) {
    if (pos >= bytes.length) return { kind: 'incomplete' }
    const byte = bytes[pos++] as number
    length += (byte & 0x7f) * scale
    scale *= 128
    if (byte < 0x80) break
    if (pos >= maxPrefix) return { kind: 'oversized', prefixEnded: false }
  }
  if (length > maxFrame) return { kind: 'oversized', prefixEnded: true }
  if (pos + length > bytes.length) return { kind: 'incomplete' }
  return { kind: 'frame', frame: new Uint8Array(bytes.subarray(pos, pos + length)), size: pos + length }
}

/** Every frame a handler that reads on (as long as they are well-formed) reads, then how the stream ended for it. */
export function framesRead (chunks: Uint8Array[], maxFrame: number): { frames: Uint8Array[], end: 'oversized' | 'incomplete' } {
  let rest = [new Uint8Array(Buffer.concat(chunks))]
  const frames: Uint8Array[] = []
  while (true) {
    const next = firstFrame(rest, maxFrame)
    if (next.kind !== 'frame') return { frames, end: next.kind }
    frames.push(next.frame)
    rest = [(rest[0] as Uint8Array).subarray(next.size)]
    if (rest[0]?.length === 0) return { frames, end: 'incomplete' }
  }
}
