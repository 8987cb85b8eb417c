import { fromHex, lengthPrefixed, toHex } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { HISTORY_LIMITS } from './constants.js'
import { HistorySyncError, HistorySyncRefusedError, invalidInput } from './errors.js'
import { FrameKind, HistoryFrame, HistoryRecord, HistoryStatus } from './proto/history.js'
import { RECORD_FIELDS, isCanonical } from './strict.js'
import type { ImportedMessage, MessageStatus } from '@kith/store'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

export { FrameKind, HistoryFrame, HistoryRecord }

const ID_BYTES = 16
const HASH_BYTES = 32

/** Errors of lpStream that mean the peer sent a length over the limit or a broken one. */
const BAD_LENGTH = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError'])
/** Errors of a stream the other side closed, reset or aborted. */
const ENDED = new Set(['UnexpectedEOFError', 'StreamResetError', 'StreamAbortedError', 'StreamStateError', 'StreamClosedError'])

/**
 * Decode one frame strictly: size first, then the protobuf with its repeated fields bounded,
 * then canonical form (unknown fields and varints cut short are refused), then what each kind
 * must carry. Records are checked one by one later ({@link importedOf}).
 *
 * @throws {HistorySyncError} on anything this build would not have written
 */
export function decodeFrame (bytes: Uint8Array): HistoryFrame {
  if (bytes.length > HISTORY_LIMITS.maxFrameBytes) throw invalidInput(`history frame of ${bytes.length} bytes exceeds ${HISTORY_LIMITS.maxFrameBytes}`)
  let frame: HistoryFrame
  try {
    frame = HistoryFrame.decode(bytes, { limits: { ids: HISTORY_LIMITS.maxWantIds, names: HISTORY_LIMITS.maxNames, records: HISTORY_LIMITS.maxRecords } })
  } catch (err) {
    throw invalidInput('malformed history frame', err)
  }
  if (!viewOf(HistoryFrame.encode(frame)).equals(bytes)) throw invalidInput('history frame is not in canonical form')
  const only = (...fields: Array<keyof HistoryFrame>): void => {
    const empty: Record<keyof HistoryFrame, boolean> = {
      kind: true,
      version: frame.version === 0,
      since: frame.since === 0,
      recon: frame.recon.length === 0,
      ids: frame.ids.length === 0,
      names: frame.names.length === 0,
      records: frame.records.length === 0,
      answered: frame.answered === 0
    }
    for (const [field, isEmpty] of Object.entries(empty)) {
      if (!isEmpty && !fields.includes(field as keyof HistoryFrame)) throw invalidInput(`history frame ${FrameKind[frame.kind]} carries ${field}`)
    }
  }
  switch (frame.kind) {
    case FrameKind.HELLO:
      only('version', 'since', 'recon')
      if (!isTimestamp(frame.since)) throw invalidInput('since out of range')
      break
    case FrameKind.RECON:
      only('recon')
      break
    case FrameKind.WANT:
      only('ids')
      if (frame.ids.length === 0) throw invalidInput('a want frame names no ids')
      if (frame.ids.some(id => id.length !== ID_BYTES)) throw invalidInput('a wanted id is not 16 bytes')
      break
    case FrameKind.RECORDS:
      only('names', 'records', 'answered')
      if (frame.answered === 0) throw invalidInput('a records frame answers no ids')
      if (frame.names.some(name => !isName(name))) throw invalidInput('invalid name in a records frame')
      if (frame.records.some(record => record.length > HISTORY_LIMITS.maxRecordBytes)) throw invalidInput('record too large')
      break
    case FrameKind.END:
    case FrameKind.REFUSED:
      only()
      break
    default:
      throw invalidInput(`unknown history frame kind ${frame.kind as unknown as number}`)
  }
  if (frame.recon.length > HISTORY_LIMITS.maxReconBytes) throw invalidInput('reconciliation message too large')
  return frame
}

/**
 * Length-prefixed frames on a stream, counted in bytes, every read and write bounded by a
 * deadline. A REFUSED frame, where another kind was expected, throws {@link HistorySyncRefusedError}.
 */
export class Frames {
  /** Bytes read and written, length prefixes included. */
  bytes = 0
  readonly #lp: LengthPrefixedStream<Stream>
  readonly #timeoutMs: number
  readonly #signal: AbortSignal | undefined

  constructor (stream: Stream, options: { timeoutMs: number, maxBufferBytes: number, signal?: AbortSignal | undefined }) {
    this.#lp = lpStream(stream, { ...lengthPrefixed(HISTORY_LIMITS.maxFrameBytes), maxBufferSize: options.maxBufferBytes })
    this.#timeoutMs = options.timeoutMs
    this.#signal = options.signal
  }

  /** @throws {HistorySyncError} on a bad frame, one of another kind than `kinds`, or none in time */
  async read (...kinds: FrameKind[]): Promise<HistoryFrame> {
    let bytes: Uint8Array
    const options = this.#options()
    try {
      bytes = (await this.#lp.read(options)).subarray()
    } catch (err: any) {
      if (BAD_LENGTH.has(err?.name)) throw invalidInput('history frame too large or its length broken', err)
      throw this.#failed(options, err)
    }
    this.bytes += bytes.length + varintLength(bytes.length)
    const frame = decodeFrame(bytes)
    if (kinds.length > 0 && !kinds.includes(frame.kind)) {
      if (frame.kind === FrameKind.REFUSED) throw new HistorySyncRefusedError('the other device refused: it does not hold this one for one of its user\'s devices')
      throw invalidInput(`expected a ${kinds.map(k => FrameKind[k]).join(' or ')} frame, got ${FrameKind[frame.kind]}`)
    }
    return frame
  }

  async write (frame: Partial<HistoryFrame>): Promise<void> {
    const bytes = HistoryFrame.encode(frame)
    this.bytes += bytes.length + varintLength(bytes.length)
    const options = this.#options()
    try {
      await this.#lp.write(bytes, options)
    } catch (err) {
      throw this.#failed(options, err)
    }
  }

  #options (): AbortOptions & { deadline: AbortSignal } {
    const deadline = AbortSignal.timeout(this.#timeoutMs)
    return { deadline, signal: this.#signal == null ? deadline : AbortSignal.any([deadline, this.#signal]) }
  }

  /** The stream ending or the deadline passing (and not the caller aborting) is the other device's doing. */
  #failed (options: { deadline: AbortSignal }, err: any): unknown {
    if (this.#signal?.aborted === true) return err
    if (options.deadline.aborted) return new HistorySyncError(`the other device did not answer within ${this.#timeoutMs} ms`, { cause: err })
    if (ENDED.has(err?.name)) return new HistorySyncError('the other device ended the stream', { cause: err })
    return err
  }
}

/** A Buffer over the same memory (Buffer.from(array) would copy it). */
function viewOf (bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function varintLength (value: number): number {
  let bytes = 1
  while (value >= 128) { value = Math.floor(value / 128); bytes++ }
  return bytes
}

const STATUS_TO_WIRE: Record<MessageStatus, HistoryStatus> = {
  queued: HistoryStatus.QUEUED,
  sent: HistoryStatus.SENT,
  stored: HistoryStatus.STORED,
  delivered: HistoryStatus.DELIVERED,
  refused: HistoryStatus.REFUSED_STATUS,
  received: HistoryStatus.RECEIVED
}
const STATUS_FROM_WIRE = new Map(Object.entries(STATUS_TO_WIRE).map(([status, wire]) => [wire, status as MessageStatus]))

/** Names in a records frame, each sent once and referred to by its index. */
export class NameTable {
  readonly names: string[] = []
  /** Bytes the names take in the frame (each ASCII, with a tag and a length byte). */
  bytes = 0
  readonly #index = new Map<string, number>()

  indexOf (name: string): number {
    let i = this.#index.get(name)
    if (i === undefined) {
      i = this.names.push(name) - 1
      this.#index.set(name, i)
      this.bytes += name.length + 2
    }
    return i
  }
}

/**
 * A stored record as it goes on the wire, or undefined for one the other device would refuse
 * (names, text or file out of the limits, an id that is not 16 bytes of hex).
 */
export function wireOf (record: ImportedMessage, names: NameTable): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[0-9a-f]{32}$/.test(record.id) || !isName(record.conversation) || !isName(record.from)) return undefined
  if (!isTimestamp(record.ts) || typeof record.text !== 'string') return undefined
  const text = utf8Of(record.text)
  const status = STATUS_TO_WIRE[record.status]
  if (text.length > HISTORY_LIMITS.maxTextBytes || status === undefined) return undefined
  const wire: Partial<HistoryRecord> = { id: fromHex(record.id), text, ts: record.ts, status }
  if (record.file != null) {
    const { hash, key, size } = record.file
    const name = utf8Of(record.file.name)
    const type = utf8Of(record.file.type)
    if (!/^[0-9a-f]{64}$/.test(hash) || !/^[0-9a-f]{64}$/.test(key) || !Number.isSafeInteger(size) || size < 0 ||
      name.length > HISTORY_LIMITS.maxFileNameBytes || type.length > HISTORY_LIMITS.maxFileTypeBytes) return undefined
    Object.assign(wire, { fileHash: fromHex(hash), fileKey: fromHex(key), fileSize: size, fileName: name, fileType: type })
  }
  if (record.mailboxes != null) {
    if (!Number.isInteger(record.mailboxes) || record.mailboxes < 0 || record.mailboxes >= 2 ** 32) return undefined
    wire.mailboxes = record.mailboxes
  }
  if (record.epoch != null) {
    if (!Number.isSafeInteger(record.epoch) || record.epoch < 0) return undefined
    wire.epoch = record.epoch
  }
  if (record.signature != null) {
    if (!/^(?:[0-9a-f]{2})*$/.test(record.signature) || record.signature.length > 2 * HISTORY_LIMITS.maxSignatureBytes) return undefined
    wire.signature = fromHex(record.signature)
  }
  // Names last: a record left out adds none.
  wire.conversation = names.indexOf(record.conversation)
  wire.from = names.indexOf(record.from)
  return HistoryRecord.encode(wire)
}

/**
 * A received record as the store imports it: size first, then canonical form (checked on the
 * bytes, see strict.ts), then the protobuf, then every field in its limits.
 *
 * @throws {HistorySyncError} naming what is wrong
 */
export function importedOf (bytes: Uint8Array, names: string[], since: number): ImportedMessage {
  if (bytes.length > HISTORY_LIMITS.maxRecordBytes) throw invalidInput('record too large')
  if (!isCanonical(bytes, RECORD_FIELDS)) throw invalidInput('record is not in canonical form')
  let wire: HistoryRecord
  try {
    wire = HistoryRecord.decode(bytes)
  } catch (err) {
    throw invalidInput('malformed record', err)
  }
  const conversation = names[wire.conversation]
  const from = names[wire.from]
  if (wire.id.length !== ID_BYTES) throw invalidInput('record id is not 16 bytes')
  if (conversation === undefined || from === undefined) throw invalidInput('record names an unknown conversation or author')
  if (!isTimestamp(wire.ts) || wire.ts < since) throw invalidInput('record time out of range')
  if (wire.text.length > HISTORY_LIMITS.maxTextBytes) throw invalidInput('record text too long')
  const status = STATUS_FROM_WIRE.get(wire.status)
  if (status === undefined) throw invalidInput('record status unknown')
  const record: ImportedMessage = { id: toHex(wire.id), conversation, from, text: textOf(wire.text), ts: wire.ts, status }
  const { fileHash, fileKey, fileSize, fileName, fileType } = wire
  if (fileHash != null || fileKey != null || fileSize != null || fileName != null || fileType != null) {
    if (fileHash?.length !== HASH_BYTES || fileKey?.length !== HASH_BYTES) throw invalidInput('record file hash or key is not 32 bytes')
    if (fileSize == null || !Number.isSafeInteger(fileSize)) throw invalidInput('record file size out of range')
    if (fileName == null || fileType == null || fileName.length > HISTORY_LIMITS.maxFileNameBytes || fileType.length > HISTORY_LIMITS.maxFileTypeBytes) {
      throw invalidInput('record file name or type missing or too long')
    }
    record.file = { hash: toHex(fileHash), key: toHex(fileKey), size: fileSize, name: textOf(fileName), type: textOf(fileType) }
  }
  if (wire.mailboxes != null) record.mailboxes = wire.mailboxes
  if (wire.epoch != null) {
    if (!Number.isSafeInteger(wire.epoch)) throw invalidInput('record epoch out of range')
    record.epoch = wire.epoch
  }
  if (wire.signature != null) {
    if (wire.signature.length > HISTORY_LIMITS.maxSignatureBytes) throw invalidInput('record signature too long')
    record.signature = toHex(wire.signature)
  }
  return record
}

/** The id of an encoded record, read without decoding the rest (field 1 comes first), or undefined. */
export function recordIdOf (bytes: Uint8Array): Uint8Array | undefined {
  // Tag 0x0a (field 1, length-delimited), length 16, then the id.
  if (bytes.length < 2 + ID_BYTES || bytes[0] !== 0x0a || bytes[1] !== ID_BYTES) return undefined
  return bytes.subarray(2, 2 + ID_BYTES)
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Strict UTF-8 decoding (native, and it refuses what is not UTF-8). */
function textOf (bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes)
  } catch (err) {
    throw invalidInput('record text is not UTF-8', err)
  }
}

/** UTF-8 bytes of a string (lone surrogates become U+FFFD, as TextEncoder does). */
function utf8Of (text: string): Uint8Array<ArrayBuffer> {
  const bytes = Buffer.from(text, 'utf8')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) as Uint8Array<ArrayBuffer>
}

/** A conversation or author name: 1 to 128 printable ASCII characters, no '!' (the store's key separator). */
export function isName (name: string): boolean {
  return typeof name === 'string' && name.length >= 1 && name.length <= HISTORY_LIMITS.maxNameBytes && /^[\x22-\x7e]+$/.test(name)
}

/** An integer time in ms from 0 to 2^53 - 2, as @kith/sync orders them. */
export function isTimestamp (ts: number): boolean {
  return Number.isSafeInteger(ts) && ts >= 0 && ts < Number.MAX_SAFE_INTEGER
}
