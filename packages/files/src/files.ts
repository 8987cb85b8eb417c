import { FILES_PROTOCOL } from '@kith/core'
import { TypedEventEmitter } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { FETCH_DEFAULTS, MAX_INBOUND_STREAMS, SERVING_DEFAULTS } from './constants.js'
import { Download } from './download.js'
import { checkRef, FileStore } from './file-store.js'
import { chunkCount } from './format.js'
import { newMetrics } from './metrics.js'
import { FilesServer } from './server.js'
import type { FetchTuning } from './constants.js'
import type { Files, FilesComponents, FilesEvents, FilesInit } from './index.js'
import type { FilesMetrics } from './metrics.js'
import type { Holding } from './server.js'
import type { FileRef } from './types.js'
import type { AbortOptions, Logger, Startable } from '@libp2p/interface'

/** The files service: serves what this node holds, fetches what it was sent. */
export class DefaultFiles extends TypedEventEmitter<FilesEvents> implements Files, Startable {
  readonly store: FileStore
  readonly metrics: FilesMetrics = newMetrics()
  private readonly log: Logger
  private readonly server: FilesServer
  private readonly active = new Map<string, Download>()
  private readonly tuning: FetchTuning
  private running = false

  constructor (private readonly components: FilesComponents, private readonly init: FilesInit) {
    super()
    this.log = components.logger.forComponent('kith:files')
    this.store = new FileStore({ dir: init.dir, store: init.store })
    this.tuning = { ...FETCH_DEFAULTS, ...init.tuning }
    this.server = new FilesServer({
      files: this.store,
      authorize: init.authorize,
      holding: async (root) => await this.holding(root),
      limits: { ...SERVING_DEFAULTS, ...init.serving },
      metrics: this.metrics,
      log: this.log
    })
  }

  readonly [Symbol.toStringTag] = '@kith/files'

  async start (): Promise<void> {
    await this.store.ready()
    await this.components.registrar.handle(FILES_PROTOCOL, (stream, connection) => { void this.server.handler(stream, connection) }, {
      maxInboundStreams: this.init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      // Contacts behind NAT are reached through a friend's relay: a limited connection.
      runOnLimitedConnection: true
    })
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    await this.components.registrar.unhandle(FILES_PROTOCOL)
    const stopping = [...this.active.values()]
    for (const download of stopping) download.abort(new DOMException('the files service stopped', 'AbortError'))
    await Promise.allSettled(stopping.map(async d => { await d.done }))
  }

  private async holding (root: string): Promise<Holding | undefined> {
    const live = this.active.get(root)?.holding()
    if (live !== undefined) return live
    const record = await this.store.record(root)
    if (record === undefined) return undefined
    return { chunks: chunkCount(record.size), size: record.size, complete: record.complete, have: record.have, leaves: record.leaves }
  }

  async fetch (ref: FileRef, sources: () => string[] | Promise<string[]>, opts: AbortOptions = {}): Promise<void> {
    checkRef(ref)
    opts.signal?.throwIfAborted()
    if (!this.running) throw new Error('the files service is not started')
    let download = this.active.get(ref.root)
    if (download === undefined) {
      download = new Download({
        files: this.store,
        ref,
        sources,
        dial: async (peer, signal) => await this.components.connectionManager.openStream(peerIdFromString(peer), FILES_PROTOCOL, { runOnLimitedConnection: true, signal }),
        self: this.components.peerId.toString(),
        tuning: this.tuning,
        metrics: this.metrics,
        log: this.log,
        emit: (type, detail) => { this.safeDispatchEvent(type, { detail }) }
      })
      const started = download
      this.active.set(ref.root, started)
      void started.done.catch(() => {}).finally(() => { if (this.active.get(ref.root) === started) this.active.delete(ref.root) })
    }
    await this.join(download, opts.signal)
  }

  /** Wait for a download; a caller that gives up leaves it running for the others, and the last one stops it. */
  private async join (download: Download, signal: AbortSignal | undefined): Promise<void> {
    download.callers++
    let waiting = true
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => { reject(signal?.reason ?? new DOMException('aborted', 'AbortError')) }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    aborted.catch(() => {})
    try {
      await Promise.race([download.done, aborted])
    } catch (err) {
      if (signal?.aborted === true) {
        waiting = false
        if (--download.callers === 0) {
          download.abort(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'))
          // Stopping commits the verified progress: wait for it, so a caller that resumes sees it.
          await download.done.catch(() => {})
        }
      }
      throw err
    } finally {
      if (waiting) download.callers--
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }

  downloads (): Array<{ root: string, verifiedBytes: number, size: number, sources: number }> {
    return [...this.active.values()].map(d => d.status())
  }
}
