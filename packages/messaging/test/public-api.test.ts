import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts (types are not runtime exports): a change to the public API
// must change this list too.
const MESSAGING_API = ['messaging', 'checkAlias']

describe('@kith/messaging public API', () => {
  it('exports exactly the known names, all functions', async () => {
    const mod = await import('@kith/messaging') as Record<string, unknown>
    expect(Object.keys(mod).sort()).toEqual([...MESSAGING_API].sort())
    for (const name of MESSAGING_API) expect(typeof mod[name], name).toBe('function')
  })

  it('checkAlias trims, strips control characters and enforces the name limits', async () => {
    const { checkAlias } = await import('@kith/messaging')
    expect(checkAlias('  bob\u0007 ')).toBe('bob')
    expect(() => checkAlias(' \n\t ')).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
    expect(() => checkAlias('x'.repeat(65))).toThrow(expect.objectContaining({ name: 'InvalidInviteError' }))
    expect(checkAlias('x'.repeat(64))).toBe('x'.repeat(64))
  })
})
