import { InvalidLinkCodeError, LinkCodeUsedError } from '@kith/core'
import { LinkRejectedError, UnknownLinkRequestError } from './errors.js'

/**
 * How long the identity device holds a link for the user to compare the codes: long enough to
 * look at both screens, short enough that a forgotten request goes away. Never past the code's
 * own expiry.
 */
export const LINK_CONFIRM_TIMEOUT_MS = 2 * 60 * 1000

/** A new device that proved a link code and waits for the user to compare comparison codes. */
export interface LinkRequestView {
  /** Its peer id. */
  device: string
  /** What it asks to be called ("phone"). */
  name: string
  /** The six digits it shows too ("123 456"). */
  comparison: string
  /** Until when it waits for the user's answer, ms since the epoch. */
  expires: number
}

/** Why a held link was not certified: declined, no answer in time, or the new device hung up. */
export type LinkRefusal = 'rejected' | 'timeout' | 'gone'

/** What the holder of a link does at each step. */
export interface HoldLink<T> {
  /** Aborts when the new device hangs up. */
  signal: AbortSignal
  /** The link is held: tell the new device, and the user. */
  waiting: (view: LinkRequestView) => Promise<void>
  /** The user confirmed: certify and hand over. Its result goes to the confirming caller too. */
  certify: () => Promise<T>
  /** The link ended without a confirmation (before the new device is told). */
  refused: (view: LinkRequestView, why: LinkRefusal) => Promise<void>
}

interface Waiting<T> {
  view: LinkRequestView
  decide: (decision: LinkRefusal | 'confirmed') => void
  /** Settles when `certify` has run (or the link was refused). */
  outcome: Promise<T>
}

const REASONS: Record<LinkRefusal, string> = {
  rejected: 'the user declined',
  timeout: 'no answer in time',
  gone: 'the new device hung up'
}

/**
 * Links the identity device holds until the user confirms that both screens show the same
 * comparison code: nothing is certified and nothing handed over before that. One request per
 * link code at a time; each ends confirmed, rejected, timed out or gone.
 */
export class LinkConfirmations<T> {
  private readonly waiting = new Map<string, Waiting<T>>()

  constructor (private readonly timeoutMs = LINK_CONFIRM_TIMEOUT_MS) {}

  /** Devices waiting for the user's answer, oldest first. */
  list (): LinkRequestView[] {
    return [...this.waiting.values()].map(w => ({ ...w.view }))
  }

  /**
   * Hold the link on the code named `code` for `request` until the user decides (through
   * {@link confirm} or {@link reject}), it times out ({@link LINK_CONFIRM_TIMEOUT_MS}, never past
   * `codeExpires`), or `hold.signal` aborts. Returns what `hold.certify` returned.
   *
   * @throws {LinkCodeUsedError} when another device is waiting on this code already
   * @throws {LinkRejectedError} when the link ended without a confirmation
   */
  async hold (code: string, request: Omit<LinkRequestView, 'expires'>, codeExpires: number, hold: HoldLink<T>): Promise<T> {
    if (this.waiting.has(code)) throw new LinkCodeUsedError('another device is linking with this code right now: make a new one with "kith device link"')
    const view: LinkRequestView = { ...request, expires: Math.min(Date.now() + this.timeoutMs, codeExpires) }
    let decide!: (decision: LinkRefusal | 'confirmed') => void
    const decided = new Promise<LinkRefusal | 'confirmed'>(resolve => { decide = resolve })
    let settle!: { resolve: (value: T) => void, reject: (err: unknown) => void }
    const outcome = new Promise<T>((resolve, reject) => { settle = { resolve, reject } })
    outcome.catch(() => {}) // nobody may be waiting for it (a refusal)
    this.waiting.set(code, { view, decide, outcome })
    const timer = setTimeout(() => { decide('timeout') }, Math.max(0, view.expires - Date.now()))
    const gone = (): void => { decide('gone') }
    hold.signal.addEventListener('abort', gone, { once: true })
    if (hold.signal.aborted) gone()
    let decision: LinkRefusal | 'confirmed'
    try {
      await hold.waiting({ ...view })
      decision = await decided
    } catch (err) {
      settle.reject(err)
      throw err
    } finally {
      clearTimeout(timer)
      hold.signal.removeEventListener('abort', gone)
      this.waiting.delete(code)
    }
    try {
      if (decision !== 'confirmed') {
        await hold.refused({ ...view }, decision)
        throw new LinkRejectedError(REASONS[decision])
      }
      const result = await hold.certify()
      settle.resolve(result)
      return result
    } catch (err) {
      settle.reject(err)
      throw err
    }
  }

  /**
   * The user saw `comparison` on both screens: certify the device waiting with it. Resolves once
   * it is certified and handed over.
   *
   * @throws {InvalidLinkCodeError} when `comparison` is not six digits
   * @throws {UnknownLinkRequestError} when no device waits with it
   * @throws {LinkRejectedError} when the new device hung up meanwhile
   */
  async confirm (comparison: string): Promise<T> {
    const waiting = this.find(comparison)
    waiting.decide('confirmed')
    return await waiting.outcome
  }

  /**
   * The user declined: the device waiting with `comparison` is not linked.
   *
   * @throws {InvalidLinkCodeError | UnknownLinkRequestError}
   */
  reject (comparison: string): LinkRequestView {
    const waiting = this.find(comparison)
    waiting.decide('rejected')
    return { ...waiting.view }
  }

  private find (comparison: string): Waiting<T> {
    const digits = comparisonDigits(comparison)
    for (const waiting of this.waiting.values()) if (comparisonDigits(waiting.view.comparison) === digits) return waiting
    throw new UnknownLinkRequestError(`no new device is waiting with comparison code ${digits.slice(0, 3)} ${digits.slice(3)} (it timed out, was decided, or shows another code)`)
  }
}

/** "123 456", "123456" or "123-456" → "123456". */
function comparisonDigits (comparison: string): string {
  const digits = comparison.replace(/[\s-]/g, '')
  if (!/^\d{6}$/.test(digits)) throw new InvalidLinkCodeError('a comparison code is six digits, as both screens show it (for example 123 456)')
  return digits
}
