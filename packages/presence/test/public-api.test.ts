import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const PRESENCE_API = [
  'signPresence', 'openPresence', 'nextPresenceSeq',
  'presenceKey', 'PRESENCE_KEY_BYTES',
  'presenceValidator', 'presenceSelector', 'presenceDhtOptions',
  'publishPresence', 'lookupPresence',
  'DhtRecordStore',
  'InvalidPresenceError', 'PresencePublishError', 'PRESENCE_REFUSALS', 'DhtStoreRefusedError', 'DHT_STORE_REFUSALS',
  'PRESENCE_VERSION', 'MAX_PRESENCE_BYTES', 'PRESENCE_LIMITS', 'MAX_PRESENCE_CLOCK_SKEW_MS', 'MAX_PRESENCE_AGE_MS',
  'PRESENCE_NAMESPACE', 'PRESENCE_QUERY_TIMEOUT_MS', 'DHT_STORE_LIMITS'
]

describe('@kith/presence public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('../src/index.js')
    expect(Object.keys(mod).sort()).toEqual([...PRESENCE_API].sort())
  })

  it('names its errors for callers that branch on err.name, with a reason from a closed set', async () => {
    const { InvalidPresenceError, PresencePublishError, PRESENCE_REFUSALS } = await import('../src/index.js')
    const { KithError } = await import('@kith/core')
    const invalid = new InvalidPresenceError('forged', 'x')
    expect(invalid.name).toBe('InvalidPresenceError')
    expect(invalid.reason).toBe('forged')
    expect(invalid).toBeInstanceOf(KithError)
    expect(new PresencePublishError('x').name).toBe('PresencePublishError')
    expect(PRESENCE_REFUSALS).toEqual(['oversized', 'malformed', 'forged', 'stale', 'future', 'wrong-key'])
    const { DhtStoreRefusedError, DHT_STORE_REFUSALS } = await import('../src/index.js')
    const full = new DhtStoreRefusedError('full', 'x')
    expect(full.name).toBe('DhtStoreRefusedError')
    expect(full.reason).toBe('full')
    expect(full).toBeInstanceOf(KithError)
    expect(DHT_STORE_REFUSALS).toEqual(['oversized', 'malformed', 'namespace', 'full', 'rollback'])
  })

  it('keeps the limits the format promises', async () => {
    const { MAX_PRESENCE_BYTES, PRESENCE_LIMITS, MAX_PRESENCE_CLOCK_SKEW_MS, MAX_PRESENCE_AGE_MS, PRESENCE_NAMESPACE } = await import('../src/index.js')
    expect(MAX_PRESENCE_BYTES).toBe(14 * 1024)
    expect(PRESENCE_LIMITS).toEqual({ maxAddrs: 16, maxRelays: 8, maxMailboxes: 8, maxAddrBytes: 256, maxPrekeyBytes: 2048, maxCertificateBytes: 1024, maxDeviceListBytes: 8 * 1024 })
    expect(MAX_PRESENCE_CLOCK_SKEW_MS).toBe(10 * 60_000)
    expect(MAX_PRESENCE_AGE_MS).toBe(30 * 24 * 3600_000)
    expect(PRESENCE_NAMESPACE).toBe('kith-presence')
    const { DHT_STORE_LIMITS } = await import('../src/index.js')
    expect(DHT_STORE_LIMITS).toEqual({ maxPresenceRecords: 10_000, maxPublicKeyRecords: 1_000, maxRecordBytes: 14 * 1024 + 512, maxBytes: 32 * 1024 * 1024, evictAfterMs: 48 * 3600_000 })
  })
})
