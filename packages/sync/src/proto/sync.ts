import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface SyncMessage {
  boundTs: number[]
  boundId: Uint8Array<ArrayBuffer>[]
  mode: number[]
  payload: Uint8Array<ArrayBuffer>[]
  version: number
}

export namespace SyncMessage {
  let _codec: Codec<SyncMessage>

  export const codec = (): Codec<SyncMessage> => {
    if (_codec == null) {
      _codec = message<SyncMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.boundTs != null && obj.boundTs.length > 0) {
          for (const value of obj.boundTs) {
            w.uint32(8)
            w.uint64Number(value)
          }
        }

        if (obj.boundId != null && obj.boundId.length > 0) {
          for (const value of obj.boundId) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (obj.mode != null && obj.mode.length > 0) {
          for (const value of obj.mode) {
            w.uint32(24)
            w.uint32(value)
          }
        }

        if (obj.payload != null && obj.payload.length > 0) {
          for (const value of obj.payload) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(40)
          w.uint32(obj.version)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          boundTs: [],
          boundId: [],
          mode: [],
          payload: [],
          version: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.boundTs != null && obj.boundTs.length === opts.limits.boundTs) {
                throw new MaxLengthError('Decode error - repeated field "boundTs" had too many elements')
              }

              obj.boundTs.push(reader.uint64Number())
              break
            }
            case 2: {
              if (opts.limits?.boundId != null && obj.boundId.length === opts.limits.boundId) {
                throw new MaxLengthError('Decode error - repeated field "boundId" had too many elements')
              }

              obj.boundId.push(reader.bytes())
              break
            }
            case 3: {
              if (opts.limits?.mode != null && obj.mode.length === opts.limits.mode) {
                throw new MaxLengthError('Decode error - repeated field "mode" had too many elements')
              }

              obj.mode.push(reader.uint32())
              break
            }
            case 4: {
              if (opts.limits?.payload != null && obj.payload.length === opts.limits.payload) {
                throw new MaxLengthError('Decode error - repeated field "payload" had too many elements')
              }

              obj.payload.push(reader.bytes())
              break
            }
            case 5: {
              obj.version = reader.uint32()
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
          boundTs: 0,
          boundId: 0,
          mode: 0,
          payload: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.boundTs != null && obj.boundTs === opts.limits.boundTs) {
                throw new MaxLengthError('Streaming decode error - repeated field "boundTs" had too many elements')
              }

              yield {
                field: `${prefix}.boundTs[]`,
                index: obj.boundTs,
                value: reader.uint64Number()
              }

              obj.boundTs++

              break
            }
            case 2: {
              if (opts.limits?.boundId != null && obj.boundId === opts.limits.boundId) {
                throw new MaxLengthError('Streaming decode error - repeated field "boundId" had too many elements')
              }

              yield {
                field: `${prefix}.boundId[]`,
                index: obj.boundId,
                value: reader.bytes()
              }

              obj.boundId++

              break
            }
            case 3: {
              if (opts.limits?.mode != null && obj.mode === opts.limits.mode) {
                throw new MaxLengthError('Streaming decode error - repeated field "mode" had too many elements')
              }

              yield {
                field: `${prefix}.mode[]`,
                index: obj.mode,
                value: reader.uint32()
              }

              obj.mode++

              break
            }
            case 4: {
              if (opts.limits?.payload != null && obj.payload === opts.limits.payload) {
                throw new MaxLengthError('Streaming decode error - repeated field "payload" had too many elements')
              }

              yield {
                field: `${prefix}.payload[]`,
                index: obj.payload,
                value: reader.bytes()
              }

              obj.payload++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.version`,
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

  export interface SyncMessageBoundTsFieldEvent {
    field: '$.boundTs[]'
    index: number
    value: number
  }

  export interface SyncMessageBoundIdFieldEvent {
    field: '$.boundId[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncMessageModeFieldEvent {
    field: '$.mode[]'
    index: number
    value: number
  }

  export interface SyncMessagePayloadFieldEvent {
    field: '$.payload[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncMessageVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export function encode (obj: Partial<SyncMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncMessage>): SyncMessage {
    return decodeMessage(buf, SyncMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncMessage>): Generator<SyncMessageBoundTsFieldEvent | SyncMessageBoundIdFieldEvent | SyncMessageModeFieldEvent | SyncMessagePayloadFieldEvent | SyncMessageVersionFieldEvent> {
    return streamMessage(buf, SyncMessage.codec(), opts)
  }
}
