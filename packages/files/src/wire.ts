import { InvalidMessageError, MessageTooLargeError } from '@kith/core'
import { FILES_LIMITS, HASH_BYTES } from './constants.js'
import { FileKind, FileRequest, FileResponse, FileStatus } from './proto/files.js'

export { FileKind, FileRequest, FileResponse, FileStatus }

/** Decode with `decode`, then refuse anything not in the form this build writes (unknown fields, enum values, varints cut short). */
function strict<T> (frame: Uint8Array, decode: () => T, encode: (value: T) => Uint8Array): T {
  let value: T
  let again: Uint8Array
  try {
    value = decode()
    again = encode(value)
  } catch (err) {
    throw new InvalidMessageError('malformed files message', { cause: err })
  }
  if (!Buffer.from(again).equals(frame)) throw new InvalidMessageError('files message is not in canonical form')
  return value
}

/**
 * A request as a server accepts it: at most 256 bytes, canonical, a 32-byte root, a known kind,
 * and for CHUNKS a count of 1 to 16 (the range is checked against the file later).
 *
 * @throws {MessageTooLargeError | InvalidMessageError}
 */
export function decodeRequest (frame: Uint8Array): FileRequest {
  if (frame.length > FILES_LIMITS.maxRequestBytes) throw new MessageTooLargeError('files request too large')
  const request = strict(frame, () => FileRequest.decode(frame), FileRequest.encode)
  const { root, kind, start, count } = request
  let ok = root.length === HASH_BYTES
  if (kind === FileKind.CHUNKS) ok &&= count >= 1 && count <= FILES_LIMITS.maxRequestChunks
  else ok &&= (kind === FileKind.HAVE || kind === FileKind.LEAVES) && start === 0 && count === 0
  if (!ok) throw new InvalidMessageError('invalid files request')
  return request
}

/**
 * A response as a client accepts it: canonical, for a file of `chunks` chunks, with a bitfield
 * of the right length when it carries one.
 *
 * @throws {InvalidMessageError}
 */
export function decodeResponse (frame: Uint8Array, chunks: number): FileResponse {
  const response = strict(frame, () => FileResponse.decode(frame), FileResponse.encode)
  if (response.status !== FileStatus.OK && response.status !== FileStatus.MISSING) return response
  if (response.chunks !== chunks) throw new InvalidMessageError('the source knows the file with another chunk count')
  if (response.have.length !== 0 && response.have.length !== Math.ceil(chunks / 8)) throw new InvalidMessageError('bitfield of the wrong length')
  return response
}

/** Largest response frame for a file of `chunks` chunks: its bitfield and a little protobuf. */
export const maxResponseBytes = (chunks: number): number => Math.ceil(chunks / 8) + 32
