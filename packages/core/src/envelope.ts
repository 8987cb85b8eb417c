import { decodeCanonical } from './canonical.js'
import { Envelope } from './proto/dm.js'

/**
 * Decode an Envelope strictly (see {@link decodeCanonical}): new fields come with a new version.
 *
 * @throws {InvalidMessageError}
 */
export function decodeEnvelope (frame: Uint8Array): Envelope {
  return decodeCanonical(Envelope, frame, 'envelope')
}
