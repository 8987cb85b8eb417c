import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const HISTORY_API = [
  'HISTORY_PROTOCOL', 'HISTORY_VERSION', 'HISTORY_LIMITS', 'HISTORY_DEFAULTS',
  'HistorySyncError', 'HistorySyncRefusedError', 'historySync'
]

describe('@kith/history public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('../src/index.js')
    expect(Object.keys(mod).sort()).toEqual([...HISTORY_API].sort())
    expect(mod.HISTORY_PROTOCOL).toBe('/kith/history/1.0.0')
  })

  it('names its errors, and a refusal is a sync error', async () => {
    const { HistorySyncError, HistorySyncRefusedError } = await import('../src/index.js')
    const err = new HistorySyncRefusedError('no')
    expect(err.name).toBe('HistorySyncRefusedError')
    expect(err).toBeInstanceOf(HistorySyncError)
    expect(new HistorySyncError('x').name).toBe('HistorySyncError')
  })

  it('refuses tuning out of its ranges', async () => {
    const { historySync } = await import('../src/index.js')
    const { memoryStore } = await import('@kith/store')
    const store = await memoryStore()
    const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })
    const components = { logger: { forComponent: () => log }, registrar: {}, connectionManager: {} } as any
    expect(() => historySync({ store, isOwnDevice: () => true, tuning: { window: 0 } })(components)).toThrow(RangeError)
    expect(() => historySync({ store, isOwnDevice: () => true, tuning: { batchSize: 5000 } })(components)).toThrow(RangeError)
    expect(historySync({ store, isOwnDevice: () => true, tuning: { batchSize: 100 } })(components).metrics.fetched).toBe(0)
  })
})
