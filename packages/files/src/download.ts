import { constants } from 'node:fs'
import { open, rename, writeFile } from 'node:fs/promises'
import { DiskFullError, FileCorruptError, FileUnavailableError, toHex } from '@kith/core'
import { call } from './client.js'
import { DIAL_TIMEOUT_MS, FILES_LIMITS, HASH_BYTES } from './constants.js'
import { bitfield, blobOffset, chunkCount, countBits, hasBit, plainLength, sealedLength, setBit } from './format.js'
import { isDiskFull, readFully, syncDir, unlinkQuietly, writeFully } from './io.js'
import { EMPTY_ROOT, MerkleBuilder, leafHash } from './merkle.js'
import { Source } from './sources.js'
import { FileKind, FileStatus } from './wire.js'
import type { FetchTuning } from './constants.js'
import type { FileStore } from './file-store.js'
import type { FilesMetrics } from './metrics.js'
import type { Holding } from './server.js'
import type { FileRecord, FileRef } from './types.js'
import type { Call } from './client.js'
import type { Logger, Stream } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'

export interface DownloadInit {
  files: FileStore
  ref: FileRef
  sources: () => string[] | Promise<string[]>
  dial: (peer: string, signal: AbortSignal) => Promise<Stream>
  self: string
  tuning: FetchTuning
  metrics: FilesMetrics
  log: Logger
  emit: (type: 'progress' | 'complete' | 'bad-source', detail: any) => void
}

/** A source broke the protocol or sent data that failed verification. */
class BadSourceError extends Error {
  constructor (readonly reason: string) { super(reason) }
}

/**
 * One file being fetched: asks the sources what they hold, spreads requests for the missing
 * chunks over them (least loaded first, a bounded number of chunks in flight), verifies each
 * chunk against its leaf hash before writing it at its offset, and commits progress (after a
 * data sync of the blob) every few chunks or every second.
 */
export class Download {
  readonly root: string
  readonly size: number
  readonly n: number
  private record!: FileRecord
  private have!: Uint8Array
  private haveCount = 0
  private verified = 0
  private readonly claimed: Uint8Array
  private inflightChunks = 0
  private cursor = 0
  private readonly sources = new Map<string, Source>()
  private readonly controller = new AbortController()
  private blob: FileHandle | undefined
  private leaves: FileHandle | undefined
  private leavesReady = false
  private askingLeaves = false
  private fatal: Error | undefined
  private wake: (() => void) | undefined
  private lastUseful = Date.now()
  private lastCommit = Date.now()
  private sinceCommit = 0
  private flushing: Promise<void> = Promise.resolve()
  private lastProgress = 0
  private readonly started = Date.now()
  private verifiedAtStart = 0
  private refreshing = false
  private lastRefresh = 0
  /** Callers waiting on this download: it stops when the last one gives up. */
  callers = 0
  readonly done: Promise<void>

  constructor (private readonly init: DownloadInit) {
    this.root = init.ref.root
    this.size = init.ref.size
    this.n = chunkCount(init.ref.size)
    this.claimed = bitfield(this.n)
    this.done = this.run()
    this.done.catch(() => {})
  }

  /** Stop: in-flight requests are cut, verified progress is committed, `done` rejects with `reason`. */
  abort (reason: Error): void {
    this.fatal ??= reason
    this.controller.abort(reason)
    this.kick()
  }

  /** Progress, for `downloads()`. */
  status (): { root: string, verifiedBytes: number, size: number, sources: number } {
    let sources = 0
    for (const s of this.sources.values()) if (!s.dropped && (s.complete || (s.have !== undefined && countBits(s.have, this.n) > 0))) sources++
    return { root: this.root, verifiedBytes: this.verified, size: this.size, sources }
  }

  /** What the server may serve of this file while it downloads. */
  holding (): Holding | undefined {
    if (this.blob === undefined) return undefined
    return { chunks: this.n, size: this.size, complete: false, have: this.have, leaves: this.leavesReady }
  }

  private kick (): void {
    this.wake?.()
  }

  private async run (): Promise<void> {
    const { files } = this.init
    await files.ready()
    await files.expect(this.init.ref)
    this.record = await files.record(this.root) as FileRecord
    if (this.record.complete) return
    if (this.n === 0) return await this.completeEmpty()
    this.have = this.record.have !== undefined && this.record.have.length === this.claimed.length ? new Uint8Array(this.record.have) : bitfield(this.n)
    this.haveCount = countBits(this.have, this.n)
    for (let i = 0; i < this.n; i++) if (hasBit(this.have, i)) this.verified += plainLength(i, this.size)
    this.verifiedAtStart = this.verified
    // Read-write, created if missing, never truncated: chunks already verified stay.
    this.blob = await open(files.blobPath(this.root), constants.O_RDWR | constants.O_CREAT, 0o600)
    try {
      if (this.record.leaves) await this.openLeaves()
      await this.loop()
      await this.finish()
    } catch (err) {
      await this.flush().catch(() => {})
      throw err
    } finally {
      this.controller.abort()
      await this.blob?.close().catch(() => {})
      await this.leaves?.close().catch(() => {})
      this.blob = undefined
    }
  }

  private async loop (): Promise<void> {
    const { tuning } = this.init
    while (this.haveCount < this.n) {
      if (this.fatal !== undefined) throw this.fatal
      const now = Date.now()
      if (now - this.lastRefresh >= tuning.refreshMs) void this.refresh()
      if (this.leavesReady) this.schedule(now)
      else this.askLeaves(now)
      if (this.sinceCommit > 0 && now - this.lastCommit >= tuning.commitEveryMs) void this.flush().catch(err => { this.fail(err) })
      this.checkAvailable(now)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 250)
        this.wake = () => { clearTimeout(timer); resolve() }
      })
      this.wake = undefined
    }
  }

  /** Give up when nobody could serve anything missing for a while, or every source is out. */
  private checkAvailable (now: number): void {
    if (this.inflightChunks > 0 || this.fatal !== undefined) return
    const all = [...this.sources.values()]
    const missing = this.n - this.haveCount
    if (all.length > 0 && all.every(s => s.dropped)) {
      this.fatal = new FileUnavailableError(`no source will serve this file (${missing} of ${this.n} chunks missing)`)
    } else if (now - this.lastUseful > this.init.tuning.unavailableMs) {
      this.fatal = new FileUnavailableError(`no source could serve the ${missing} missing chunks of this file`)
    }
  }

  /** Ask the caller for sources again; ask each (new or due) source what it holds. */
  private async refresh (): Promise<void> {
    if (this.refreshing) return
    this.refreshing = true
    this.lastRefresh = Date.now()
    try {
      let peers: string[] = []
      try {
        peers = await this.init.sources()
      } catch (err: any) {
        this.init.log('listing sources failed: %s', err?.message)
      }
      for (const peer of peers) if (peer !== this.init.self && !this.sources.has(peer)) this.sources.set(peer, new Source(peer))
      const now = Date.now()
      for (const s of this.sources.values()) {
        if (s.ready(now) && !s.asking && !s.complete) void this.ask(s, FileKind.HAVE)
      }
    } finally {
      this.refreshing = false
      this.kick()
    }
  }

  private askLeaves (now: number): void {
    if (this.askingLeaves) return
    const source = [...this.sources.values()].filter(s => s.ready(now) && !s.asking && (s.have === undefined || s.complete || countBits(s.have, this.n) > 0))
      .sort((a, b) => Number(b.complete) - Number(a.complete))[0]
    if (source === undefined) return
    this.askingLeaves = true
    void this.ask(source, FileKind.LEAVES).finally(() => { this.askingLeaves = false })
  }

  /** HAVE or LEAVES to one source. */
  private async ask (s: Source, kind: FileKind): Promise<void> {
    s.asking = true
    try {
      await this.request(s, { root: Buffer.from(this.root, 'hex'), kind }, async (c) => {
        if (kind === FileKind.HAVE) this.learn(s, c)
        else await this.takeLeaves(c)
      })
    } finally {
      s.asking = false
      s.lastAsked = Date.now()
      this.kick()
    }
  }

  private learn (s: Source, c: Call): void {
    s.complete = c.response.complete
    if (!s.complete) s.have = c.response.have.length > 0 ? c.response.have : bitfield(this.n)
  }

  /**
   * Run one request on a fresh stream and handle the answers every request may get; `onOk`
   * reads the rest. Failures are charged to the source (backoff, refusal, penalty), never thrown.
   */
  private async request (s: Source, request: Parameters<typeof call>[1], onOk: (c: Call) => Promise<void>): Promise<void> {
    const signal = this.controller.signal
    let stream: Stream | undefined
    try {
      stream = await this.init.dial(s.peer, AbortSignal.any([signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]))
      const c = await call(stream, request, this.n, signal)
      switch (c.response.status) {
        case FileStatus.OK:
          await onOk(c)
          s.succeeded()
          break
        case FileStatus.MISSING:
          this.learn(s, c)
          break
        case FileStatus.NOT_FOUND:
          s.have = bitfield(this.n)
          s.retryAt = Date.now() + this.init.tuning.refreshMs
          break
        case FileStatus.REFUSED:
          if (++s.refusals >= this.init.tuning.maxRefusals) s.dropped = true
          s.retryAt = Date.now() + this.init.tuning.refreshMs
          break
        default:
          s.failed(Date.now(), this.init.tuning.backoffMinMs, this.init.tuning.backoffMaxMs)
      }
      await stream.close({ signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {})
    } catch (err: any) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      if (err instanceof BadSourceError) this.penalise(s, err.reason)
      else if (isDiskFull(err)) this.fail(err)
      else if (!signal.aborted) {
        this.init.log('request to %s failed: %s', s.peer, err?.message)
        s.failed(Date.now(), this.init.tuning.backoffMinMs, this.init.tuning.backoffMaxMs)
      }
    }
  }

  private penalise (s: Source, reason: string): void {
    if (reason === 'bad-chunk') this.init.metrics.badChunks++
    s.badChunks++
    if (reason !== 'bad-chunk' || s.badChunks >= this.init.tuning.maxBadChunks) s.dropped = true
    this.init.emit('bad-source', { root: this.root, peer: s.peer, reason })
  }

  private fail (err: any): void {
    if (isDiskFull(err)) {
      let needed = 0
      for (let i = 0; i < this.n; i++) if (!hasBit(this.have, i)) needed += sealedLength(i, this.size)
      err = new DiskFullError(`the disk is full: about ${Math.ceil(needed / 1e6)} MB more are needed for this file (verified progress is kept)`, { cause: err })
    }
    this.abort(err instanceof Error ? err : new Error(String(err)))
  }

  /** Read the leaf hashes, check them against the root, and keep them beside the blob. */
  private async takeLeaves (c: Call): Promise<void> {
    const { files } = this.init
    const temp = files.tempPath('leaves')
    const fh = await open(temp, 'wx', 0o600)
    try {
      const tree = new MerkleBuilder()
      for (let received = 0; received < this.n;) {
        const frame = (await c.frame(this.controller.signal)).subarray()
        if (frame.length === 0 || frame.length % HASH_BYTES !== 0 || frame.length > FILES_LIMITS.maxLeavesFrameBytes || received + frame.length / HASH_BYTES > this.n) {
          throw new BadSourceError('bad-leaves')
        }
        for (let k = 0; k < frame.length; k += HASH_BYTES) tree.push(frame.subarray(k, k + HASH_BYTES))
        await writeFully(fh, [frame], received * HASH_BYTES)
        received += frame.length / HASH_BYTES
      }
      if (toHex(tree.root()) !== this.root) throw new BadSourceError('bad-leaves')
      await fh.sync()
      await fh.close()
      await rename(temp, files.leavesPath(this.root))
      await syncDir(files.dir)
    } catch (err) {
      await fh.close().catch(() => {})
      await unlinkQuietly(temp)
      throw err
    }
    this.record = { ...this.record, leaves: true }
    await files.save({ ...this.record, have: new Uint8Array(this.have) })
    await this.openLeaves()
    this.lastUseful = Date.now()
  }

  private async openLeaves (): Promise<void> {
    this.leaves = await open(this.init.files.leavesPath(this.root), 'r')
    this.leavesReady = true
  }

  /** Start CHUNKS requests while there is room: least-loaded source first. */
  private schedule (now: number): void {
    const { tuning } = this.init
    while (this.cursor < this.n && hasBit(this.have, this.cursor)) this.cursor++
    while (this.inflightChunks < tuning.maxInflightChunks) {
      const ready = [...this.sources.values()]
        .filter(s => s.ready(now) && s.inflight < tuning.requestsPerSource && (s.complete || s.have !== undefined))
        .sort((a, b) => a.inflight - b.inflight || a.failures - b.failures)
      let started = false
      for (const s of ready) {
        const range = this.pick(s, Math.min(tuning.chunksPerRequest, tuning.maxInflightChunks - this.inflightChunks))
        if (range === undefined) continue
        this.start(s, range[0], range[1])
        started = true
        break
      }
      if (!started) return
    }
  }

  /** The first run of missing, unclaimed chunks `s` holds: [start, count]. */
  private pick (s: Source, most: number): [number, number] | undefined {
    const free = (i: number): boolean => !hasBit(this.have, i) && !hasBit(this.claimed, i) && s.holds(i)
    for (let i = this.cursor; i < this.n; i++) {
      if (!free(i)) continue
      let count = 1
      while (count < most && i + count < this.n && free(i + count)) count++
      return [i, count]
    }
    return undefined
  }

  private start (s: Source, start: number, count: number): void {
    for (let i = start; i < start + count; i++) setBit(this.claimed, i)
    this.inflightChunks += count
    s.inflight++
    void this.request(s, { root: Buffer.from(this.root, 'hex'), kind: FileKind.CHUNKS, start, count }, async (c) => {
      for (let i = start; i < start + count; i++) await this.takeChunk(i, c)
    }).finally(() => {
      for (let i = start; i < start + count; i++) this.claimed[i >> 3] = (this.claimed[i >> 3] as number) & ~(1 << (i & 7))
      this.inflightChunks -= count
      s.inflight--
      this.kick()
    })
  }

  /** Read chunk i, verify it against its leaf, write it at its offset. */
  private async takeChunk (i: number, c: Call): Promise<void> {
    const frame = await c.frame(this.controller.signal)
    if (frame.byteLength !== sealedLength(i, this.size)) throw new BadSourceError('bad-chunk')
    const leaf = Buffer.allocUnsafe(HASH_BYTES)
    await readFully(this.leaves as FileHandle, leaf, i * HASH_BYTES)
    if (!leafHash(frame).equals(leaf)) throw new BadSourceError('bad-chunk')
    if (hasBit(this.have, i)) return
    await writeFully(this.blob as FileHandle, [...frame], blobOffset(i))
    setBit(this.have, i)
    this.haveCount++
    this.verified += plainLength(i, this.size)
    this.init.metrics.fetchedBytes += frame.byteLength
    this.lastUseful = Date.now()
    if (++this.sinceCommit >= this.init.tuning.commitEveryChunks) void this.flush().catch(err => { this.fail(err) })
    this.progress(false)
  }

  private progress (final: boolean): void {
    const now = Date.now()
    if (!final && now - this.lastProgress < 1000 / this.init.tuning.progressPerSecond) return
    this.lastProgress = now
    const seconds = Math.max(0.001, (now - this.started) / 1000)
    this.init.emit('progress', { root: this.root, verifiedBytes: this.verified, size: this.size, bytesPerSecond: Math.round((this.verified - this.verifiedAtStart) / seconds) })
  }

  /** Sync the blob, then commit the chunks verified so far (one at a time, in order). */
  private async flush (): Promise<void> {
    const run = this.flushing.then(async () => {
      if (this.sinceCommit === 0 || this.blob === undefined) return
      const snapshot = new Uint8Array(this.have)
      this.sinceCommit = 0
      this.lastCommit = Date.now()
      await this.blob.datasync()
      await this.init.files.save({ ...this.record, have: snapshot })
    })
    this.flushing = run.catch(() => {})
    await run
  }

  private async finish (): Promise<void> {
    await this.flush()
    await this.blob?.datasync()
    await this.init.files.save({ root: this.root, size: this.size, key: this.record.key, complete: true, leaves: true })
    this.progress(true)
    this.init.emit('complete', { root: this.root })
  }

  /** An empty file needs no source: its root must be the hash of nothing. */
  private async completeEmpty (): Promise<void> {
    if (this.root !== toHex(EMPTY_ROOT)) throw new FileCorruptError('an empty file must have the empty tree hash as its root')
    await writeFile(this.init.files.blobPath(this.root), new Uint8Array(0))
    await writeFile(this.init.files.leavesPath(this.root), new Uint8Array(0))
    await this.init.files.save({ root: this.root, size: 0, key: this.record.key, complete: true, leaves: true })
    this.progress(true)
    this.init.emit('complete', { root: this.root })
  }
}
