import { KithError } from './errors.js'

/**
 * The length prefix of a frame was longer than the largest frame needs. Named as lpStream's
 * own error for this case, so the handlers that count bad lengths count it with no change.
 */
export class InvalidDataLengthLengthError extends KithError {
  static override name = 'InvalidDataLengthLengthError'
}

/** The bytes of a varint holding `value`. */
function varintBytes (value: number): number {
  let bytes = 1
  for (; value >= 0x80; value = Math.floor(value / 0x80)) bytes++
  return bytes
}

/** What {@link lengthPrefixed} returns: options for `lpStream` from @libp2p/utils. */
export interface LengthPrefixOptions {
  maxDataLength: number
  lengthDecoder: (data: { byteLength: number, get: (index: number) => number }) => number
}

/**
 * Options for `lpStream` (@libp2p/utils) that refuse a frame over `maxDataLength` by its length
 * prefix, and a length prefix longer than that needs as soon as it is. lpStream alone checks
 * the prefix's length only once the prefix ends: a peer that sends one that never ends
 * (0xff 0xff …) has it read byte by byte for as long as it keeps sending, at about 120 bytes
 * of memory per byte sent and a core kept busy (1 MiB of 0xff: ~120 MB of heap, ~30 s here).
 *
 * @example
 * ```ts
 * const lp = lpStream(stream, lengthPrefixed(LIMITS.maxFrameBytes))
 * ```
 */
export function lengthPrefixed (maxDataLength: number): LengthPrefixOptions {
  const maxBytes = varintBytes(maxDataLength)
  return {
    maxDataLength,
    lengthDecoder: (data) => {
      let value = 0
      let scale = 1
      for (let i = 0; i < data.byteLength; i++) {
        const byte = data.get(i)
        value += (byte & 0x7f) * scale
        if (byte < 0x80) return value
        scale *= 0x80
        if (i + 1 >= maxBytes) throw new InvalidDataLengthLengthError(`a length prefix over ${maxBytes} bytes: frames here are at most ${maxDataLength} bytes`)
      }
      // lpStream reads one more byte on a RangeError.
      throw new RangeError('the length prefix goes on')
    }
  }
}
