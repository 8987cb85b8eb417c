/**
 * @packageDocumentation
 *
 * One account on several devices (docs/devices.md): link codes, the `/kith/link/1.0.0`
 * exchange that certifies a new device, the comparison code both screens show (the identity
 * device holds a link until its user confirms that code: {@link LinkConfirmations}), and
 * contacts as a user's devices hand them to each other. The node composes these with the
 * identity key, the store and messaging.
 *
 * @example
 * ```ts
 * import { encodeLinkCode, decodeLinkCode, linkProof, requestLink, LINK_CODE_TTL_MS } from '@kith/devices'
 * // identity device
 * const code = encodeLinkCode({ peerId: libp2p.peerId.toMultihash().bytes, addrs, secret, expires: Date.now() + LINK_CODE_TTL_MS })
 * // new device
 * const link = decodeLinkCode(code)
 * const result = await requestLink(stream, self, { proof: linkProof(link.secret, identityDevice, self), name: 'laptop' }, {
 *   onWaiting: () => { console.log('comparison code', comparisonCode(link.secret, identityDevice, self)) },
 *   waitUntil: link.expires
 * })
 * ```
 */
export { encodeLinkCode, decodeLinkCode, LINK_CODE_PREFIX, LINK_CODE_TTL_MS, LINK_SECRET_BYTES } from './link-code.js'
export type { LinkCodeData } from './link-code.js'
export { linkProof, comparisonCode } from './link-secret.js'
export { serveLink, requestLink, LINK_STATUS, MAX_DEVICE_NAME_BYTES, MAX_LINK_RESPONSE_BYTES } from './link-protocol.js'
export type { LinkAnswer, LinkExchange, LinkResult, RequestLinkOptions } from './link-protocol.js'
export { LinkConfirmations, LINK_CONFIRM_TIMEOUT_MS } from './link-confirmations.js'
export type { HoldLink, LinkRefusal, LinkRequestView } from './link-confirmations.js'
export { LinkRejectedError, UnknownLinkRequestError } from './errors.js'
export { encodeContact, decodeContact } from './contacts.js'
export { LinkRequest, LinkResponse } from './proto/link.js'
