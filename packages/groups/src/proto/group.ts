import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface GroupEnvelope {
  version: number
  mls: Uint8Array<ArrayBuffer>
  padding: Uint8Array<ArrayBuffer>
}

export namespace GroupEnvelope {
  let _codec: Codec<GroupEnvelope>

  export const codec = (): Codec<GroupEnvelope> => {
    if (_codec == null) {
      _codec = message<GroupEnvelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.mls != null && obj.mls.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.mls)
        }

        if ((obj.padding != null && obj.padding.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.padding)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          mls: uint8ArrayAlloc(0),
          padding: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.mls = reader.bytes()
              break
            }
            case 3: {
              obj.padding = reader.bytes()
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.mls`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.padding`,
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

  export interface GroupEnvelopeVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface GroupEnvelopeMlsFieldEvent {
    field: '$.mls'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupEnvelopePaddingFieldEvent {
    field: '$.padding'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<GroupEnvelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupEnvelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupEnvelope>): GroupEnvelope {
    return decodeMessage(buf, GroupEnvelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupEnvelope>): Generator<GroupEnvelopeVersionFieldEvent | GroupEnvelopeMlsFieldEvent | GroupEnvelopePaddingFieldEvent> {
    return streamMessage(buf, GroupEnvelope.codec(), opts)
  }
}
