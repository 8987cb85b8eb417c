import { InvalidMessageError } from './errors.js'
import { decodeCanonical } from './canonical.js'
import { FileOffer } from './proto/dm.js'
import { utf8Length } from './bytes.js'

/** Limits of a file offer, checked before and after decoding. */
export const FILE_OFFER_LIMITS = {
  /** Largest encoded offer. */
  maxBytes: 512,
  /** Longest file name, in UTF-8 bytes. */
  maxNameBytes: 255,
  /** Longest media type, in UTF-8 bytes. */
  maxTypeBytes: 127,
  /** Root and key are exactly this long. */
  hashBytes: 32
} as const

/**
 * Encode a file offer, refusing one that breaks the limits.
 *
 * @throws {InvalidMessageError}
 */
export function encodeFileOffer (offer: FileOffer): Uint8Array<ArrayBuffer> {
  checkFileOffer(offer)
  return FileOffer.encode(offer)
}

/**
 * Decode a file offer strictly: size first, canonical encoding, then the limits.
 *
 * @throws {InvalidMessageError}
 */
export function decodeFileOffer (bytes: Uint8Array): FileOffer {
  if (bytes.length > FILE_OFFER_LIMITS.maxBytes) throw new InvalidMessageError('file offer is too large')
  const offer = decodeCanonical(FileOffer, bytes, 'file offer')
  checkFileOffer(offer)
  return offer
}

/**
 * Check a file offer's fields against {@link FILE_OFFER_LIMITS}.
 *
 * @throws {InvalidMessageError}
 */
export function checkFileOffer (offer: FileOffer): void {
  if (offer.root.length !== FILE_OFFER_LIMITS.hashBytes || offer.key.length !== FILE_OFFER_LIMITS.hashBytes) throw new InvalidMessageError('a file offer has a 32-byte root and key')
  if (!Number.isSafeInteger(offer.size) || offer.size < 0) throw new InvalidMessageError('file size is out of range')
  if (offer.name.length === 0 || utf8Length(offer.name) > FILE_OFFER_LIMITS.maxNameBytes) throw new InvalidMessageError(`a file name is 1 to ${FILE_OFFER_LIMITS.maxNameBytes} bytes`)
  if (utf8Length(offer.type) > FILE_OFFER_LIMITS.maxTypeBytes) throw new InvalidMessageError(`a media type is at most ${FILE_OFFER_LIMITS.maxTypeBytes} bytes`)
}
