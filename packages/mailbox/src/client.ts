import { MESSAGE_ID_BYTES, fromHex, lengthPrefixed, toHex } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { MAILBOX_LIMITS, RESPONSE_TIMEOUT_MS } from './constants.js'
import { MailboxRefusedError } from './errors.js'
import { MailboxOp, MailboxRequest, REFUSALS, decodeResponse, fromWire } from './wire.js'
import type { DepositResult, MailboxEntry } from './types.js'
import type { MailboxResponse } from './wire.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/** Takes in a batch of drained envelopes; resolves with the hex ids it has durably taken in (to be deleted). */
export type DrainHandler = (batch: MailboxEntry[]) => Promise<string[]>

export interface DrainOptions extends AbortOptions {
  /** Envelopes per FETCH (default 100, at most 256). */
  batch?: number
}

type Call = (request: Partial<MailboxRequest> & { op: MailboxOp }) => Promise<MailboxResponse>

/**
 * Run request/response pairs on `stream`. Each response is awaited with a timeout, size-limited
 * before it is read and decoded strictly; a refusal throws {@link MailboxRefusedError}. The
 * stream is left as it was found (open, nothing buffered away), for the caller to reuse or close.
 */
async function exchange<T> (stream: Stream, options: AbortOptions, run: (call: Call) => Promise<T>): Promise<T> {
  const lp = lpStream(stream, lengthPrefixed(MAILBOX_LIMITS.maxResponseBytes))
  const call: Call = async (request) => {
    const signal = options.signal == null ? AbortSignal.timeout(RESPONSE_TIMEOUT_MS) : AbortSignal.any([options.signal, AbortSignal.timeout(RESPONSE_TIMEOUT_MS)])
    await lp.write(MailboxRequest.encode(request), { signal })
    const response = decodeResponse((await lp.read({ signal })).subarray(), { op: request.op, envelopes: request.envelopes ?? [], limit: request.limit ?? 0 })
    const refusal = REFUSALS[response.status]
    if (refusal !== undefined) throw new MailboxRefusedError(refusal)
    return response
  }
  try {
    return await run(call)
  } finally {
    lp.unwrap()
  }
}

/**
 * Ask the mailbox at the other end of `stream` to hold our mail.
 *
 * @throws {MailboxRefusedError} `not-a-friend` when we are not its node's contact
 */
export async function register (stream: Stream, options: AbortOptions = {}): Promise<void> {
  await exchange(stream, options, async (call) => await call({ op: MailboxOp.REGISTER }))
}

/** Ask the mailbox at the other end of `stream` to stop holding our mail (it drops what it holds). */
export async function unregister (stream: Stream, options: AbortOptions = {}): Promise<void> {
  await exchange(stream, options, async (call) => await call({ op: MailboxOp.UNREGISTER }))
}

/**
 * Hand sealed envelopes to the mailbox at the other end of `stream`, in as many requests as
 * the limits need (64 envelopes, 1 MiB). Resolves with one result per envelope, in order; an
 * envelope too large for any request is `oversized` without being sent.
 *
 * @throws {MailboxRefusedError} `invalid` when the mailbox refused a request as malformed
 */
export async function deposit (stream: Stream, envelopes: Uint8Array[], options: AbortOptions = {}): Promise<DepositResult[]> {
  const results = new Array<DepositResult>(envelopes.length).fill('oversized')
  const requests: number[][] = []
  let current: number[] = []
  let bytes = 0
  for (const [i, envelope] of envelopes.entries()) {
    if (envelope.length > MAILBOX_LIMITS.maxDepositBytes) continue
    if (current.length === MAILBOX_LIMITS.maxDepositEnvelopes || bytes + envelope.length > MAILBOX_LIMITS.maxDepositBytes) {
      requests.push(current)
      current = []
      bytes = 0
    }
    current.push(i)
    bytes += envelope.length
  }
  if (current.length > 0) requests.push(current)
  if (requests.length === 0) return results
  await exchange(stream, options, async (call) => {
    for (const indexes of requests) {
      const response = await call({ op: MailboxOp.DEPOSIT, envelopes: indexes.map(i => envelopes[i] as Uint8Array<ArrayBuffer>) })
      response.results.forEach((result, k) => { results[indexes[k] as number] = fromWire(result) })
    }
  })
  return results
}

/**
 * Take in what the mailbox at the other end of `stream` holds for us: fetch a batch (in
 * deposit order), hand it to `onBatch`, delete the ids it returns, and go on until nothing is
 * left. Envelopes `onBatch` does not return stay in the mailbox (and are skipped for the rest of
 * this drain). If `onBatch` throws or the stream breaks, the error propagates and whatever was
 * not acknowledged is still there for the next drain, so nothing is lost. A batch taken in
 * whose acknowledgement was lost comes again: recognise its envelopes by id (as the messaging
 * service does) and return their ids again.
 *
 * @throws {MailboxRefusedError} `not-a-mailbox` when it keeps no mailbox for us
 */
export async function drain (stream: Stream, onBatch: DrainHandler, options: DrainOptions = {}): Promise<{ received: number, acked: number }> {
  const limit = Math.max(1, Math.min(Math.floor(options.batch ?? 100), MAILBOX_LIMITS.maxFetchEnvelopes))
  let received = 0
  let acked = 0
  const seen = new Set<string>()
  await exchange(stream, options, async (call) => {
    let after: Uint8Array<ArrayBuffer> | undefined
    while (true) {
      const page = await call({ op: MailboxOp.FETCH, limit, after: after === undefined ? [] : [after] })
      const batch = page.envelopes.map((envelope, i) => ({ id: toHex(page.ids[i] as Uint8Array), envelope, depositedAt: page.depositedAt[i] as number }))
      // A mailbox that hands out nothing new would keep us here forever.
      if (batch.length === 0 || batch.every(e => seen.has(e.id))) break
      for (const e of batch) seen.add(e.id)
      received += batch.length
      const ids = [...new Set(await onBatch(batch))].map(id => {
        const bytes = fromHex(id)
        if (bytes.length !== MESSAGE_ID_BYTES) throw new TypeError('not an envelope id')
        return bytes
      })
      for (let i = 0; i < ids.length; i += MAILBOX_LIMITS.maxAckIds) {
        acked += (await call({ op: MailboxOp.ACK, ids: ids.slice(i, i + MAILBOX_LIMITS.maxAckIds) })).count
      }
      after = page.ids.at(-1)
      if (!page.more) break
    }
  })
  return { received, acked }
}
