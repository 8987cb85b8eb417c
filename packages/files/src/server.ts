import { open } from 'node:fs/promises'
import { lengthPrefixed, toHex } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { FILES_LIMITS, HASH_BYTES, RESPONSE_TIMEOUT_MS } from './constants.js'
import { RequestTimeoutError } from './errors.js'
import { bitfield, blobOffset, hasBit, sealedLength } from './format.js'
import { readFully } from './io.js'
import { Slots } from './slots.js'
import { FileKind, FileResponse, FileStatus, decodeRequest } from './wire.js'
import type { ServingLimits } from './constants.js'
import type { FileStore } from './file-store.js'
import type { FilesMetrics } from './metrics.js'
import type { FileRequest } from './wire.js'
import type { Connection, Logger, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { FileHandle } from 'node:fs/promises'

/** A copy of `bytes` as a list of 64 KiB pieces. */
function piecesOf (bytes: Uint8Array): Uint8ArrayList {
  const list = new Uint8ArrayList()
  for (let at = 0; at < bytes.length; at += 64 * 1024) list.append(Buffer.from(bytes.subarray(at, Math.min(at + 64 * 1024, bytes.length))))
  return list
}

/** What a node holds of a file, as it serves it. */
export interface Holding {
  chunks: number
  size: number
  complete: boolean
  /** Bitfield of the chunks held (when not complete). */
  have: Uint8Array | undefined
  /** The leaves file is present and verified. */
  leaves: boolean
}

export interface ServerInit {
  files: FileStore
  authorize: (peer: string, root: string) => boolean | Promise<boolean>
  /** What this node holds of a file: a download under way knows more than the store. */
  holding: (root: string) => Promise<Holding | undefined>
  limits: ServingLimits
  metrics: FilesMetrics
  log: Logger
}

/** Errors of lpStream that mean the peer sent a frame over the limit or a broken length. */
const BAD_LENGTH = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])
const MALFORMED = new Set([...BAD_LENGTH, 'InvalidMessageError', 'MessageTooLargeError'])

const deadline = (): AbortSignal => AbortSignal.timeout(RESPONSE_TIMEOUT_MS)

/**
 * Serves /kith/files/1.0.0: one request per stream, answered from the blob folder with
 * positional reads (one file handle per transfer, one chunk in memory at a time, the
 * stream's backpressure pacing the reads). Nothing a peer sends makes the handler throw.
 *
 * A stream is first *unread*: its request is read (within `requestTimeoutMs`) and authorised.
 * Only then does it take a serving slot, capped per peer and in total. Streams that never send
 * a request, or send it slowly, are reset and hold no slot meanwhile; each peer may have only a
 * few of them at once (libp2p caps a connection's inbound streams too).
 */
export class FilesServer {
  private readonly unread = new Slots()
  private readonly serving = new Slots()

  constructor (private readonly init: ServerInit) {}

  /** The stream handler. */
  readonly handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const lp = lpStream(stream, lengthPrefixed(FILES_LIMITS.maxRequestBytes))
    const { limits } = this.init
    try {
      if (this.unread.of(peer) >= limits.maxUnreadPerPeer) return await this.busy(stream, lp, 'peer-busy')
      this.unread.take(peer)
      let request: { request: FileRequest, root: string } | undefined
      try {
        request = await this.admit(stream, lp, peer)
      } finally {
        this.unread.give(peer)
      }
      if (request === undefined) return
      if (this.serving.of(peer) >= limits.maxServingPerPeer) return await this.busy(stream, lp, 'peer-busy')
      if (this.serving.total >= limits.maxServing) return await this.busy(stream, lp, 'busy')
      this.serving.take(peer)
      try {
        await this.serve(stream, lp, request.request, request.root)
      } finally {
        this.serving.give(peer)
      }
    } catch (err: any) {
      this.init.log('files stream from %p failed: %s', connection.remotePeer, err?.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private refuse (reason: string): void {
    this.init.metrics.refused[reason] = (this.init.metrics.refused[reason] ?? 0) + 1
  }

  private async busy (stream: Stream, lp: LengthPrefixedStream, reason: 'busy' | 'peer-busy'): Promise<void> {
    this.refuse(reason)
    await this.answer(stream, lp, { status: FileStatus.BUSY })
  }

  private async answer (stream: Stream, lp: LengthPrefixedStream, response: Partial<FileResponse>): Promise<void> {
    await lp.write(FileResponse.encode(response), { signal: deadline() })
    await stream.close({ signal: deadline() })
  }

  /** Answer INVALID, count it, and close; drop the stream if the peer does not close its side soon. */
  private async invalid (stream: Stream, lp: LengthPrefixedStream): Promise<void> {
    this.init.metrics.invalidRequests++
    await this.answer(stream, lp, { status: FileStatus.INVALID })
    setTimeout(() => { if (stream.status !== 'closed') stream.abort(new Error('invalid files request')) }, 5_000).unref?.()
  }

  /**
   * Read the request and decide whether the peer may have the file. Undefined when the stream
   * was answered already (INVALID, REFUSED) or reset (its request did not come in time).
   */
  private async admit (stream: Stream, lp: LengthPrefixedStream, peer: string): Promise<{ request: FileRequest, root: string } | undefined> {
    const signal = AbortSignal.timeout(this.init.limits.requestTimeoutMs)
    let request: FileRequest
    try {
      request = decodeRequest((await lp.read({ signal })).subarray())
    } catch (err: any) {
      if (MALFORMED.has(err?.name)) { await this.invalid(stream, lp); return }
      if (!signal.aborted) throw err
      this.init.metrics.idleStreams++
      stream.abort(new RequestTimeoutError('no files request within the time allowed'))
      return
    }
    const root = toHex(request.root)
    if (!await this.init.authorize(peer, root)) {
      this.refuse('not-yours')
      await this.answer(stream, lp, { status: FileStatus.REFUSED })
      return
    }
    return { request, root }
  }

  private async serve (stream: Stream, lp: LengthPrefixedStream, request: FileRequest, root: string): Promise<void> {
    const holding = await this.init.holding(root)
    if (holding === undefined) return await this.answer(stream, lp, { status: FileStatus.NOT_FOUND })
    const { chunks, complete } = holding
    const have = (complete ? new Uint8Array(0) : holding.have ?? bitfield(chunks)) as Uint8Array<ArrayBuffer>
    const missing = { status: FileStatus.MISSING, chunks, complete, have }
    switch (request.kind) {
      case FileKind.HAVE:
        return await this.answer(stream, lp, { status: FileStatus.OK, chunks, complete, have })
      case FileKind.LEAVES:
        if (!holding.leaves) return await this.answer(stream, lp, missing)
        await lp.write(FileResponse.encode({ status: FileStatus.OK, chunks, complete }), { signal: deadline() })
        await this.sendLeaves(lp, root, chunks)
        return await stream.close({ signal: deadline() })
      case FileKind.CHUNKS: {
        const { start, count } = request
        if (start + count > chunks) return await this.invalid(stream, lp)
        for (let i = start; i < start + count; i++) if (!complete && !hasBit(have, i)) return await this.answer(stream, lp, missing)
        await lp.write(FileResponse.encode({ status: FileStatus.OK, chunks, complete }), { signal: deadline() })
        await this.sendChunks(lp, root, holding.size, start, count)
        return await stream.close({ signal: deadline() })
      }
      default:
        return await this.invalid(stream, lp)
    }
  }

  private async sendLeaves (lp: LengthPrefixedStream, root: string, chunks: number): Promise<void> {
    const fh = await open(this.init.files.leavesPath(root), 'r')
    try {
      const perFrame = FILES_LIMITS.maxLeavesFrameBytes / HASH_BYTES
      for (let i = 0; i < chunks; i += perFrame) {
        const frame = Buffer.allocUnsafe(Math.min(perFrame, chunks - i) * HASH_BYTES)
        await readFully(fh, frame, i * HASH_BYTES)
        await lp.write(frame, { signal: deadline() })
      }
    } finally {
      await fh.close()
    }
  }

  private async sendChunks (lp: LengthPrefixedStream, root: string, size: number, start: number, count: number): Promise<void> {
    let fh: FileHandle | undefined
    try {
      fh = await open(this.init.files.blobPath(root), 'r')
      const scratch = Buffer.allocUnsafe(sealedLength(start, size))
      for (let i = start; i < start + count; i++) {
        const chunk = scratch.subarray(0, sealedLength(i, size))
        await readFully(fh, chunk, blobOffset(i))
        // Sent as fresh 64 KiB copies: the stream may still hold them in its send queue, and
        // pieces that size keep glibc from holding on to freed memory (see format.ts).
        await lp.write(piecesOf(chunk), { signal: deadline() })
        this.init.metrics.servedChunks++
        this.init.metrics.servedBytes += chunk.length
      }
    } finally {
      await fh?.close()
    }
  }
}
