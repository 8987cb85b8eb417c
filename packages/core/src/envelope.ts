import { InvalidMessageError } from './errors.js'
import { Envelope } from './proto/dm.js'

/**
 * Decode an Envelope strictly: the bytes must be exactly this build's encoding of what they
 * decode to. That refuses unknown fields (new fields come with a new version) and frames cut
 * inside a varint, which protons-runtime 7 reads past without an error (protobufjs#1834).
 *
 * @throws {InvalidMessageError}
 */
export function decodeEnvelope (frame: Uint8Array): Envelope {
  let envelope: Envelope
  try {
    envelope = Envelope.decode(frame)
  } catch (err) {
    throw new InvalidMessageError('malformed envelope', { cause: err })
  }
  if (!Buffer.from(Envelope.encode(envelope)).equals(frame)) throw new InvalidMessageError('envelope is not in canonical form')
  return envelope
}
