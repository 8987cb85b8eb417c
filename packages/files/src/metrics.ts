/** What a files service has done since it started. */
export interface FilesMetrics {
  /** Ciphertext bytes sent to peers. */
  servedBytes: number
  /** Chunks sent to peers. */
  servedChunks: number
  /** Ciphertext bytes received in chunks that verified. */
  fetchedBytes: number
  /** Chunks received that failed verification against their leaf hash. */
  badChunks: number
  /**
   * Requests refused, by reason: `not-yours` (the peer is not a current device of a conversation
   * the file is in), `busy` (this node serves as many streams as it may), `peer-busy` (that peer
   * has as many streams served, or waiting to be read, as one peer may).
   */
  refused: Record<string, number>
  /** Malformed or oversized requests (each answered INVALID and its stream closed). */
  invalidRequests: number
  /** Streams reset because their request did not arrive in time (idle, or sent too slowly). */
  idleStreams: number
}

export const newMetrics = (): FilesMetrics => ({ servedBytes: 0, servedChunks: 0, fetchedBytes: 0, badChunks: 0, refused: {}, invalidRequests: 0, idleStreams: 0 })
