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
  /** Requests refused, by reason: `not-yours` (the file was not sent to the peer), `busy`. */
  refused: Record<string, number>
  /** Malformed or oversized requests (each answered INVALID and its stream closed). */
  invalidRequests: number
}

export const newMetrics = (): FilesMetrics => ({ servedBytes: 0, servedChunks: 0, fetchedBytes: 0, badChunks: 0, refused: {}, invalidRequests: 0 })
