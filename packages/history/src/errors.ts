import { KithError } from '@kith/core'

/**
 * History sync broke off: a frame was malformed, oversized or unexpected, a record was not
 * one that was asked for, the other device stopped answering or ended the stream.
 * What was written before it stays: the next sync goes on from there.
 */
export class HistorySyncError extends KithError { static override name = 'HistorySyncError' }

/** The other device refused to sync: it does not hold us for one of its user's devices. Or we refused to pull from a peer that is not one of ours. */
export class HistorySyncRefusedError extends HistorySyncError { static override name = 'HistorySyncRefusedError' }

/** Errors caused by what the other side sent (not by a timeout or a closed stream): counted as invalid. */
const badInput = new WeakSet<Error>()

/** A {@link HistorySyncError} for input the other side should not have sent. */
export function invalidInput (message: string, cause?: unknown): HistorySyncError {
  const err = new HistorySyncError(message, cause === undefined ? undefined : { cause })
  badInput.add(err)
  return err
}

/** Whether `err` was caused by bad input from the other side. */
export function isInvalidInput (err: unknown): boolean {
  return err instanceof Error && badInput.has(err)
}
