import type { Messaging } from '@kith/messaging'
import type { KithStore, StoreOp } from '@kith/store'
import type { Logger } from '@libp2p/interface'

/** Control topic between our own devices: how far each conversation has been read. */
export const READ_TOPIC = 'kith/read'
const READ_PREFIX = 'read/'
/** Conversations whose read marks one message carries (a mark is about 80 bytes). */
const MAX_MARKS = 2000
/** Received messages counted as unread at most (a badge says "999+" beyond that). */
const MAX_UNREAD_COUNTED = 999

export interface ReadStateInit {
  store: KithStore
  messaging: () => Messaging
  /** Our other devices. */
  others: () => string[]
  isOwnDevice: (peer: string) => boolean
  log: Logger
}

/**
 * How far each conversation has been read, the same on all of a user's devices: reading on one
 * marks it read on the others. A mark is a time (ms since the epoch): received messages up to it
 * are read. Marks only move forward, so devices that exchange them in any order agree.
 */
export class ReadState {
  constructor (private readonly init: ReadStateInit) {}

  async start (): Promise<void> {
    this.init.messaging().handleControl(READ_TOPIC, async (from, payload) => await this.receive(from, payload))
  }

  /** Until when `conversation` has been read (0: nothing yet). */
  async readUpTo (conversation: string): Promise<number> {
    return await this.init.store.getSecret<number>(READ_PREFIX + conversation) ?? 0
  }

  /**
   * Mark `conversation` read up to `upTo` (default: its latest message), here and on our other
   * devices. Returns the mark, which never moves back.
   */
  async markRead (conversation: string, upTo?: number): Promise<number> {
    const latest = upTo ?? (await this.init.store.history(conversation, { limit: 1 }))[0]?.ts ?? 0
    const mark = Math.max(latest, await this.readUpTo(conversation))
    await this.init.store.commit([this.init.store.putSecret(READ_PREFIX + conversation, mark)])
    for (const device of this.init.others()) await this.send(device, { [conversation]: mark })
    return mark
  }

  /** Received messages of `conversation` after its mark (counted up to {@link MAX_UNREAD_COUNTED}). */
  async unread (conversation: string): Promise<number> {
    const mark = await this.readUpTo(conversation)
    const page = await this.init.store.history(conversation, { limit: MAX_UNREAD_COUNTED })
    return page.filter(m => m.status === 'received' && m.ts > mark).length
  }

  /** One of our devices connected: it gets all our marks (it keeps the later of each). */
  async connected (device: string): Promise<void> {
    const marks = Object.fromEntries((await this.init.store.listSecrets<number>(READ_PREFIX)).map(([name, mark]) => [name.slice(READ_PREFIX.length), mark]).slice(-MAX_MARKS))
    if (Object.keys(marks).length > 0) await this.send(device, marks)
  }

  private async send (device: string, marks: Record<string, number>): Promise<void> {
    try {
      await this.init.messaging().sendControl(device, READ_TOPIC, new TextEncoder().encode(JSON.stringify(marks)))
    } catch (err: any) {
      this.init.log('could not send read marks to %s: %s', device, err?.message)
    }
  }

  /** Marks from another of our devices: each one kept if it is later than ours. */
  private async receive (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[] }> {
    if (!this.init.isOwnDevice(from)) throw new Error('read marks come only from our own devices')
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload))
    if (parsed == null || typeof parsed !== 'object') throw new Error('malformed read marks')
    const ops: StoreOp[] = []
    for (const [conversation, mark] of Object.entries(parsed).slice(0, MAX_MARKS)) {
      if (conversation.length === 0 || conversation.length > 128 || !Number.isSafeInteger(mark) || mark < 0) continue
      if (mark > await this.readUpTo(conversation)) ops.push(this.init.store.putSecret(READ_PREFIX + conversation, mark))
    }
    return { ops }
  }
}
