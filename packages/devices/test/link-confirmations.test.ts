import { describe, expect, it } from 'vitest'
import { LinkConfirmations } from '../src/index.js'
import type { HoldLink, LinkRefusal } from '../src/index.js'

const request = { device: '12D3KooWnew', name: 'phone', comparison: '123 456' }

/** A hold that records what happened: whether it certified, and why it was refused. */
function recorder (signal = new AbortController().signal): { hold: HoldLink<string>, certified: () => boolean, refused: () => LinkRefusal | undefined, waiting: Promise<void> } {
  let certified = false
  let refused: LinkRefusal | undefined
  let markWaiting!: () => void
  const waiting = new Promise<void>(resolve => { markWaiting = resolve })
  return {
    hold: {
      signal,
      waiting: async () => { markWaiting() },
      certify: async () => { certified = true; return 'linked' },
      refused: async (_view, why) => { refused = why }
    },
    certified: () => certified,
    refused: () => refused,
    waiting
  }
}

describe('links held for the user to confirm', () => {
  it('certify only once the user confirms the comparison code, whichever way it is typed', async () => {
    const confirmations = new LinkConfirmations<string>()
    const r = recorder()
    const held = confirmations.hold('code-1', request, Date.now() + 60_000, r.hold)
    await r.waiting
    expect(confirmations.list()).toEqual([{ ...request, expires: expect.any(Number) }])
    expect(r.certified()).toBe(false)
    await expect(confirmations.confirm('654321')).rejects.toMatchObject({ name: 'UnknownLinkRequestError' })
    await expect(confirmations.confirm('12345')).rejects.toMatchObject({ name: 'InvalidLinkCodeError' })
    expect(r.certified()).toBe(false)
    await expect(confirmations.confirm('123456')).resolves.toBe('linked')
    await expect(held).resolves.toBe('linked')
    expect(r.certified()).toBe(true)
    expect(confirmations.list()).toEqual([])
  })

  it('refuse without certifying when the user declines, nobody answers, or the new device hangs up', async () => {
    const declined = new LinkConfirmations<string>()
    const r1 = recorder()
    const held = declined.hold('code-1', request, Date.now() + 60_000, r1.hold)
    await r1.waiting
    expect(declined.reject('123-456')).toMatchObject(request)
    await expect(held).rejects.toMatchObject({ name: 'LinkRejectedError', message: 'the user declined' })
    expect([r1.certified(), r1.refused()]).toEqual([false, 'rejected'])
    await expect(declined.confirm('123 456')).rejects.toMatchObject({ name: 'UnknownLinkRequestError' })

    const r2 = recorder()
    await expect(new LinkConfirmations<string>(50).hold('code-2', request, Date.now() + 60_000, r2.hold)).rejects.toMatchObject({ name: 'LinkRejectedError' })
    expect([r2.certified(), r2.refused()]).toEqual([false, 'timeout'])

    // Never past the code's own expiry, however long the user may take otherwise.
    const r3 = recorder()
    const started = Date.now()
    await expect(new LinkConfirmations<string>(60_000).hold('code-3', request, Date.now() + 100, r3.hold)).rejects.toMatchObject({ name: 'LinkRejectedError' })
    expect([r3.certified(), r3.refused(), Date.now() - started < 30_000]).toEqual([false, 'timeout', true])

    const hangUp = new AbortController()
    const r4 = recorder(hangUp.signal)
    const gone = new LinkConfirmations<string>()
    const held4 = gone.hold('code-4', request, Date.now() + 60_000, r4.hold)
    await r4.waiting
    hangUp.abort()
    await expect(held4).rejects.toMatchObject({ name: 'LinkRejectedError' })
    expect([r4.certified(), r4.refused()]).toEqual([false, 'gone'])
  })

  it('hold one device per code: a second device with the same code is refused', async () => {
    const confirmations = new LinkConfirmations<string>()
    const r = recorder()
    const held = confirmations.hold('code-1', request, Date.now() + 60_000, r.hold)
    await r.waiting
    await expect(confirmations.hold('code-1', { ...request, device: '12D3KooWother', comparison: '999 999' }, Date.now() + 60_000, recorder().hold)).rejects.toMatchObject({ name: 'LinkCodeUsedError' })
    expect(confirmations.list()).toHaveLength(1)
    confirmations.reject('123456')
    await expect(held).rejects.toMatchObject({ name: 'LinkRejectedError' })
  })
})
