import { MAX_ID_BYTES, SYNC_DEFAULTS } from './constants.js'
import { FINAL_RANGE_BYTES, MAX_FINGERPRINT_RANGE_BYTES, MAX_ID_LIST_OVERHEAD_BYTES, MAX_SKIP_RANGE_BYTES, VERSION_BYTES } from './wire.js'

/** Tuning of a {@link Reconciler}. The two sides need not agree, except on message size. */
export interface ReconcilerOptions {
  /** Sub-ranges a mismatched range is split into, 2 to 256 (default 16). */
  branching?: number
  /** Largest range, in items, answered with its ids instead of split: branching to 4096 (default 32). */
  idListThreshold?: number
  /**
   * Largest message written, and accepted, in bytes (default 256 KiB). A peer's limit must be
   * at least ours, or it rejects our messages. The smallest allowed value depends on the two
   * other options: about 1.2 KiB with the defaults; the largest is 64 MiB.
   */
  maxMessageBytes?: number
}

/** Options checked, with what follows from them. */
export interface Settings {
  branching: number
  idListThreshold: number
  maxMessageBytes: number
  /**
   * Room kept free before each incoming range: a Skip range, the largest answer to one range
   * (a split or an id list), another Skip range and the closing fingerprint.
   */
  reserve: number
}

const MAX_MESSAGE_BYTES_LIMIT = 64 * 1024 * 1024

/** @throws {RangeError} when an option is out of its range */
export function settingsOf (options: ReconcilerOptions): Settings {
  const branching = checkInteger('branching', options.branching ?? SYNC_DEFAULTS.branching, 2, 256)
  const idListThreshold = checkInteger('idListThreshold', options.idListThreshold ?? SYNC_DEFAULTS.idListThreshold, branching, 4096)
  const largestAnswer = Math.max(
    branching * MAX_FINGERPRINT_RANGE_BYTES,
    MAX_ID_LIST_OVERHEAD_BYTES + idListThreshold * (1 + MAX_ID_BYTES)
  )
  const reserve = 2 * MAX_SKIP_RANGE_BYTES + largestAnswer + FINAL_RANGE_BYTES
  const maxMessageBytes = checkInteger('maxMessageBytes', options.maxMessageBytes ?? SYNC_DEFAULTS.maxMessageBytes,
    VERSION_BYTES + reserve, MAX_MESSAGE_BYTES_LIMIT)
  return { branching, idListThreshold, maxMessageBytes, reserve }
}

function checkInteger (name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  return value
}
