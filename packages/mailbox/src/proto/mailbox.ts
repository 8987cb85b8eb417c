import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum MailboxOp {
  UNKNOWN_OP = 'UNKNOWN_OP',
  REGISTER = 'REGISTER',
  UNREGISTER = 'UNREGISTER',
  DEPOSIT = 'DEPOSIT',
  FETCH = 'FETCH',
  ACK = 'ACK'
}

enum __MailboxOpValues {
  UNKNOWN_OP = 0,
  REGISTER = 1,
  UNREGISTER = 2,
  DEPOSIT = 3,
  FETCH = 4,
  ACK = 5
}

export namespace MailboxOp {
  export const codec = (): Codec<MailboxOp> => {
    return enumeration<MailboxOp>(__MailboxOpValues)
  }
}

export interface MailboxRequest {
  op: MailboxOp
  envelopes: Uint8Array<ArrayBuffer>[]
  limit: number
  after: Uint8Array<ArrayBuffer>[]
  ids: Uint8Array<ArrayBuffer>[]
}

export namespace MailboxRequest {
  let _codec: Codec<MailboxRequest>

  export const codec = (): Codec<MailboxRequest> => {
    if (_codec == null) {
      _codec = message<MailboxRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.op != null && __MailboxOpValues[obj.op] !== 0) {
          w.uint32(8)
          MailboxOp.codec().encode(obj.op, w)
        }

        if (obj.envelopes != null && obj.envelopes.length > 0) {
          for (const value of obj.envelopes) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if ((obj.limit != null && obj.limit !== 0)) {
          w.uint32(24)
          w.uint32(obj.limit)
        }

        if (obj.after != null && obj.after.length > 0) {
          for (const value of obj.after) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          op: MailboxOp.UNKNOWN_OP,
          envelopes: [],
          limit: 0,
          after: [],
          ids: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.op = MailboxOp.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.envelopes != null && obj.envelopes.length === opts.limits.envelopes) {
                throw new MaxLengthError('Decode error - repeated field "envelopes" had too many elements')
              }

              obj.envelopes.push(reader.bytes())
              break
            }
            case 3: {
              obj.limit = reader.uint32()
              break
            }
            case 4: {
              if (opts.limits?.after != null && obj.after.length === opts.limits.after) {
                throw new MaxLengthError('Decode error - repeated field "after" had too many elements')
              }

              obj.after.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
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
          envelopes: 0,
          after: 0,
          ids: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.op`,
                value: MailboxOp.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.envelopes != null && obj.envelopes === opts.limits.envelopes) {
                throw new MaxLengthError('Streaming decode error - repeated field "envelopes" had too many elements')
              }

              yield {
                field: `${prefix}.envelopes[]`,
                index: obj.envelopes,
                value: reader.bytes()
              }

              obj.envelopes++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.limit`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              if (opts.limits?.after != null && obj.after === opts.limits.after) {
                throw new MaxLengthError('Streaming decode error - repeated field "after" had too many elements')
              }

              yield {
                field: `${prefix}.after[]`,
                index: obj.after,
                value: reader.bytes()
              }

              obj.after++

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

  export interface MailboxRequestOpFieldEvent {
    field: '$.op'
    value: MailboxOp
  }

  export interface MailboxRequestEnvelopesFieldEvent {
    field: '$.envelopes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxRequestLimitFieldEvent {
    field: '$.limit'
    value: number
  }

  export interface MailboxRequestAfterFieldEvent {
    field: '$.after[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxRequestIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<MailboxRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MailboxRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxRequest>): MailboxRequest {
    return decodeMessage(buf, MailboxRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxRequest>): Generator<MailboxRequestOpFieldEvent | MailboxRequestEnvelopesFieldEvent | MailboxRequestLimitFieldEvent | MailboxRequestAfterFieldEvent | MailboxRequestIdsFieldEvent> {
    return streamMessage(buf, MailboxRequest.codec(), opts)
  }
}

export enum MailboxStatus {
  OK = 'OK',
  NOT_A_MAILBOX = 'NOT_A_MAILBOX',
  NOT_A_FRIEND = 'NOT_A_FRIEND',
  INVALID = 'INVALID'
}

enum __MailboxStatusValues {
  OK = 0,
  NOT_A_MAILBOX = 1,
  NOT_A_FRIEND = 2,
  INVALID = 3
}

export namespace MailboxStatus {
  export const codec = (): Codec<MailboxStatus> => {
    return enumeration<MailboxStatus>(__MailboxStatusValues)
  }
}

export enum DepositResult {
  STORED = 'STORED',
  DUPLICATE = 'DUPLICATE',
  UNKNOWN_RECIPIENT = 'UNKNOWN_RECIPIENT',
  QUOTA = 'QUOTA',
  OVERSIZED = 'OVERSIZED',
  MALFORMED = 'MALFORMED',
  QUOTA_DEPOSITOR = 'QUOTA_DEPOSITOR',
  QUOTA_STRANGERS = 'QUOTA_STRANGERS'
}

enum __DepositResultValues {
  STORED = 0,
  DUPLICATE = 1,
  UNKNOWN_RECIPIENT = 2,
  QUOTA = 3,
  OVERSIZED = 4,
  MALFORMED = 5,
  QUOTA_DEPOSITOR = 6,
  QUOTA_STRANGERS = 7
}

export namespace DepositResult {
  export const codec = (): Codec<DepositResult> => {
    return enumeration<DepositResult>(__DepositResultValues)
  }
}

export interface MailboxResponse {
  status: MailboxStatus
  results: number[]
  envelopes: Uint8Array<ArrayBuffer>[]
  ids: Uint8Array<ArrayBuffer>[]
  depositedAt: number[]
  more: boolean
  count: number
}

export namespace MailboxResponse {
  let _codec: Codec<MailboxResponse>

  export const codec = (): Codec<MailboxResponse> => {
    if (_codec == null) {
      _codec = message<MailboxResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __MailboxStatusValues[obj.status] !== 0) {
          w.uint32(8)
          MailboxStatus.codec().encode(obj.status, w)
        }

        if (obj.results != null && obj.results.length > 0) {
          for (const value of obj.results) {
            w.uint32(16)
            w.uint32(value)
          }
        }

        if (obj.envelopes != null && obj.envelopes.length > 0) {
          for (const value of obj.envelopes) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (obj.ids != null && obj.ids.length > 0) {
          for (const value of obj.ids) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.depositedAt != null && obj.depositedAt.length > 0) {
          for (const value of obj.depositedAt) {
            w.uint32(40)
            w.uint64Number(value)
          }
        }

        if ((obj.more != null && obj.more !== false)) {
          w.uint32(48)
          w.bool(obj.more)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(56)
          w.uint32(obj.count)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: MailboxStatus.OK,
          results: [],
          envelopes: [],
          ids: [],
          depositedAt: [],
          more: false,
          count: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = MailboxStatus.codec().decode(reader)
              break
            }
            case 2: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              obj.results.push(reader.uint32())
              break
            }
            case 3: {
              if (opts.limits?.envelopes != null && obj.envelopes.length === opts.limits.envelopes) {
                throw new MaxLengthError('Decode error - repeated field "envelopes" had too many elements')
              }

              obj.envelopes.push(reader.bytes())
              break
            }
            case 4: {
              if (opts.limits?.ids != null && obj.ids.length === opts.limits.ids) {
                throw new MaxLengthError('Decode error - repeated field "ids" had too many elements')
              }

              obj.ids.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.depositedAt != null && obj.depositedAt.length === opts.limits.depositedAt) {
                throw new MaxLengthError('Decode error - repeated field "depositedAt" had too many elements')
              }

              obj.depositedAt.push(reader.uint64Number())
              break
            }
            case 6: {
              obj.more = reader.bool()
              break
            }
            case 7: {
              obj.count = reader.uint32()
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
          results: 0,
          envelopes: 0,
          ids: 0,
          depositedAt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: MailboxStatus.codec().decode(reader)
              }
              break
            }
            case 2: {
              if (opts.limits?.results != null && obj.results === opts.limits.results) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              yield {
                field: `${prefix}.results[]`,
                index: obj.results,
                value: reader.uint32()
              }

              obj.results++

              break
            }
            case 3: {
              if (opts.limits?.envelopes != null && obj.envelopes === opts.limits.envelopes) {
                throw new MaxLengthError('Streaming decode error - repeated field "envelopes" had too many elements')
              }

              yield {
                field: `${prefix}.envelopes[]`,
                index: obj.envelopes,
                value: reader.bytes()
              }

              obj.envelopes++

              break
            }
            case 4: {
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
            case 5: {
              if (opts.limits?.depositedAt != null && obj.depositedAt === opts.limits.depositedAt) {
                throw new MaxLengthError('Streaming decode error - repeated field "depositedAt" had too many elements')
              }

              yield {
                field: `${prefix}.depositedAt[]`,
                index: obj.depositedAt,
                value: reader.uint64Number()
              }

              obj.depositedAt++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.more`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.count`,
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

  export interface MailboxResponseStatusFieldEvent {
    field: '$.status'
    value: MailboxStatus
  }

  export interface MailboxResponseResultsFieldEvent {
    field: '$.results[]'
    index: number
    value: number
  }

  export interface MailboxResponseEnvelopesFieldEvent {
    field: '$.envelopes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxResponseIdsFieldEvent {
    field: '$.ids[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MailboxResponseDepositedAtFieldEvent {
    field: '$.depositedAt[]'
    index: number
    value: number
  }

  export interface MailboxResponseMoreFieldEvent {
    field: '$.more'
    value: boolean
  }

  export interface MailboxResponseCountFieldEvent {
    field: '$.count'
    value: number
  }

  export function encode (obj: Partial<MailboxResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MailboxResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxResponse>): MailboxResponse {
    return decodeMessage(buf, MailboxResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MailboxResponse>): Generator<MailboxResponseStatusFieldEvent | MailboxResponseResultsFieldEvent | MailboxResponseEnvelopesFieldEvent | MailboxResponseIdsFieldEvent | MailboxResponseDepositedAtFieldEvent | MailboxResponseMoreFieldEvent | MailboxResponseCountFieldEvent> {
    return streamMessage(buf, MailboxResponse.codec(), opts)
  }
}
