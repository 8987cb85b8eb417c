import { describe, expect, it } from 'vitest'
import { toHex } from '@kith/core'
import { MemorySyncStorage } from '../src/memory-storage.js'
import { idOf } from './helpers.js'
import { describeSyncStorage, referenceFingerprint } from './storage-suite.js'

describeSyncStorage('MemorySyncStorage', items => new MemorySyncStorage(items))

describe('MemorySyncStorage', () => {
  // Computed once with an independent Python script from the definition.
  it('matches a known fingerprint, so the wire format cannot drift', () => {
    const items = [{ ts: 1, id: new Uint8Array(16).fill(1) }, { ts: 1_700_000_000_000, id: new Uint8Array(32).fill(0xff) }]
    const storage = new MemorySyncStorage(items)
    expect(toHex(storage.fingerprint(0, 2))).toBe('217da66b5269c079bef62c93aefce3e9')
    expect(toHex(storage.fingerprint(0, 2))).toBe(referenceFingerprint(items))
  })

  it('drops exact duplicates and copies what it is given', () => {
    const id = idOf('dup')
    const storage = new MemorySyncStorage([{ ts: 5, id }, { ts: 5, id: new Uint8Array(id) }])
    expect(storage.size()).toBe(1)
    id.fill(0)
    expect(toHex(storage.itemAt(0).id)).toBe(toHex(idOf('dup')))
  })

  it('refuses invalid items', () => {
    const id = idOf('bad')
    for (const item of [
      { ts: -1, id },
      { ts: 1.5, id },
      { ts: Number.MAX_SAFE_INTEGER, id },
      { ts: Number.NaN, id },
      { ts: 1, id: new Uint8Array(15) },
      { ts: 1, id: new Uint8Array(33) }
    ]) {
      expect(() => new MemorySyncStorage([item])).toThrow(TypeError)
    }
    expect(() => new MemorySyncStorage([{ ts: 1, id }, { ts: 2, id }])).toThrow(/two timestamps/)
  })

  it('refuses ranges outside the set', () => {
    const storage = new MemorySyncStorage([{ ts: 1, id: idOf('x') }])
    expect(() => storage.fingerprint(1, 0)).toThrow(RangeError)
    expect(() => storage.fingerprint(0, 2)).toThrow(RangeError)
    expect(() => storage.itemAt(1)).toThrow(RangeError)
  })
})
