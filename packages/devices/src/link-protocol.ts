import { InvalidLinkCodeError, LINK_PROTOCOL, LinkCodeExpiredError, LinkCodeUsedError, utf8Length } from '@kith/core'
import { listHasDevice, verifyDeviceCertificate, verifyDeviceList } from '@kith/crypto'
import type { VerifiedDeviceList } from '@kith/crypto'
import { lpStream } from '@libp2p/utils'
import { LinkRequest, LinkResponse } from './proto/link.js'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Registrar } from '@libp2p/interface-internal'

/** LinkResponse.status values. */
export const LINK_STATUS = { OK: 0, INVALID: 1, EXPIRED: 2, USED: 3, REFUSED: 4 } as const

const TIMEOUT_MS = 30_000
const MAX_REQUEST_BYTES = 256
/** A response carries the certificate, the list and every contact: room for thousands of contacts. */
export const MAX_LINK_RESPONSE_BYTES = 4 * 1024 * 1024
export const MAX_DEVICE_NAME_BYTES = 64

/** What the identity device decides about a link request. */
export type LinkAnswer = Omit<LinkResponse, 'status' | 'reason'> & Partial<Pick<LinkResponse, 'status' | 'reason'>>

/**
 * Serve `/kith/link/1.0.0` (the identity device only): one request per stream, answered by
 * `answer` with the remote device as Noise authenticated it. Oversized or malformed requests
 * are answered INVALID; `answer` throwing is answered with its error's status.
 */
export async function serveLink (registrar: Pick<Registrar, 'handle'>, answer: (device: PeerId, request: LinkRequest) => Promise<LinkAnswer>, onInvalid: () => void): Promise<void> {
  await registrar.handle(LINK_PROTOCOL, (stream: Stream, connection: Connection) => {
    void (async () => {
      const signal = AbortSignal.timeout(TIMEOUT_MS)
      const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
      let response: LinkResponse
      try {
        const request = LinkRequest.decode(await lp.read({ signal }))
        if (request.proof.length !== 32 || utf8Length(request.name) > MAX_DEVICE_NAME_BYTES) throw new InvalidLinkCodeError('malformed link request')
        const answered = await answer(connection.remotePeer, request)
        response = { ...answered, status: answered.status ?? LINK_STATUS.OK, reason: answered.reason ?? '' }
      } catch (err: any) {
        if (err?.name === 'InvalidDataLengthError' || err?.name === 'InvalidLinkCodeError' || err?.name === 'RangeError') onInvalid()
        response = { status: statusOf(err), reason: err?.message ?? 'refused', certificate: new Uint8Array(), deviceList: new Uint8Array(), name: '', contacts: [] }
      }
      try {
        await lp.write(LinkResponse.encode(response), { signal })
        await stream.close()
      } catch (err: any) {
        stream.abort(err)
      }
    })()
  }, { maxInboundStreams: 2, runOnLimitedConnection: true })
}

function statusOf (err: any): number {
  if (err?.name === 'LinkCodeExpiredError') return LINK_STATUS.EXPIRED
  if (err?.name === 'LinkCodeUsedError') return LINK_STATUS.USED
  if (err?.name === 'NotIdentityDeviceError') return LINK_STATUS.REFUSED
  return LINK_STATUS.INVALID
}

/** What a successful link gives the new device, checked. */
export interface LinkResult {
  certificate: Uint8Array
  list: VerifiedDeviceList
  name: string
  contacts: Uint8Array[]
}

/**
 * Ask the identity device (on `stream`) to link us. Checks that the certificate is for `self`
 * and from the list's identity, and that the list verifies and names us.
 *
 * @throws {LinkCodeExpiredError | LinkCodeUsedError | InvalidLinkCodeError} as the identity device answers
 */
export async function requestLink (stream: Stream, self: PeerId, request: LinkRequest): Promise<LinkResult> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  const lp = lpStream(stream, { maxDataLength: MAX_LINK_RESPONSE_BYTES })
  await lp.write(LinkRequest.encode(request), { signal })
  const response = LinkResponse.decode(await lp.read({ signal }), { limits: { contacts: 100_000 } })
  await stream.close().catch(() => {})
  if (response.status === LINK_STATUS.EXPIRED) throw new LinkCodeExpiredError(`the identity device says: ${response.reason}`)
  if (response.status === LINK_STATUS.USED) throw new LinkCodeUsedError(`the identity device says: ${response.reason}`)
  if (response.status !== LINK_STATUS.OK) throw new InvalidLinkCodeError(`the identity device refused: ${response.reason}`)
  const list = verifyDeviceList(response.deviceList)
  verifyDeviceCertificate(response.certificate, { device: self, identity: list.identity })
  if (!listHasDevice(list, self)) throw new InvalidLinkCodeError('the device list the identity device sent does not name this device')
  return { certificate: response.certificate, list, name: response.name, contacts: response.contacts }
}
