import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts (types are not runtime exports): a change to the public API
// must change this list too.
const STORE_API = ['KithStore', 'openStore', 'memoryStore', 'messageFileOf', 'fileOfferOf', 'contactDevices']

describe('@kith/store public API', () => {
  it('exports exactly the known names, all functions', async () => {
    const mod = await import('@kith/store') as Record<string, unknown>
    expect(Object.keys(mod).sort()).toEqual([...STORE_API].sort())
    for (const name of STORE_API) expect(typeof mod[name], name).toBe('function')
  })
})
