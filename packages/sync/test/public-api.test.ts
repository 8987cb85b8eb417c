import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const SYNC_API = [
  'Reconciler', 'MemorySyncStorage', 'SyncProtocolError',
  'SYNC_VERSION', 'FINGERPRINT_BYTES', 'MIN_ID_BYTES', 'MAX_ID_BYTES', 'SYNC_DEFAULTS'
]

describe('@kith/sync public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('../src/index.js')
    expect(Object.keys(mod).sort()).toEqual([...SYNC_API].sort())
  })

  it('names its error for callers that branch on err.name', async () => {
    const { SyncProtocolError } = await import('../src/index.js')
    const { KithError } = await import('@kith/core')
    const err = new SyncProtocolError('x')
    expect(err.name).toBe('SyncProtocolError')
    expect(err).toBeInstanceOf(KithError)
  })
})
