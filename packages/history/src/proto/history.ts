import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum FrameKind {
  UNKNOWN_KIND = 'UNKNOWN_KIND',
  HELLO = 'HELLO',
  RECON = 'RECON',
  WANT = 'WANT',
  RECORDS = 'RECORDS',
  END = 'END',
  REFUSED = 'REFUSED'
}

enum __FrameKindValues {
  UNKNOWN_KIND = 0,
  HELLO = 1,
  RECON = 2,
  WANT = 3,
  RECORDS = 4,
  END = 5,
  REFUSED = 6
}

export namespace FrameKind {
  export const codec = (): Codec<FrameKind> => {
    return enumeration<FrameKind>(__FrameKindValues)
  }
}

export enum HistoryStatus {
  UNKNOWN_STATUS = 'UNKNOWN_STATUS',
  QUEUED = 'QUEUED',
  SENT = 'SENT',
  STORED = 'STORED',
  DELIVERED = 'DELIVERED',
  REFUSED_STATUS = 'REFUSED_STATUS',
  RECEIVED = 'RECEIVED'
}

enum __HistoryStatusValues {
  UNKNOWN_STATUS = 0,
  QUEUED = 1,
  SENT = 2,
  STORED = 3,
  DELIVERED = 4,
  REFUSED_STATUS = 5,
  RECEIVED = 6
}

export namespace HistoryStatus {
  export const codec = (): Codec<HistoryStatus> => {
    return enumeration<HistoryStatus>(__HistoryStatusValues)
  }
}

export interface HistoryRecord {
  id: Uint8Array<ArrayBuffer>
  conversation: number
  from: number
  text: Uint8Array<ArrayBuffer>
  ts: number
  status: HistoryStatus
  mailboxes?: number
  epoch?: number
  signature?: Uint8Array<ArrayBuffer>
  fileHash?: Uint8Array<ArrayBuffer>
  fileKey?: Uint8Array<ArrayBuffer>
  fileSize?: number
  fileName?: Uint8Array<ArrayBuffer>
  fileType?: Uint8Array<ArrayBuffer>
}

export namespace HistoryRecord {
  let _codec: Codec<HistoryRecord>

  export const codec = (): Codec<HistoryRecord> => {
    if (_codec == null) {
      _codec = message<HistoryRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if ((obj.conversation != null && obj.conversation !== 0)) {
          w.uint32(16)
          w.uint32(obj.conversation)
        }

        if ((obj.from != null && obj.from !== 0)) {
          w.uint32(24)
          w.uint32(obj.from)
        }

        if ((obj.text != null && obj.text.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.text)
        }

        if ((obj.ts != null && obj.ts !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.ts)
        }

        if (obj.status != null && __HistoryStatusValues[obj.status] !== 0) {
          w.uint32(48)
          HistoryStatus.codec().encode(obj.status, w)
        }

        if (obj.mailboxes != null) {
          w.uint32(56)
          w.uint32(obj.mailboxes)
        }

        if (obj.epoch != null) {
          w.uint32(64)
          w.uint64Number(obj.epoch)
        }

        if (obj.signature != null) {
          w.uint32(74)
          w.bytes(obj.signature)
        }

        if (obj.fileHash != null) {
          w.uint32(82)
          w.bytes(obj.fileHash)
        }

        if (obj.fileKey != null) {
          w.uint32(90)
          w.bytes(obj.fileKey)
        }

        if (obj.fileSize != null) {
          w.uint32(96)
          w.uint64Number(obj.fileSize)
        }

        if (obj.fileName != null) {
          w.uint32(106)
          w.bytes(obj.fileName)
        }

        if (obj.fileType != null) {
          w.uint32(114)
          w.bytes(obj.fileType)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          conversation: 0,
          from: 0,
          text: uint8ArrayAlloc(0),
          ts: 0,
          status: HistoryStatus.UNKNOWN_STATUS
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.bytes()
              break
            }
            case 2: {
              obj.conversation = reader.uint32()
              break
            }
            case 3: {
              obj.from = reader.uint32()
              break
            }
            case 4: {
              obj.text = reader.bytes()
              break
            }
            case 5: {
              obj.ts = reader.uint64Number()
              break
            }
            case 6: {
              obj.status = HistoryStatus.codec().decode(reader)
              break
            }
            case 7: {
              obj.mailboxes = reader.uint32()
              break
            }
            case 8: {
              obj.epoch = reader.uint64Number()
              break
            }
            case 9: {
              obj.signature = reader.bytes()
              break
            }
            case 10: {
              obj.fileHash = reader.bytes()
              break
            }
            case 11: {
              obj.fileKey = reader.bytes()
              break
            }
            case 12: {
              obj.fileSize = reader.uint64Number()
              break
            }
            case 13: {
              obj.fileName = reader.bytes()
              break
            }
            case 14: {
              obj.fileType = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.conversation`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.from`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.text`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.ts`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.status`,
                value: HistoryStatus.codec().decode(reader)
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.mailboxes`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.fileHash`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.fileKey`,
                value: reader.bytes()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.fileSize`,
                value: reader.uint64Number()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.fileName`,
                value: reader.bytes()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.fileType`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HistoryRecordIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordConversationFieldEvent {
    field: '$.conversation'
    value: number
  }

  export interface HistoryRecordFromFieldEvent {
    field: '$.from'
    value: number
  }

  export interface HistoryRecordTextFieldEvent {
    field: '$.text'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordTsFieldEvent {
    field: '$.ts'
    value: number
  }

  export interface HistoryRecordStatusFieldEvent {
    field: '$.status'
    value: HistoryStatus
  }

  export interface HistoryRecordMailboxesFieldEvent {
    field: '$.mailboxes'
    value: number
  }

  export interface HistoryRecordEpochFieldEvent {
    field: '$.epoch'
    value: number
  }

  export interface HistoryRecordSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordFileHashFieldEvent {
    field: '$.fileHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordFileKeyFieldEvent {
    field: '$.fileKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordFileSizeFieldEvent {
    field: '$.fileSize'
    value: number
  }

  export interface HistoryRecordFileNameFieldEvent {
    field: '$.fileName'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryRecordFileTypeFieldEvent {
    field: '$.fileType'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<HistoryRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HistoryRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HistoryRecord>): HistoryRecord {
    return decodeMessage(buf, HistoryRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HistoryRecord>): Generator<HistoryRecordIdFieldEvent | HistoryRecordConversationFieldEvent | HistoryRecordFromFieldEvent | HistoryRecordTextFieldEvent | HistoryRecordTsFieldEvent | HistoryRecordStatusFieldEvent | HistoryRecordMailboxesFieldEvent | HistoryRecordEpochFieldEvent | HistoryRecordSignatureFieldEvent | HistoryRecordFileHashFieldEvent | HistoryRecordFileKeyFieldEvent | HistoryRecordFileSizeFieldEvent | HistoryRecordFileNameFieldEvent | HistoryRecordFileTypeFieldEvent> {
    return streamMessage(buf, HistoryRecord.codec(), opts)
  }
}

export interface HistoryFrame {
  kind: FrameKind
  version: number
  since: number
  recon: Uint8Array<ArrayBuffer>
  ids: Uint8Array<ArrayBuffer>[]
  names: string[]
  records: Uint8Array<ArrayBuffer>[]
  answered: number
}

export namespace HistoryFrame {
  let _codec: Codec<HistoryFrame>

  export const codec = (): Codec<HistoryFrame> => {
    if (_codec == null) {
      _codec = message<HistoryFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __FrameKindValues[obj.kind] !== 0) {
          w.uint32(8)
          FrameKind.codec().encode(obj.kind, w)
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(16)
          w.uint32(obj.version)
        }

        if ((obj.since != null && obj.since !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.since)
        }

        if ((obj.recon != null && obj.recon.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.recon)
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (obj.names != null && obj.names.length > 0) {
          for (const value of obj.names) {
            w.uint32(50)
            w.string(value)
          }
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(58)
            w.bytes(value)
          }
        }

        if ((obj.answered != null && obj.answered !== 0)) {
          w.uint32(64)
          w.uint32(obj.answered)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: FrameKind.UNKNOWN_KIND,
          version: 0,
          since: 0,
          recon: uint8ArrayAlloc(0),
          ids: [],
          names: [],
          records: [],
          answered: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = FrameKind.codec().decode(reader)
              break
            }
            case 2: {
              obj.version = reader.uint32()
              break
            }
            case 3: {
              obj.since = reader.uint64Number()
              break
            }
            case 4: {
              obj.recon = reader.bytes()
              break
            }
            case 5: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            case 6: {
              if (opts.limits?.names != null && obj.names.length === opts.limits.names) {
                throw new MaxLengthError('Decode error - repeated field "names" had too many elements')
              }

              obj.names.push(reader.string())
              break
            }
            case 7: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(reader.bytes())
              break
            }
            case 8: {
              obj.answered = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          ids: 0,
          names: 0,
          records: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: FrameKind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.since`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.recon`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              if (opts.limits?.ids != null && obj.ids === opts.limits.ids) {
                throw new MaxLengthError('Streaming decode error - repeated field "ids" had too many elements')
              }

              yield {
                field: `${prefix}.ids[]`,
                index: obj.ids,
                value: reader.bytes()
              }

              obj.ids++

              break
            }
            case 6: {
              if (opts.limits?.names != null && obj.names === opts.limits.names) {
                throw new MaxLengthError('Streaming decode error - repeated field "names" had too many elements')
              }

              yield {
                field: `${prefix}.names[]`,
                index: obj.names,
                value: reader.string()
              }

              obj.names++

              break
            }
            case 7: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              yield {
                field: `${prefix}.records[]`,
                index: obj.records,
                value: reader.bytes()
              }

              obj.records++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.answered`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HistoryFrameKindFieldEvent {
    field: '$.kind'
    value: FrameKind
  }

  export interface HistoryFrameVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface HistoryFrameSinceFieldEvent {
    field: '$.since'
    value: number
  }

  export interface HistoryFrameReconFieldEvent {
    field: '$.recon'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryFrameIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryFrameNamesFieldEvent {
    field: '$.names[]'
    index: number
    value: string
  }

  export interface HistoryFrameRecordsFieldEvent {
    field: '$.records[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface HistoryFrameAnsweredFieldEvent {
    field: '$.answered'
    value: number
  }

  export function encode (obj: Partial<HistoryFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HistoryFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HistoryFrame>): HistoryFrame {
    return decodeMessage(buf, HistoryFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HistoryFrame>): Generator<HistoryFrameKindFieldEvent | HistoryFrameVersionFieldEvent | HistoryFrameSinceFieldEvent | HistoryFrameReconFieldEvent | HistoryFrameIdsFieldEvent | HistoryFrameNamesFieldEvent | HistoryFrameRecordsFieldEvent | HistoryFrameAnsweredFieldEvent> {
    return streamMessage(buf, HistoryFrame.codec(), opts)
  }
}
