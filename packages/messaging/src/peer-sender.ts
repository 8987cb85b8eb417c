import { Ack, AckStatus, InvalidMessageError, LIMITS, lengthPrefixed, toHex } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { Pulse } from './pulse.js'
import { ACK_TIMEOUT_MS, DEFAULT_WINDOW, IDLE_CLOSE_MS, RESET_QUIET_MS, RETRY_INITIAL_MS, RETRY_MAX_MS, SENT_DELAY_MS } from './constants.js'
import { OutboxQueue } from './outbox-queue.js'
import type { OutboxEntry } from '@kith/store'
import type { Logger, Stream } from '@libp2p/interface'

/** The peer answered RESET: its session with us must be renewed before more is sent. */
export class SessionResetError extends Error {
  override name = 'SessionResetError'
}

/** What a PeerSender needs from the messaging service. */
export interface PeerSenderContext {
  /** Open a fresh /kith/dm stream to the peer (dialling if needed). */
  openStream(): Promise<Stream>
  /** Envelopes were written to the wire. */
  sent(entries: OutboxEntry[]): void
  /** The peer answered these envelopes for good. */
  settled(entries: OutboxEntry[], status: 'delivered' | 'refused'): void
  /**
   * The peer could not open an envelope (it answered RESET): renew the session and seal every
   * outstanding envelope ({@link PeerSender.outstanding}) again under it (same ids), before anything
   * more is sent. Throws when the session can't be renewed now (the sender then retries later,
   * with backoff).
   */
  reset?(): Promise<void>
  /** The peer can't take an envelope yet (it answered RETRY): it is sent again after `delay` ms. */
  deferred?(entry: OutboxEntry, delay: number): void
  /** An attempt failed: the peer could not be reached, or the stream broke. */
  failed?(): void
  log: Logger
  window?: number
}

/**
 * Delivers one peer's outbox, in order, exactly as written: one stream, up to `window` envelopes
 * in flight, acks in order. On any failure every unacked envelope is resent on a new stream
 * after a backoff (1 s doubling to 60 s, with jitter), or at once when `wake()` says the peer is
 * back. The receiver drops duplicates by id, so resending is always safe.
 */
export class PeerSender {
  private readonly queue = new OutboxQueue()
  private readonly pulse = new Pulse()
  private readonly ctx: PeerSenderContext
  private running = false
  private stopped = false
  private failures = 0
  /** Set by wake(): something changed since the current attempt began, so retry without waiting. */
  private woken = false
  private stream: Stream | undefined
  /** Envelopes on the wire whose `sent` status is not recorded yet (see markSentLater). */
  private unconfirmed: OutboxEntry[] = []
  private sentTimer: ReturnType<typeof setTimeout> | undefined
  /** Acks read but not yet handed to the store (see settle). */
  private settling: Array<{ entry: OutboxEntry, status: 'delivered' | 'refused' }> = []
  /** The peer answered RESET: renew the session before the next attempt. */
  private resetNeeded = false
  private lastReset = 0
  /** Envelopes the peer answered RETRY, waiting for their next try. */
  private readonly waiting = new Map<string, { entry: OutboxEntry, timer: ReturnType<typeof setTimeout> }>()
  /** How many times the peer answered RETRY to each envelope not yet answered for good. */
  private readonly tries = new Map<string, number>()

  constructor (ctx: PeerSenderContext) {
    this.ctx = ctx
  }

  /** Unacked envelopes (those waiting to be tried again included). */
  get pending (): number { return this.queue.length + this.waiting.size }

  /** The unacked envelopes, oldest first. */
  unacked (): OutboxEntry[] { return this.queue.slice(0, this.queue.length) }

  /** Every envelope not yet answered for good: the unacked ones and those waiting to be tried again. */
  outstanding (): OutboxEntry[] { return [...this.unacked(), ...[...this.waiting.values()].map(w => w.entry)] }

  /** Add an envelope (already durable in the outbox) and make sure it goes out. */
  enqueue (entry: OutboxEntry): void {
    // Kept in seq order: concurrent sends may finish their writes out of order.
    if (this.queue.add(entry)) this.wake()
  }

  /** Try now: something was queued, or the peer just connected. */
  wake (): void {
    this.woken = true
    this.pulse.notify()
    if (!this.running && !this.stopped && this.queue.length > 0) void this.run()
  }

  /**
   * Drop envelopes the recipient confirmed another way (an end-to-end receipt for mail it took
   * from a mailbox). A stream in use is restarted, since its in-flight count would be off.
   */
  forget (ids: Set<string>): OutboxEntry[] {
    const forgotten = this.queue.remove(ids)
    for (const id of ids) {
      const waiting = this.waiting.get(id)
      if (waiting != null) { clearTimeout(waiting.timer); this.waiting.delete(id); forgotten.push(waiting.entry) }
      this.tries.delete(id)
    }
    if (forgotten.length > 0) this.stream?.abort(new Error('outbox changed'))
    return forgotten
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.sentTimer)
    for (const { timer } of this.waiting.values()) clearTimeout(timer)
    this.stream?.abort(new Error('node stopping'))
    this.pulse.notify()
  }

  /**
   * Record `sent` only for envelopes still unacked a moment after they went out: a quick ack
   * makes the write unnecessary (`delivered` supersedes it), which halves the store writes of
   * a busy conversation. Nobody can see the difference in a fifth of a second.
   */
  private markSentLater (entries: OutboxEntry[]): void {
    this.unconfirmed.push(...entries)
    if (this.unconfirmed.length > entries.length) return
    this.sentTimer = setTimeout(() => {
      const waiting = this.unconfirmed.filter(e => this.queue.has(e.id))
      this.unconfirmed = []
      if (waiting.length > 0) this.ctx.sent(waiting)
    }, SENT_DELAY_MS)
  }

  /**
   * The peer can't take `entry` yet: out of the queue (later envelopes go on), and back into it
   * after a backoff that grows with each RETRY (1 s doubling to 60 s). A stream in use is
   * restarted when it comes back, since its in-flight count would be off.
   */
  private defer (entry: OutboxEntry): void {
    const tries = (this.tries.get(entry.id) ?? 0) + 1
    this.tries.set(entry.id, tries)
    const delay = Math.min(RETRY_INITIAL_MS * 2 ** (tries - 1), RETRY_MAX_MS) * (0.75 + Math.random() / 2)
    const timer = setTimeout(() => {
      this.waiting.delete(entry.id)
      if (this.stopped) return
      this.stream?.abort(new Error('outbox changed'))
      this.enqueue(entry)
    }, delay)
    this.waiting.set(entry.id, { entry, timer })
    this.ctx.deferred?.(entry, delay)
  }

  /** Acks that arrive together are settled together (one store batch), in order. */
  private settle (entry: OutboxEntry, status: 'delivered' | 'refused'): void {
    this.tries.delete(entry.id)
    this.settling.push({ entry, status })
    if (this.settling.length > 1) return
    setImmediate(() => {
      const acked = this.settling
      this.settling = []
      for (let i = 0; i < acked.length;) {
        const status = (acked[i] as { status: 'delivered' | 'refused' }).status
        let j = i
        while (j < acked.length && acked[j]?.status === status) j++
        this.ctx.settled(acked.slice(i, j).map(a => a.entry), status)
        i = j
      }
    })
  }

  private async run (): Promise<void> {
    this.running = true
    try {
      while (!this.stopped && this.queue.length > 0) {
        try {
          this.woken = false
          if (this.resetNeeded && this.ctx.reset != null) {
            await this.ctx.reset()
            this.resetNeeded = false
          }
          await this.session()
          this.failures = 0
        } catch (err: any) {
          if (this.stopped) break
          // A retry at once (something was queued, the peer came back) does not lengthen the backoff.
          if (!this.woken) this.failures++
          this.ctx.failed?.()
          // If the peer came back while this attempt was failing, retry at once.
          const delay = this.woken ? 0 : Math.min(RETRY_INITIAL_MS * 2 ** (this.failures - 1), RETRY_MAX_MS) * (0.75 + Math.random() / 2)
          this.ctx.log('delivery failed (%s), %d pending, retry in %d ms', err?.name ?? err, this.queue.length, Math.round(delay))
          if (delay > 0) await this.pulse.wait(delay)
        }
      }
    } finally {
      this.running = false
    }
  }

  /** One stream: send until nothing is left and the stream has idled, or until it fails. */
  private async session (): Promise<void> {
    const stream = await this.ctx.openStream()
    this.stream = stream
    const lp = lpStream(stream, lengthPrefixed(LIMITS.maxFrameBytes))
    const window = this.ctx.window ?? DEFAULT_WINDOW
    let inFlight = 0
    let lastAck = Date.now()
    let failure: Error | undefined

    const reader = (async () => {
      while (true) {
        const ack = Ack.decode(await lp.read())
        const head = this.queue.at(0)
        if (head == null || inFlight === 0 || toHex(ack.id) !== head.id) throw new InvalidMessageError('ack out of order')
        lastAck = Date.now()
        // It can't open this one: nothing more goes until the session is renewed and all is sealed again.
        if (ack.status === AckStatus.RESET) {
          this.resetNeeded = true
          // The first renewal in a while goes at once; a peer that keeps answering RESET meets the backoff.
          if (Date.now() - this.lastReset > RESET_QUIET_MS) this.woken = true
          this.lastReset = Date.now()
          throw new SessionResetError('the peer could not open an envelope')
        }
        this.queue.shift()
        inFlight--
        if (ack.status === AckStatus.RETRY) this.defer(head)
        else this.settle(head, ack.status === AckStatus.OK || ack.status === AckStatus.DUPLICATE ? 'delivered' : 'refused')
        this.pulse.notify()
      }
    })()
    reader.catch(err => { failure = err; this.pulse.notify() })

    try {
      while (!this.stopped && failure == null) {
        if (inFlight < this.queue.length && inFlight < window) {
          const batch = this.queue.slice(inFlight, Math.min(this.queue.length, window))
          inFlight += batch.length
          lastAck = inFlight === batch.length ? Date.now() : lastAck
          await lp.writeV(batch.map(e => e.envelope))
          this.markSentLater(batch)
          continue
        }
        if (this.queue.length === 0) {
          const idleSince = Date.now()
          await this.pulse.wait(IDLE_CLOSE_MS)
          if (this.queue.length === 0 && Date.now() - idleSince >= IDLE_CLOSE_MS) break
          continue
        }
        if (Date.now() - lastAck > ACK_TIMEOUT_MS) throw new Error('ack timeout')
        await this.pulse.wait(1_000)
      }
      if (failure != null && this.queue.length > 0) throw failure
      await stream.close().catch(() => stream.abort(new Error('close failed')))
    } catch (err: any) {
      stream.abort(err)
      throw err
    } finally {
      this.stream = undefined
    }
  }
}
