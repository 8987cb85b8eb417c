import { lengthPrefixed } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { CHUNK_STRIDE, FILES_LIMITS, FRAME_TIMEOUT_MS, RESPONSE_TIMEOUT_MS } from './constants.js'
import { FileRequest, decodeResponse, maxResponseBytes } from './wire.js'
import type { FileResponse } from './wire.js'
import type { Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'

/** An open request: the server's response, and its data frames to read. */
export interface Call {
  response: FileResponse
  /** The next data frame; the reader enforces the frame limit before it buffers a frame. */
  frame: (signal: AbortSignal) => Promise<Uint8ArrayList>
}

const within = (signal: AbortSignal, ms: number): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(ms)])

/**
 * Send one request on a fresh stream and read its response, for a file of `chunks` chunks.
 * Frames are at most one ciphertext chunk (or the response's bitfield); the read buffer holds
 * what the request asked for at most, so memory stays bounded by the request.
 */
export async function call (stream: Stream, request: Partial<FileRequest>, chunks: number, signal: AbortSignal): Promise<Call> {
  const maxData = Math.max(CHUNK_STRIDE, maxResponseBytes(chunks))
  const wanted = Math.min(request.count ?? 0, FILES_LIMITS.maxRequestChunks) * (CHUNK_STRIDE + 8)
  const lp: LengthPrefixedStream = lpStream(stream, {
    ...lengthPrefixed(maxData),
    maxBufferSize: Math.max(4 * 1024 * 1024, wanted + maxResponseBytes(chunks) + 1024)
  })
  await lp.write(FileRequest.encode(request), { signal: within(signal, RESPONSE_TIMEOUT_MS) })
  const response = decodeResponse((await lp.read({ signal: within(signal, RESPONSE_TIMEOUT_MS) })).subarray(), chunks)
  return {
    response,
    frame: async (s) => await lp.read({ signal: within(s, FRAME_TIMEOUT_MS) })
  }
}
