import { toHex } from '@kith/core'
import { FINGERPRINT_BYTES, MAX_ID_BYTES, SYNC_VERSION } from './constants.js'
import { SyncProtocolError } from './errors.js'
import { compareKeys, INFINITY_BOUND, isValidIdLength, isValidTs } from './item.js'
import { SyncMessage } from './proto/sync.js'
import { Mode } from './wire.js'
import type { SyncBound } from './item.js'
import type { WireRange } from './wire.js'

/** Each range takes at least 8 bytes on the wire (4 fields, tag + length or value). */
const MIN_RANGE_BYTES = 8

/**
 * Decode and check one message: size first, then the protobuf, then every range. Work is
 * linear in the message's size.
 *
 * @throws {SyncProtocolError} on anything this build would not have written
 */
export function decodeSyncMessage (bytes: Uint8Array, maxBytes: number): WireRange[] {
  if (bytes.length > maxBytes) throw new SyncProtocolError(`sync message of ${bytes.length} bytes exceeds ${maxBytes}`)
  const maxRanges = Math.floor(maxBytes / MIN_RANGE_BYTES)
  let message: SyncMessage
  try {
    message = SyncMessage.decode(bytes, { limits: { boundTs: maxRanges, boundId: maxRanges, mode: maxRanges, payload: maxRanges } })
  } catch (err) {
    throw new SyncProtocolError('malformed sync message', { cause: err })
  }
  // Re-encoding refuses unknown fields and varints cut short, which protons-runtime reads
  // past without an error (protobufjs#1834).
  if (!Buffer.from(SyncMessage.encode(message)).equals(bytes)) throw new SyncProtocolError('sync message is not in canonical form')
  if (message.version !== SYNC_VERSION) throw new SyncProtocolError(`unsupported sync message version ${message.version}`)
  const count = message.mode.length
  if (message.boundTs.length !== count || message.boundId.length !== count || message.payload.length !== count) {
    throw new SyncProtocolError('sync message fields have different lengths')
  }
  const ranges: WireRange[] = []
  const seen = new Set<string>()
  let lastTs = 0
  let previous: SyncBound | undefined
  for (let i = 0; i < count; i++) {
    const code = message.boundTs[i] ?? 0
    const id = message.boundId[i] ?? new Uint8Array(0)
    const payload = message.payload[i] ?? new Uint8Array(0)
    let bound: SyncBound
    if (code === 0) {
      if (i !== count - 1 || id.length !== 0) throw new SyncProtocolError('only the last bound may be infinite')
      bound = INFINITY_BOUND
    } else {
      // Beyond 2^53 the sum may round, but never back below the limit.
      lastTs += code - 1
      if (!isValidTs(lastTs)) throw new SyncProtocolError('bound timestamp out of range')
      if (id.length > MAX_ID_BYTES) throw new SyncProtocolError('bound id too long')
      bound = { ts: lastTs, id }
    }
    if (previous !== undefined && compareKeys(previous, bound) >= 0) throw new SyncProtocolError('bounds are not increasing')
    previous = bound
    ranges.push(decodeRange(bound, message.mode[i], payload, seen))
  }
  return ranges
}

function decodeRange (bound: SyncBound, mode: number | undefined, payload: Uint8Array, seen: Set<string>): WireRange {
  switch (mode) {
    case Mode.Skip:
      if (payload.length !== 0) throw new SyncProtocolError('skip range with a payload')
      return { bound, mode }
    case Mode.Fingerprint:
      if (payload.length !== FINGERPRINT_BYTES) throw new SyncProtocolError('fingerprint of the wrong length')
      return { bound, mode, fingerprint: payload }
    case Mode.IdList:
      return { bound, mode, ids: decodeIds(payload, seen) }
    default:
      throw new SyncProtocolError(`unknown range mode ${mode}`)
  }
}

/** Split an IdList payload; ids are copied so that they outlive the message's buffer. */
function decodeIds (payload: Uint8Array, seen: Set<string>): Uint8Array[] {
  const ids: Uint8Array[] = []
  let pos = 0
  while (pos < payload.length) {
    const length = payload[pos] ?? 0
    if (!isValidIdLength(length) || pos + 1 + length > payload.length) throw new SyncProtocolError('id of the wrong length')
    const id = payload.slice(pos + 1, pos + 1 + length)
    const key = toHex(id)
    // A repeated id would be reported twice as needed.
    if (seen.has(key)) throw new SyncProtocolError('id listed twice')
    seen.add(key)
    ids.push(id)
    pos += 1 + length
  }
  return ids
}
