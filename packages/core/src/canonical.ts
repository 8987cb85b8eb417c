import { InvalidMessageError } from './errors.js'

/**
 * Decode protobuf bytes strictly: they must be exactly this build's encoding of what they
 * decode to. That refuses unknown fields (new fields come with a new version) and fields cut
 * inside a varint, which protons-runtime 7 reads past without an error (protobufjs#1834).
 *
 * @param what - names the kind in errors ("malformed envelope", "envelope is not in canonical form")
 * @throws {InvalidMessageError}
 */
export function decodeCanonical<T> (codec: { decode: (bytes: Uint8Array) => T, encode: (value: T) => Uint8Array }, bytes: Uint8Array, what: string): T {
  let value: T
  try {
    value = codec.decode(bytes)
  } catch (err) {
    throw new InvalidMessageError(`malformed ${what}`, { cause: err })
  }
  if (!Buffer.from(codec.encode(value)).equals(bytes)) throw new InvalidMessageError(`${what} is not in canonical form`)
  return value
}
