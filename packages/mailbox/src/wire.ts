import { InvalidMessageError, MESSAGE_ID_BYTES } from '@kith/core'
import { MAILBOX_LIMITS } from './constants.js'
import { MailboxOp, MailboxRequest, MailboxResponse, MailboxStatus } from './proto/mailbox.js'
import type { MailboxRefusal } from './errors.js'
import type { DepositResult } from './types.js'

export { MailboxOp, MailboxRequest, MailboxResponse, MailboxStatus }

/** DepositResult of mailbox.proto: a result's number on the wire is its index here. */
const RESULTS: readonly DepositResult[] = ['stored', 'duplicate', 'unknown-recipient', 'quota', 'oversized', 'malformed', 'quota-depositor', 'quota-strangers']

export const toWire = (result: DepositResult): number => RESULTS.indexOf(result)

export function fromWire (result: number): DepositResult {
  const mapped = RESULTS[result]
  if (mapped === undefined) throw new InvalidMessageError('unknown deposit result')
  return mapped
}

export const REFUSALS: Partial<Record<MailboxStatus, MailboxRefusal>> = {
  [MailboxStatus.NOT_A_MAILBOX]: 'not-a-mailbox',
  [MailboxStatus.NOT_A_FRIEND]: 'not-a-friend',
  [MailboxStatus.INVALID]: 'invalid'
}

/** Decode with `decode`, then refuse anything this build would not have written byte for byte. */
function strict<T> (frame: Uint8Array, decode: () => T, encode: (value: T) => Uint8Array): T {
  let value: T
  try {
    value = decode()
  } catch (err) {
    throw new InvalidMessageError('malformed mailbox message', { cause: err })
  }
  let again: Uint8Array
  try {
    again = encode(value)
  } catch (err) {
    throw new InvalidMessageError('malformed mailbox message', { cause: err })
  }
  // Re-encoding refuses unknown fields, unknown enum values and varints cut short, which
  // protons-runtime 7 reads past without an error.
  if (!Buffer.from(again).equals(frame)) throw new InvalidMessageError('mailbox message is not in canonical form')
  return value
}

const isId = (id: Uint8Array): boolean => id.length === MESSAGE_ID_BYTES

/**
 * A request as the server accepts it: canonical, an operation it knows, only the fields of
 * that operation, within the limits.
 *
 * @throws {InvalidMessageError}
 */
export function decodeRequest (frame: Uint8Array): MailboxRequest {
  const limits = { envelopes: MAILBOX_LIMITS.maxDepositEnvelopes, after: 1, ids: MAILBOX_LIMITS.maxAckIds }
  const request = strict(frame, () => MailboxRequest.decode(frame, { limits }), MailboxRequest.encode)
  const { op, envelopes, limit, after, ids } = request
  const only = (fields: { envelopes?: boolean, limit?: boolean, after?: boolean, ids?: boolean }): boolean =>
    (fields.envelopes === true || envelopes.length === 0) && (fields.limit === true || limit === 0) &&
    (fields.after === true || after.length === 0) && (fields.ids === true || ids.length === 0)
  let ok: boolean
  switch (op) {
    case MailboxOp.REGISTER:
    case MailboxOp.UNREGISTER:
      ok = only({})
      break
    case MailboxOp.DEPOSIT:
      ok = only({ envelopes: true }) && envelopes.length > 0 &&
        envelopes.reduce((sum, e) => sum + e.length, 0) <= MAILBOX_LIMITS.maxDepositBytes
      break
    case MailboxOp.FETCH:
      ok = only({ limit: true, after: true }) && limit > 0 && after.every(isId)
      break
    case MailboxOp.ACK:
      ok = only({ ids: true }) && ids.length > 0 && ids.every(isId)
      break
    default:
      ok = false
  }
  if (!ok) throw new InvalidMessageError(`invalid ${op} request`)
  return request
}

/**
 * A response as the client accepts it: canonical, with what its request asked for.
 *
 * @throws {InvalidMessageError}
 */
export function decodeResponse (frame: Uint8Array, request: Pick<MailboxRequest, 'op' | 'envelopes' | 'limit'>): MailboxResponse {
  const n = MAILBOX_LIMITS.maxFetchEnvelopes
  const limits = { results: MAILBOX_LIMITS.maxDepositEnvelopes, envelopes: n, ids: n, depositedAt: n }
  const response = strict(frame, () => MailboxResponse.decode(frame, { limits }), MailboxResponse.encode)
  if (response.status !== MailboxStatus.OK) return response
  const { results, envelopes, ids, depositedAt } = response
  let ok = true
  if (request.op === MailboxOp.DEPOSIT) ok = results.length === request.envelopes.length
  else if (results.length > 0) ok = false
  if (request.op === MailboxOp.FETCH) {
    ok &&= envelopes.length <= request.limit && ids.length === envelopes.length && depositedAt.length === envelopes.length && ids.every(isId)
  } else {
    ok &&= envelopes.length === 0 && ids.length === 0 && depositedAt.length === 0
  }
  if (!ok) throw new InvalidMessageError(`${request.op} response does not answer its request`)
  return response
}
