import type { Messaging } from '@kith/messaging'
import type { KithStore, MessageRecord, StoreOp } from '@kith/store'
import type { Logger } from '@libp2p/interface'

/** Control topic between our own devices: how far each conversation has been read. */
export const READ_TOPIC = 'kith/read'
const READ_PREFIX = 'read/'
/** Conversations whose read marks one message carries (a mark is at most about 700 bytes). */
const MAX_MARKS = 200
/**
 * How many of the newest messages a mark names between our devices: each device numbers its
 * history in its own arrival order, and messages from several senders may arrive in another
 * order on another device; the newest of these there bounds what is read there.
 */
const MARK_IDS = 16
/** Received messages counted as unread at most (a badge says "999+" beyond that). */
const MAX_UNREAD_COUNTED = 999
const MESSAGE_ID = /^[0-9a-f]{32}$/

/**
 * How far a conversation has been read. Never the sender's clock: a contact whose clock is wrong
 * (or who lies) could otherwise mark its later messages read in advance, or keep them unread.
 */
export interface ReadMark {
  /** When it was last read, by the reading device's clock (ms since the epoch). */
  upTo: number
  /** Received messages up to this position in this device's history (`seq`: arrival order here) are read. */
  seq: number
  /**
   * The newest messages read (at most {@link MARK_IDS}), on whichever of our devices it was read:
   * how our devices tell each other, since each numbers its history itself.
   */
  ids: string[]
  /** Those of `ids` that had not reached this device yet: once one does, what came before it here is read too. */
  pending?: string[]
}

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
 * marks it read on the others. A mark is a position in this device's own history (its arrival
 * order), so no sender's timestamp decides what is read; between our devices it travels as the
 * newest message read and the reader's time. Marks only move forward, so devices that exchange
 * them in any order agree.
 */
export class ReadState {
  constructor (private readonly init: ReadStateInit) {}

  async start (): Promise<void> {
    this.init.messaging().handleControl(READ_TOPIC, async (from, payload) => await this.receive(from, payload))
  }

  /** How far `conversation` has been read (`upTo` and `seq` 0: nothing yet). */
  async mark (conversation: string): Promise<ReadMark> {
    const stored = await this.init.store.getSecret<ReadMark | number>(READ_PREFIX + conversation)
    if (typeof stored === 'number') return await this.fromTimestamp(conversation, stored)
    return stored ?? { upTo: 0, seq: 0, ids: [] }
  }

  /**
   * Mark `conversation` read up to its latest message, here and on our other devices. Returns
   * when, by this device's clock (never earlier than a mark it had).
   */
  async markRead (conversation: string): Promise<number> {
    const newest = await this.init.store.history(conversation, { limit: MARK_IDS })
    const mark = await this.mark(conversation)
    const arrived = new Set((await this.local(conversation, mark.pending ?? [])).map(m => m.id))
    // Read on another device and not here yet: still read when they come.
    const pending = (mark.pending ?? []).filter(id => !arrived.has(id))
    const next: ReadMark = {
      upTo: Math.max(Date.now(), mark.upTo),
      seq: Math.max(newest.at(-1)?.seq ?? 0, mark.seq),
      ids: newest.length > 0 ? newest.map(m => m.id) : mark.ids,
      ...(pending.length > 0 ? { pending } : {})
    }
    await this.init.store.commit([this.init.store.putSecret(READ_PREFIX + conversation, next)])
    for (const device of this.init.others()) await this.send(device, { [conversation]: wire(next) })
    return next.upTo
  }

  /** Received messages of `conversation` that arrived after its mark (counted up to {@link MAX_UNREAD_COUNTED}). */
  async unread (conversation: string): Promise<number> {
    const seq = await this.readSeq(conversation, await this.mark(conversation))
    const page = await this.init.store.history(conversation, { limit: MAX_UNREAD_COUNTED })
    return page.filter(m => m.status === 'received' && m.seq > seq).length
  }

  /** One of our devices connected: it gets all our marks (it keeps the later of each). */
  async connected (device: string): Promise<void> {
    const marks: Array<[string, WireMark]> = []
    for (const [name] of await this.init.store.listSecrets<unknown>(READ_PREFIX)) {
      const conversation = name.slice(READ_PREFIX.length)
      marks.push([conversation, wire(await this.mark(conversation))])
    }
    for (let i = 0; i < marks.length; i += MAX_MARKS) await this.send(device, Object.fromEntries(marks.slice(i, i + MAX_MARKS)))
  }

  /** The position in this device's history up to which `conversation` is read. */
  private async readSeq (conversation: string, mark: ReadMark): Promise<number> {
    const arrived = await this.local(conversation, mark.pending ?? [])
    return Math.max(mark.seq, ...arrived.map(m => m.seq))
  }

  /** Those messages of `conversation` among `ids` that have reached this device. */
  private async local (conversation: string, ids: string[]): Promise<MessageRecord[]> {
    const records = await Promise.all(ids.map(async id => await this.init.store.getMessage(id)))
    return records.filter((r): r is MessageRecord => r?.conversation === conversation)
  }

  /** A mark stored as a sender's timestamp (before marks were positions): what had arrived by then is read. */
  private async fromTimestamp (conversation: string, ts: number): Promise<ReadMark> {
    const read = (await this.init.store.history(conversation, { limit: MAX_UNREAD_COUNTED })).filter(m => m.ts <= ts).slice(-MARK_IDS)
    return { upTo: ts, seq: read.at(-1)?.seq ?? 0, ids: read.map(m => m.id) }
  }

  private async send (device: string, marks: Record<string, WireMark>): Promise<void> {
    try {
      await this.init.messaging().sendControl(device, READ_TOPIC, new TextEncoder().encode(JSON.stringify(marks)))
    } catch (err: any) {
      this.init.log('could not send read marks to %s: %s', device, err?.message)
    }
  }

  /**
   * Marks from another of our devices: each names the newest messages read there; what arrived
   * here before the last of them to arrive here is read here too (now, or once it arrives).
   */
  private async receive (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[] }> {
    if (!this.init.isOwnDevice(from)) throw new Error('read marks come only from our own devices')
    const parsed: unknown = JSON.parse(new TextDecoder().decode(payload))
    if (parsed == null || typeof parsed !== 'object') throw new Error('malformed read marks')
    const ops: StoreOp[] = []
    for (const [conversation, value] of Object.entries(parsed).slice(0, MAX_MARKS)) {
      const theirs = parseWire(value)
      if (conversation.length === 0 || conversation.length > 128 || theirs == null) continue
      const ours = await this.mark(conversation)
      const arrived = await this.local(conversation, [...theirs.ids, ...ours.pending ?? []])
      const here = new Set(arrived.map(m => m.id))
      // The newer mark is the one passed on; ids of either that are not here yet stay pending.
      const ids = theirs.upTo > ours.upTo ? theirs.ids : ours.ids
      const pending = [...new Set([...theirs.ids, ...ours.pending ?? []])].filter(id => !here.has(id)).slice(-MARK_IDS)
      const next: ReadMark = {
        upTo: Math.max(ours.upTo, theirs.upTo),
        seq: Math.max(ours.seq, ...arrived.map(m => m.seq)),
        ids,
        ...(pending.length > 0 ? { pending } : {})
      }
      if (JSON.stringify(next) !== JSON.stringify(ours)) ops.push(this.init.store.putSecret(READ_PREFIX + conversation, next))
    }
    return { ops }
  }
}

/** A mark as our devices send it: the reader's time and the newest messages read. */
interface WireMark { upTo: number, ids: string[] }

function wire (mark: ReadMark): WireMark {
  return { upTo: mark.upTo, ids: mark.ids }
}

function parseWire (value: unknown): WireMark | undefined {
  if (value == null || typeof value !== 'object') return undefined
  const { upTo, ids } = value as Record<string, unknown>
  if (typeof upTo !== 'number' || !Number.isSafeInteger(upTo) || upTo < 0) return undefined
  if (!Array.isArray(ids) || ids.length > MARK_IDS || !ids.every(id => typeof id === 'string' && MESSAGE_ID.test(id))) return undefined
  return { upTo, ids }
}
