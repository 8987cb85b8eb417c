/**
 * @packageDocumentation
 *
 * Files of any size between devices, end to end encrypted. A file is split into 1 MiB chunks,
 * each sealed with AES-256-GCM under a random per-file key, and addressed by the RFC 6962
 * Merkle tree hash of its ciphertext chunks (its `root`). The messaging layer carries
 * `{ root, key, size, name, type }` inside an end-to-end encrypted message; this package does
 * everything below that: it prepares files ({@link prepareFile}), keeps their ciphertext and
 * state ({@link FileStore}), serves them on `/kith/files/1.0.0` to the devices the node authorises,
 * and fetches them from any devices that have them, several at once, verifying every chunk
 * before it is written, resuming after a broken connection or a restart, in constant memory.
 * The blob folder holds ciphertext and hashes only.
 *
 * @example
 * ```ts
 * import { createLibp2p } from 'libp2p'
 * import { files, prepareFile, uniquePath } from '@kith/files'
 *
 * const node = await createLibp2p({
 *   ...,
 *   services: {
 *     files: files({ store, dir: join(home, 'files'), authorize: (peer, root) => inConversationOf(peer, root) })
 *   }
 * })
 * // Sending: encrypt once, then send the ref (with name and type) in a message.
 * const ref = await prepareFile(node.services.files.store, '/home/me/talk.mp4')
 *
 * // Receiving: fetch from the devices that have it, then save it under a safe name.
 * await node.services.files.fetch(ref, () => devicesHolding(ref.root), { signal })
 * await node.services.files.store.export(ref, await uniquePath(downloads, nameFromMessage))
 * ```
 */
import { DefaultFiles } from './files.js'
import type { FetchTuning, ServingLimits } from './constants.js'
import type { FileStore } from './file-store.js'
import type { FilesMetrics } from './metrics.js'
import type { FileRef } from './types.js'
import type { KithStore } from '@kith/store'
import type { AbortOptions, ComponentLogger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export { CHUNK_BYTES, CHUNK_STRIDE, TAG_BYTES, KEY_BYTES, HASH_BYTES, AAD_LABEL, FILES_LIMITS, FETCH_DEFAULTS, SERVING_DEFAULTS, FILES_PROTOCOL } from './constants.js'
export type { FetchTuning, ServingLimits } from './constants.js'
export { FileStore } from './file-store.js'
export type { ExportOptions } from './file-store.js'
export { prepareFile } from './prepare.js'
export { safeFileName, uniquePath, MAX_NAME_BYTES } from './names.js'
export { MerkleBuilder, merkleRoot, leafHash, nodeHash, EMPTY_ROOT } from './merkle.js'
export { chunkCount, sealChunk, openChunk } from './format.js'
export type { FileRef, FileRecord, FileState, ProgressOptions } from './types.js'
export type { FilesMetrics } from './metrics.js'

/** Events of the files service. */
export interface FilesEvents {
  /** A download made progress (at most ~4 a second per file, and once at the end). */
  'progress': CustomEvent<{ root: string, verifiedBytes: number, size: number, bytesPerSecond: number }>
  /** A download finished: every chunk is here and verified. */
  'complete': CustomEvent<{ root: string }>
  /** A source sent data that failed verification (`bad-chunk`, `bad-leaves`): it was penalised, and dropped after two bad chunks. */
  'bad-source': CustomEvent<{ root: string, peer: string, reason: string }>
}

/** What the files service needs from the node. */
export interface FilesInit {
  /** The node's store: each file's state lives under `file/<root>`. */
  store: KithStore
  /** The blob folder (the node passes HOME/files). */
  dir: string
  /**
   * May this peer (device peer id) fetch this file? The node answers from conversations, as they
   * are now: the peer is a current device of a contact the file was shared with, one of our own
   * devices, or a current member of a group it was shared in. Asked once per request, after the
   * request is read and before it takes a serving slot.
   */
  authorize: (peer: string, root: string) => boolean | Promise<boolean>
  /** Inbound file streams per connection (default 32). */
  maxInboundStreams?: number
  /** Tuning of downloads (defaults in {@link FETCH_DEFAULTS}); tests shorten the timings. */
  tuning?: Partial<FetchTuning>
  /** Limits of the server (defaults in {@link SERVING_DEFAULTS}): serving slots, per peer and in total, and the request timeout. */
  serving?: Partial<ServingLimits>
}

/** Exactly the libp2p components the service uses. */
export interface FilesComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

/** The files service. */
export interface Files extends TypedEventTarget<FilesEvents>, Startable {
  /** The blob folder and the files' state. */
  readonly store: FileStore
  /**
   * Fetch (or resume) a file from these peers (device peer ids; the list is asked again every
   * few seconds, so new holders join). Resolves when the file is complete and verified.
   * A second call for a root already downloading joins the first; the download stops when
   * every caller has aborted. Progress is committed as it goes, so a later call resumes.
   *
   * @throws {FileUnavailableError} nobody could serve what is missing for ~30 s, or every source refused
   * @throws {DiskFullError} the disk is full (progress kept: fetch again when there is room)
   * @throws {FileCorruptError} an empty file with a root that is not the empty tree hash
   * @throws AbortError when `signal` aborts
   */
  fetch(ref: FileRef, sources: () => string[] | Promise<string[]>, opts?: AbortOptions): Promise<void>
  /** Roots downloading now, with progress and the number of sources holding something. */
  downloads(): Array<{ root: string, verifiedBytes: number, size: number, sources: number }>
  readonly metrics: FilesMetrics
}

/** Create the files service for libp2p's `services`. */
export function files (init: FilesInit): (components: FilesComponents) => Files {
  return (components) => new DefaultFiles(components, init)
}
