import type { AbortOptions } from '@libp2p/interface'

/** What a message carries about a file (with its name and type, which this package does not need). */
export interface FileRef {
  /** Merkle tree hash of the ciphertext chunks, 64 lower-case hex characters. */
  root: string
  /** The file key (AES-256-GCM), 32 bytes. */
  key: Uint8Array
  /** Plaintext bytes. */
  size: number
}

/** A file's state as stored under `file/<root>` in the KithStore. */
export interface FileRecord {
  root: string
  size: number
  key: Uint8Array
  /** Every chunk is here and verified. */
  complete: boolean
  /** While partial: bitfield of the chunks verified and durably written. */
  have?: Uint8Array
  /** The `.leaves` file is present and matches the root. */
  leaves: boolean
}

/** A file's progress. */
export interface FileState {
  root: string
  size: number
  complete: boolean
  /** Plaintext bytes of the chunks held and verified. */
  verifiedBytes: number
  /** Chunks of the file. */
  chunks: number
  /** Chunks held and verified. */
  haveChunks: number
}

export interface ProgressOptions extends AbortOptions {
  /** Called as work progresses, in plaintext bytes. */
  onProgress?: (done: number, total: number) => void
}
