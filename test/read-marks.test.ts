import { describe, expect, it, vi } from 'vitest'
import { befriend, eventually, settled, trackNodes } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'

const DAY = 24 * 60 * 60 * 1000

/**
 * Run `send` with this process's clock moved by `offset` ms, as on a device whose clock is
 * wrong: the message it writes carries that time. (The nodes share a process; the reader does
 * nothing while the clock is moved.)
 */
async function withClock<T> (offset: number, send: () => Promise<T>): Promise<T> {
  const now = Date.now.bind(Date)
  const clock = vi.spyOn(Date, 'now').mockImplementation(() => now() + offset)
  try {
    return await send()
  } finally {
    clock.mockRestore()
  }
}

describe('read marks use the reader\'s clock, not the sender\'s', () => {
  const node = trackNodes()

  it('a contact whose clock is a day off can neither pre-read its later messages nor keep its earlier ones unread', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    await settled(alice, bob)
    const unread = async (): Promise<number | undefined> => (await alice.contacts())[0]?.unread
    const arrives = async (text: string): Promise<void> => {
      await eventually(async () => (await alice.history(bob.peerId.toString())).some(m => m.text === text), 20_000, `"${text}" to arrive`)
    }
    const send = async (from: KithNode, text: string, offset = 0): Promise<number> => {
      const record = await withClock(offset, async () => await from.send('alice', text))
      await arrives(text)
      return record.ts
    }

    // Bob's clock is a day ahead: his message says it was written tomorrow.
    const tomorrow = await send(bob, 'from tomorrow', DAY)
    expect(tomorrow).toBeGreaterThan(Date.now() + DAY / 2)
    expect(await unread()).toBe(1)
    // Reading it reads it, though alice's clock has not reached its time yet.
    const read = await alice.markRead('bob')
    expect(read.upTo).toBeLessThanOrEqual(Date.now())
    expect(await unread()).toBe(0)

    // Bob's clock is right again: what he sends after alice read is unread (with the sender's
    // time as the mark, "tomorrow" would have read it in advance).
    await send(bob, 'today')
    expect(await unread()).toBe(1)
    await alice.markRead('bob')

    // Ahead again, and a day behind: both arrive after alice read, so both are unread.
    await send(bob, 'tomorrow again', DAY)
    expect(await unread()).toBe(1)
    await send(bob, 'from yesterday', -DAY)
    expect(await unread()).toBe(2)
    await alice.markRead('bob')
    expect(await unread()).toBe(0)
  }, 120_000)
})
