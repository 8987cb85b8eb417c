export { FILES_PROTOCOL } from '@kith/core'

/** Plaintext bytes per chunk: 1 MiB. Chunk i of a file covers plaintext bytes [i × CHUNK_BYTES, (i + 1) × CHUNK_BYTES). */
export const CHUNK_BYTES = 1_048_576
/** Bytes of the AES-256-GCM tag at the end of every ciphertext chunk. */
export const TAG_BYTES = 16
/** Ciphertext bytes of a full chunk, and the distance between chunks in a `.blob` file: chunk i is at i × CHUNK_STRIDE. */
export const CHUNK_STRIDE = CHUNK_BYTES + TAG_BYTES
/** Bytes of a file key (AES-256). */
export const KEY_BYTES = 32
/** Bytes of a hash (SHA-256): leaves, nodes and roots. */
export const HASH_BYTES = 32
/** Start of every chunk's additional data; followed by uint64 BE chunk index and uint64 BE chunk count. */
export const AAD_LABEL = 'kith/file/v1'

/** Limits of /kith/files/1.0.0, enforced before anything is parsed or allocated. */
export const FILES_LIMITS = {
  /** Largest request frame. */
  maxRequestBytes: 256,
  /** Most chunks one CHUNKS request may ask for. */
  maxRequestChunks: 16,
  /** Largest LEAVES data frame: 2048 leaf hashes. */
  maxLeavesFrameBytes: 64 * 1024,
  /** Largest CHUNKS data frame: one ciphertext chunk. */
  maxChunkFrameBytes: CHUNK_STRIDE,
  /** Most chunks in a file (a 16 TiB file): bounds the HAVE bitfield to 2 MiB. */
  maxChunks: 2 ** 24
} as const

/** Tuning of downloads; every value may be overridden in {@link FilesInit.tuning}. */
export const FETCH_DEFAULTS = {
  /** Chunks per CHUNKS request. */
  chunksPerRequest: 4,
  /** CHUNKS requests in flight to one source at once. */
  requestsPerSource: 4,
  /** Chunks in flight across all sources of one download: bounds the memory a download buffers (~16 MiB). */
  maxInflightChunks: 16,
  /** How often the source list and every source's HAVE are asked again. */
  refreshMs: 3_000,
  /** Give up (FileUnavailableError) after this long with nothing missing being served. */
  unavailableMs: 30_000,
  /** Commit verified progress after this many chunks … */
  commitEveryChunks: 32,
  /** … or this long, whichever comes first. */
  commitEveryMs: 1_000,
  /** Bad chunks after which a source is dropped for this file. */
  maxBadChunks: 2,
  /** Refusals after which a source is not asked again for this file. */
  maxRefusals: 2,
  /** Least and most backoff after a failed request. */
  backoffMinMs: 500,
  backoffMaxMs: 10_000,
  /** Most 'progress' events per second per file. */
  progressPerSecond: 4
}

/** Tuning of {@link FETCH_DEFAULTS}. */
export type FetchTuning = typeof FETCH_DEFAULTS

/** Timeouts of the wire: dialling, waiting for a response, waiting for the next data frame. */
export const DIAL_TIMEOUT_MS = 10_000
export const RESPONSE_TIMEOUT_MS = 15_000
export const FRAME_TIMEOUT_MS = 30_000
/**
 * Limits of the file server; every value may be overridden in {@link FilesInit.serving}. A stream
 * takes a serving slot only once its request is read and authorised: a stranger's streams, idle
 * or slow, never hold one, so they cannot keep a contact from downloading.
 */
export const SERVING_DEFAULTS = {
  /** Streams served at once across all peers; more get BUSY (counted as `refused.busy`). */
  maxServing: 64,
  /**
   * Streams served at once to one peer; more get BUSY (counted as `refused['peer-busy']`). A
   * download asks one source at most 5 things at once, and a node runs 3 downloads at once.
   */
  maxServingPerPeer: 16,
  /** Streams of one peer whose request is still being read; more get BUSY (`refused['peer-busy']`). */
  maxUnreadPerPeer: 16,
  /** Time for a request (at most 256 bytes) to arrive in full; then the stream is reset (counted in `idleStreams`). */
  requestTimeoutMs: 10_000
}

/** Limits of the file server, {@link SERVING_DEFAULTS}. */
export type ServingLimits = typeof SERVING_DEFAULTS
/** Default of {@link FilesInit.maxInboundStreams}: per connection. */
export const MAX_INBOUND_STREAMS = 32
