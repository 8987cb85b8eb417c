import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const MAILBOX_API = [
  'MAILBOX_PROTOCOL', 'MAILBOX_DEFAULTS', 'MAILBOX_LIMITS', 'MailboxRefusedError', 'MailboxStore', 'MailboxServer',
  'register', 'unregister', 'deposit', 'drain'
]

describe('@kith/mailbox public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('../src/index.js')
    expect(Object.keys(mod).sort()).toEqual([...MAILBOX_API].sort())
    expect(mod.MAILBOX_PROTOCOL).toBe('/kith/mailbox/1.0.0')
  })

  it('names its error for callers that branch on err.name', async () => {
    const { MailboxRefusedError } = await import('../src/index.js')
    const { KithError } = await import('@kith/core')
    const err = new MailboxRefusedError('not-a-friend')
    expect(err.name).toBe('MailboxRefusedError')
    expect(err.reason).toBe('not-a-friend')
    expect(err).toBeInstanceOf(KithError)
  })
})
