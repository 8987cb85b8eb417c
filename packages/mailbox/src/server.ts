import { fromHex, lengthPrefixed, toHex } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { IDLE_TIMEOUT_MS, MAILBOX_LIMITS, MAX_STREAMS_PER_PEER, SWEEP_EVERY_MS } from './constants.js'
import { MailboxOp, MailboxResponse, MailboxStatus, decodeRequest, toWire } from './wire.js'
import type { MailboxStore } from './mailbox-store.js'
import type { DepositResult, Depositor } from './types.js'
import type { MailboxRequest } from './wire.js'
import type { Connection, Logger, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

/** What a {@link MailboxServer} needs. */
export interface MailboxServerInit {
  /** Where the mail is held. */
  store: MailboxStore
  /**
   * Who a peer (peer id string) is to this node: when it is a contact, or a device in a
   * contact's signed device list, the id that contact's quotas count under (the same for all
   * its devices); undefined for a stranger. Only contacts register; strangers' deposits share
   * one part of each recipient's mailbox.
   */
  contactOf: (peer: string) => Promise<string | undefined>
  log?: Logger
  /** Called after a deposit stored `count` envelopes for `recipient` (to tell it, if it is online). */
  onDeposit?: (recipient: string, count: number) => void
  /** Drop expired envelopes this often while started (default 15 minutes). */
  sweepEveryMs?: number
  /** Streams one peer may have open at once, across its connections (default 8). */
  maxStreamsPerPeer?: number
  /** Drop a stream after this long without a request (default 60 s). */
  idleTimeoutMs?: number
}

/** What a server has done since it was created. */
export interface MailboxMetrics {
  /** Envelopes stored. */
  deposited: number
  /** Envelopes deposited again that were already held (or acknowledged). */
  duplicates: number
  /** Envelopes and requests refused, by reason (`quota`, `quota-depositor`, `quota-strangers`, `unknown-recipient`, `not-a-friend`, …). */
  refused: Record<string, number>
  /** Envelopes handed out. */
  fetched: number
  /** Envelopes deleted on acknowledgement. */
  acked: number
  /** Malformed or oversized requests (each ends its stream). */
  invalid: number
  /** Envelopes dropped by the time to live. */
  expired: number
}

const noop = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger

/** Errors of lpStream that mean the peer sent a frame over the limit or a broken length. */
const BAD_LENGTH = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])

/**
 * Serves /kith/mailbox/1.0.0: request → response pairs on a stream, each frame size-limited
 * before it is read and decoded strictly. The caller is the Noise-authenticated remote peer;
 * it registers, fetches, acknowledges and unregisters for itself only, and deposits for
 * anyone registered here (within its quotas: a contact's devices count as that contact, and
 * all strangers share one part of each recipient's mailbox). A malformed or oversized request gets an INVALID
 * response and the stream is closed; nothing a peer sends makes the handler throw.
 */
export class MailboxServer {
  readonly store: MailboxStore
  readonly metrics: MailboxMetrics = { deposited: 0, duplicates: 0, refused: {}, fetched: 0, acked: 0, invalid: 0, expired: 0 }
  private readonly init: MailboxServerInit
  private readonly log: Logger
  private readonly streams = new Map<string, number>()
  private sweepTimer: ReturnType<typeof setInterval> | undefined
  private sweeping: Promise<void> | undefined

  constructor (init: MailboxServerInit) {
    if (init.store.limits.maxEnvelopeBytes > MAILBOX_LIMITS.maxFetchBytes) throw new RangeError('maxEnvelopeBytes exceeds what one FETCH response carries')
    this.init = init
    this.store = init.store
    this.log = init.log ?? noop
  }

  /** Start the time-to-live sweep (one now, then periodically). */
  start (): void {
    if (this.sweepTimer != null) return
    this.sweepTimer = setInterval(() => { void this.sweep() }, this.init.sweepEveryMs ?? SWEEP_EVERY_MS)
    this.sweepTimer.unref?.()
    void this.sweep()
  }

  stop (): void {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
  }

  /** Drop expired envelopes now (one sweep at a time). */
  async sweep (now = Date.now()): Promise<void> {
    if (this.sweeping != null) return await this.sweeping
    this.sweeping = (async () => {
      try {
        const count = await this.init.store.expire(now)
        this.metrics.expired += count
        if (count > 0) this.log('dropped %d expired envelopes', count)
      } catch (err) {
        this.log.error('mailbox sweep failed: %e', err)
      }
    })()
    try {
      await this.sweeping
    } finally {
      this.sweeping = undefined
    }
  }

  /** The stream handler: `registrar.handle(MAILBOX_PROTOCOL, server.handler, { maxInboundStreams: 8, runOnLimitedConnection: true })`. */
  readonly handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const peer = connection.remotePeer.toString()
    const open = this.streams.get(peer) ?? 0
    if (open >= (this.init.maxStreamsPerPeer ?? MAX_STREAMS_PER_PEER)) {
      this.refuse('too-many-streams')
      stream.abort(new Error('too many mailbox streams'))
      return
    }
    this.streams.set(peer, open + 1)
    try {
      await this.serve(stream, peer)
    } catch (err: any) {
      this.log('mailbox stream from %p failed: %s', connection.remotePeer, err?.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      const left = (this.streams.get(peer) ?? 1) - 1
      if (left === 0) this.streams.delete(peer)
      else this.streams.set(peer, left)
    }
  }

  private async serve (stream: Stream, peer: string): Promise<void> {
    const lp = lpStream(stream, lengthPrefixed(MAILBOX_LIMITS.maxRequestBytes))
    while (true) {
      let frame: Uint8Array
      try {
        frame = (await lp.read({ signal: AbortSignal.timeout(this.init.idleTimeoutMs ?? IDLE_TIMEOUT_MS) })).subarray()
      } catch (err: any) {
        if (BAD_LENGTH.has(err?.name)) return await this.invalid(stream, lp)
        // The peer closed its side: done. (Idle too long, or reset: the stream is dropped.)
        if (err?.name === 'UnexpectedEOFError') return await stream.close()
        throw err
      }
      let request: MailboxRequest
      try {
        request = decodeRequest(frame)
      } catch {
        return await this.invalid(stream, lp)
      }
      const response = await this.answer(peer, request)
      await lp.write(MailboxResponse.encode(response), { signal: AbortSignal.timeout(IDLE_TIMEOUT_MS) })
    }
  }

  /** Answer INVALID, close our side and give the peer a moment to close its own before dropping the stream. */
  private async invalid (stream: Stream, lp: LengthPrefixedStream): Promise<void> {
    this.metrics.invalid++
    await lp.write(MailboxResponse.encode({ status: MailboxStatus.INVALID }), { signal: AbortSignal.timeout(IDLE_TIMEOUT_MS) })
    await stream.close({ signal: AbortSignal.timeout(IDLE_TIMEOUT_MS) })
    setTimeout(() => { if (stream.status !== 'closed') stream.abort(new Error('invalid mailbox request')) }, 5_000).unref?.()
  }

  private refuse (reason: string, count = 1): void {
    this.metrics.refused[reason] = (this.metrics.refused[reason] ?? 0) + count
  }

  private async answer (peer: string, request: MailboxRequest): Promise<Partial<MailboxResponse>> {
    const { store } = this.init
    switch (request.op) {
      case MailboxOp.REGISTER:
        if (await this.init.contactOf(peer) === undefined) {
          this.refuse('not-a-friend')
          return { status: MailboxStatus.NOT_A_FRIEND }
        }
        await store.register(peer)
        return { status: MailboxStatus.OK }
      case MailboxOp.UNREGISTER:
        await store.unregister(peer)
        return { status: MailboxStatus.OK }
      case MailboxOp.DEPOSIT:
        return { status: MailboxStatus.OK, results: (await this.deposit(peer, request.envelopes)).map(toWire) }
      case MailboxOp.FETCH: {
        if (!store.isRegistered(peer)) return this.notAMailbox()
        const after = request.after[0]
        const { entries, more } = await store.page(peer, {
          limit: Math.min(request.limit, MAILBOX_LIMITS.maxFetchEnvelopes),
          maxBytes: MAILBOX_LIMITS.maxFetchBytes,
          ...(after !== undefined ? { after: toHex(after) } : {})
        })
        this.metrics.fetched += entries.length
        return {
          status: MailboxStatus.OK,
          envelopes: entries.map(e => e.envelope as Uint8Array<ArrayBuffer>),
          ids: entries.map(e => fromHex(e.id)),
          depositedAt: entries.map(e => e.depositedAt),
          more
        }
      }
      case MailboxOp.ACK: {
        if (!store.isRegistered(peer)) return this.notAMailbox()
        const count = await store.ack(peer, request.ids.map(toHex))
        this.metrics.acked += count
        return { status: MailboxStatus.OK, count }
      }
      default:
        // decodeRequest lets no other operation through.
        return { status: MailboxStatus.INVALID }
    }
  }

  private notAMailbox (): Partial<MailboxResponse> {
    this.refuse('not-a-mailbox')
    return { status: MailboxStatus.NOT_A_MAILBOX }
  }

  private async deposit (peer: string, envelopes: Uint8Array[]): Promise<DepositResult[]> {
    const contact = await this.init.contactOf(peer)
    const depositor: Depositor = contact !== undefined ? { id: contact } : { id: peer, stranger: true }
    const deposited = await this.init.store.depositEach(depositor, envelopes)
    const stored = new Map<string, number>()
    for (const { result, recipient } of deposited) {
      if (result === 'stored' && recipient !== undefined) stored.set(recipient, (stored.get(recipient) ?? 0) + 1)
      else if (result === 'duplicate') this.metrics.duplicates++
      else if (result !== 'stored') this.refuse(result)
    }
    for (const [recipient, count] of stored) {
      this.metrics.deposited += count
      try {
        this.init.onDeposit?.(recipient, count)
      } catch (err) {
        this.log.error('onDeposit failed: %e', err)
      }
    }
    return deposited.map(d => d.result)
  }
}
