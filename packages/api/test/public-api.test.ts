import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts (types are not runtime exports): a change to the public API
// must change this list too.
const API_API = ['startApiServer', 'KithClient', 'ApiError', 'readEndpoint', 'API_FILE', 'TOKEN_FILE']

describe('@kith/api public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('@kith/api') as Record<string, unknown>
    expect(Object.keys(mod).sort()).toEqual([...API_API].sort())
    for (const name of ['startApiServer', 'KithClient', 'ApiError', 'readEndpoint']) expect(typeof mod[name], name).toBe('function')
    expect(mod.API_FILE).toBe('api.json')
    expect(mod.TOKEN_FILE).toBe('api.token')
  })
})
