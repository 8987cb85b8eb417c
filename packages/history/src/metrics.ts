/** What a history sync service has done since it started. */
export interface HistoryMetrics {
  /** Records sent to this user's other devices. */
  served: number
  /** Records written here from this user's other devices. */
  fetched: number
  /** Inbound syncs refused because the peer is not one of this user's devices. */
  refused: number
  /** Malformed, oversized or unexpected frames, and records refused (invalid fields, not asked for), in either role. */
  invalid: number
  /** Syncs this device pulled to the end. */
  synced: number
  /** Syncs this device served to the end. */
  servedSyncs: number
  /** Frame bytes read and written while pulling, and while serving. */
  bytesFetched: number
  bytesServed: number
}

export const newMetrics = (): HistoryMetrics => ({ served: 0, fetched: 0, refused: 0, invalid: 0, synced: 0, servedSyncs: 0, bytesFetched: 0, bytesServed: 0 })
