import { InvalidLinkCodeError, LINK_PROTOCOL, LinkCodeExpiredError, LinkCodeUsedError, lengthPrefixed, utf8Length } from '@kith/core'
import { listHasDevice, verifyDeviceCertificate, verifyDeviceList } from '@kith/crypto'
import type { VerifiedDeviceList } from '@kith/crypto'
import { lpStream } from '@libp2p/utils'
import { LinkRejectedError } from './errors.js'
import { LINK_CONFIRM_TIMEOUT_MS } from './link-confirmations.js'
import { LinkRequest, LinkResponse } from './proto/link.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/**
 * LinkResponse.status values. WAITING comes first when the proof checked and the identity device
 * holds the link for its user to compare the codes; the final answer follows (OK or REJECTED).
 */
export const LINK_STATUS = { OK: 0, INVALID: 1, EXPIRED: 2, USED: 3, REFUSED: 4, WAITING: 5, REJECTED: 6 } as const

const TIMEOUT_MS = 30_000
const MAX_REQUEST_BYTES = 256
/** A response carries the certificate, the list and every contact: room for thousands of contacts. */
export const MAX_LINK_RESPONSE_BYTES = 4 * 1024 * 1024
export const MAX_DEVICE_NAME_BYTES = 64

/** What the identity device decides about a link request. */
export type LinkAnswer = Omit<LinkResponse, 'status' | 'reason'> & Partial<Pick<LinkResponse, 'status' | 'reason'>>

/** What a link handler can do with the stream while it decides. */
export interface LinkExchange {
  /** Tell the new device the proof checked and the link waits for the user (a WAITING answer). */
  hold: (reason: string) => Promise<void>
  /** Aborts when the new device hangs up. */
  signal: AbortSignal
}

/**
 * Serve `/kith/link/1.0.0` (the identity device only): one request per stream, answered by
 * `answer` with the remote device as Noise authenticated it. Oversized or malformed requests
 * are answered INVALID; `answer` throwing is answered with its error's status. While `answer`
 * waits for its user it may {@link LinkExchange.hold} the link.
 */
export async function serveLink (registrar: Pick<Registrar, 'handle'>, answer: (device: PeerId, request: LinkRequest, exchange: LinkExchange) => Promise<LinkAnswer>, onInvalid: () => void): Promise<void> {
  await registrar.handle(LINK_PROTOCOL, (stream: Stream, connection: Connection) => {
    void (async () => {
      const lp = lpStream(stream, lengthPrefixed(MAX_REQUEST_BYTES))
      const closed = new AbortController()
      const onClose = (): void => { closed.abort() }
      stream.addEventListener('close', onClose, { once: true })
      let response: LinkResponse
      try {
        const request = decodeLinkRequest((await lp.read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray())
        const hold = async (reason: string): Promise<void> => {
          await lp.write(LinkResponse.encode({ ...EMPTY, status: LINK_STATUS.WAITING, reason }), { signal: AbortSignal.timeout(TIMEOUT_MS) })
        }
        const answered = await answer(connection.remotePeer, request, { hold, signal: closed.signal })
        response = { ...answered, status: answered.status ?? LINK_STATUS.OK, reason: answered.reason ?? '' }
      } catch (err: any) {
        if (MALFORMED.has(err?.name)) onInvalid()
        response = { ...EMPTY, status: statusOf(err), reason: err?.message ?? 'refused' }
      } finally {
        stream.removeEventListener('close', onClose)
      }
      try {
        await lp.write(LinkResponse.encode(response), { signal: AbortSignal.timeout(TIMEOUT_MS) })
        await stream.close()
      } catch (err: any) {
        stream.abort(err)
      }
    })()
  }, { maxInboundStreams: 2, runOnLimitedConnection: true })
}

/** What an oversized or malformed request throws: lpStream's length errors, and {@link decodeLinkRequest}'s. */
const MALFORMED = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidLinkCodeError'])

/** @throws {InvalidLinkCodeError} unless it decodes to a 32-byte proof and a name of at most 64 bytes */
function decodeLinkRequest (bytes: Uint8Array): LinkRequest {
  let request: LinkRequest
  try {
    request = LinkRequest.decode(bytes)
  } catch (err) {
    throw new InvalidLinkCodeError('malformed link request', { cause: err })
  }
  if (request.proof.length !== 32 || utf8Length(request.name) > MAX_DEVICE_NAME_BYTES) throw new InvalidLinkCodeError('malformed link request')
  return request
}

const EMPTY: LinkResponse = { status: LINK_STATUS.INVALID, reason: '', certificate: new Uint8Array(), deviceList: new Uint8Array(), name: '', contacts: [] }

function statusOf (err: any): number {
  if (err?.name === 'LinkCodeExpiredError') return LINK_STATUS.EXPIRED
  if (err?.name === 'LinkCodeUsedError') return LINK_STATUS.USED
  if (err?.name === 'NotIdentityDeviceError') return LINK_STATUS.REFUSED
  if (err?.name === 'LinkRejectedError') return LINK_STATUS.REJECTED
  return LINK_STATUS.INVALID
}

/** What a successful link gives the new device, checked. */
export interface LinkResult {
  certificate: Uint8Array
  list: VerifiedDeviceList
  name: string
  contacts: Uint8Array[]
}

/** How the new device follows a link request. */
export interface RequestLinkOptions {
  /** The identity device holds the link until its user confirms the comparison code: show it now. */
  onWaiting?: () => void
  /** Wait for the user's answer at most until then (ms since the epoch): the link code's expiry. */
  waitUntil?: number
}

/**
 * Ask the identity device (on `stream`) to link us, and wait while it holds the link for its
 * user to confirm the comparison code. Checks that the certificate is for `self` and from the
 * list's identity, and that the list verifies and names us.
 *
 * @throws {LinkRejectedError} when the user declined or did not answer in time
 * @throws {LinkCodeExpiredError | LinkCodeUsedError | InvalidLinkCodeError} as the identity device answers
 */
export async function requestLink (stream: Stream, self: PeerId, request: LinkRequest, options: RequestLinkOptions = {}): Promise<LinkResult> {
  const lp = lpStream(stream, lengthPrefixed(MAX_LINK_RESPONSE_BYTES))
  const read = async (ms: number): Promise<LinkResponse> => LinkResponse.decode(await lp.read({ signal: AbortSignal.timeout(ms) }), { limits: { contacts: 100_000 } })
  await lp.write(LinkRequest.encode(request), { signal: AbortSignal.timeout(TIMEOUT_MS) })
  let response = await read(TIMEOUT_MS)
  if (response.status === LINK_STATUS.WAITING) {
    options.onWaiting?.()
    // The identity device gives up by then; the margin covers certifying and the answer's trip.
    const wait = Math.min(LINK_CONFIRM_TIMEOUT_MS, (options.waitUntil ?? Infinity) - Date.now()) + TIMEOUT_MS
    try {
      response = await read(Math.max(TIMEOUT_MS, wait))
    } catch (err: any) {
      stream.abort(err)
      throw new LinkRejectedError('the other device did not confirm the comparison code in time: this device is not linked', { cause: err })
    }
  }
  await stream.close().catch(() => {})
  if (response.status === LINK_STATUS.REJECTED) throw new LinkRejectedError(`the other device did not confirm the comparison code (${response.reason}): this device is not linked`)
  if (response.status === LINK_STATUS.EXPIRED) throw new LinkCodeExpiredError(`the identity device says: ${response.reason}`)
  if (response.status === LINK_STATUS.USED) throw new LinkCodeUsedError(`the identity device says: ${response.reason}`)
  if (response.status !== LINK_STATUS.OK) throw new InvalidLinkCodeError(`the identity device refused: ${response.reason}`)
  const list = verifyDeviceList(response.deviceList)
  verifyDeviceCertificate(response.certificate, { device: self, identity: list.identity })
  if (!listHasDevice(list, self)) throw new InvalidLinkCodeError('the device list the identity device sent does not name this device')
  return { certificate: response.certificate, list, name: response.name, contacts: response.contacts }
}
