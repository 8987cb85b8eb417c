/**
 * @packageDocumentation
 *
 * Shared ground for every Kith package: protocol ids, limits, named errors and the protobuf
 * wire formats (compiled from `src/proto/*.proto` with protons; `pnpm proto` regenerates them).
 *
 * @example
 * ```ts
 * import { DM_PROTOCOL, LIMITS, Envelope } from '@kith/core'
 * const bytes = Envelope.encode(envelope)
 * if (bytes.length > LIMITS.maxFrameBytes) throw new Error('too big')
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './bytes.js'
export { PAD_TO, padded, paddingFor } from './padding.js'
export * from './invite.js'
export { Envelope, SignedMessage, Message, MessageKind, Ack, AckStatus, Invite, FileOffer } from './proto/dm.js'
export { FILE_OFFER_LIMITS, encodeFileOffer, decodeFileOffer } from './file-offer.js'
export { CONTENT_LIMITS, encodeContent, decodeContent, validReaction } from './content.js'
export type { MessageContent, ChangeContent } from './content.js'
export { PreKeyBundle, SealedContent } from './proto/e2ee.js'
export { resolveHome } from './home.js'
export { decodeEnvelope } from './envelope.js'
export { decodeCanonical } from './canonical.js'
export { encodeCode, decodeCode } from './code.js'
export { lengthPrefixed, InvalidDataLengthLengthError } from './length-prefix.js'
export type { LengthPrefixOptions } from './length-prefix.js'
export type { DecodeErrorFactory } from './canonical.js'
