import { InvalidMessageError } from './errors.js'

/** Makes the error a strict decode throws, from its message and cause. */
export type DecodeErrorFactory = (message: string, cause?: unknown) => Error

/**
 * Decode protobuf bytes strictly: they must be exactly this build's encoding of what they
 * decode to. That refuses unknown fields (new fields come with a new version) and fields cut
 * inside a varint, which protons-runtime 7 reads past without an error (protobufjs#1834). It
 * also means a signed structure has exactly one encoding.
 *
 * @param what - names the kind in errors ("malformed envelope", "malformed envelope: not in canonical form")
 * @param error - makes the error thrown; default {@link InvalidMessageError}
 */
export function decodeCanonical<T> (codec: { decode: (bytes: Uint8Array) => T, encode: (value: T) => Uint8Array }, bytes: Uint8Array, what: string,
  error: DecodeErrorFactory = (message, cause) => new InvalidMessageError(message, { cause })): T {
  let value: T
  try {
    value = codec.decode(bytes)
  } catch (err) {
    throw error(`malformed ${what}`, err)
  }
  if (!Buffer.from(codec.encode(value)).equals(bytes)) throw error(`malformed ${what}: not in canonical form`)
  return value
}
