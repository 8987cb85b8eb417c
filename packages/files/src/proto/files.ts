import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum FileKind {
  UNKNOWN_KIND = 'UNKNOWN_KIND',
  HAVE = 'HAVE',
  LEAVES = 'LEAVES',
  CHUNKS = 'CHUNKS'
}

enum __FileKindValues {
  UNKNOWN_KIND = 0,
  HAVE = 1,
  LEAVES = 2,
  CHUNKS = 3
}

export namespace FileKind {
  export const codec = (): Codec<FileKind> => {
    return enumeration<FileKind>(__FileKindValues)
  }
}

export interface FileRequest {
  root: Uint8Array<ArrayBuffer>
  kind: FileKind
  start: number
  count: number
}

export namespace FileRequest {
  let _codec: Codec<FileRequest>

  export const codec = (): Codec<FileRequest> => {
    if (_codec == null) {
      _codec = message<FileRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.root != null && obj.root.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.root)
        }

        if (obj.kind != null && __FileKindValues[obj.kind] !== 0) {
          w.uint32(16)
          FileKind.codec().encode(obj.kind, w)
        }

        if ((obj.start != null && obj.start !== 0)) {
          w.uint32(24)
          w.uint32(obj.start)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(32)
          w.uint32(obj.count)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          root: uint8ArrayAlloc(0),
          kind: FileKind.UNKNOWN_KIND,
          start: 0,
          count: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.root = reader.bytes()
              break
            }
            case 2: {
              obj.kind = FileKind.codec().decode(reader)
              break
            }
            case 3: {
              obj.start = reader.uint32()
              break
            }
            case 4: {
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
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.root`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: FileKind.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.start`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
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

  export interface FileRequestRootFieldEvent {
    field: '$.root'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileRequestKindFieldEvent {
    field: '$.kind'
    value: FileKind
  }

  export interface FileRequestStartFieldEvent {
    field: '$.start'
    value: number
  }

  export interface FileRequestCountFieldEvent {
    field: '$.count'
    value: number
  }

  export function encode (obj: Partial<FileRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileRequest>): FileRequest {
    return decodeMessage(buf, FileRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileRequest>): Generator<FileRequestRootFieldEvent | FileRequestKindFieldEvent | FileRequestStartFieldEvent | FileRequestCountFieldEvent> {
    return streamMessage(buf, FileRequest.codec(), opts)
  }
}

export enum FileStatus {
  OK = 'OK',
  NOT_FOUND = 'NOT_FOUND',
  REFUSED = 'REFUSED',
  MISSING = 'MISSING',
  BUSY = 'BUSY',
  INVALID = 'INVALID'
}

enum __FileStatusValues {
  OK = 0,
  NOT_FOUND = 1,
  REFUSED = 2,
  MISSING = 3,
  BUSY = 4,
  INVALID = 5
}

export namespace FileStatus {
  export const codec = (): Codec<FileStatus> => {
    return enumeration<FileStatus>(__FileStatusValues)
  }
}

export interface FileResponse {
  status: FileStatus
  chunks: number
  complete: boolean
  have: Uint8Array<ArrayBuffer>
}

export namespace FileResponse {
  let _codec: Codec<FileResponse>

  export const codec = (): Codec<FileResponse> => {
    if (_codec == null) {
      _codec = message<FileResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __FileStatusValues[obj.status] !== 0) {
          w.uint32(8)
          FileStatus.codec().encode(obj.status, w)
        }

        if ((obj.chunks != null && obj.chunks !== 0)) {
          w.uint32(16)
          w.uint32(obj.chunks)
        }

        if ((obj.complete != null && obj.complete !== false)) {
          w.uint32(24)
          w.bool(obj.complete)
        }

        if ((obj.have != null && obj.have.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.have)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: FileStatus.OK,
          chunks: 0,
          complete: false,
          have: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = FileStatus.codec().decode(reader)
              break
            }
            case 2: {
              obj.chunks = reader.uint32()
              break
            }
            case 3: {
              obj.complete = reader.bool()
              break
            }
            case 4: {
              obj.have = reader.bytes()
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
                field: `${prefix}.status`,
                value: FileStatus.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.chunks`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.complete`,
                value: reader.bool()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.have`,
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

  export interface FileResponseStatusFieldEvent {
    field: '$.status'
    value: FileStatus
  }

  export interface FileResponseChunksFieldEvent {
    field: '$.chunks'
    value: number
  }

  export interface FileResponseCompleteFieldEvent {
    field: '$.complete'
    value: boolean
  }

  export interface FileResponseHaveFieldEvent {
    field: '$.have'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<FileResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileResponse>): FileResponse {
    return decodeMessage(buf, FileResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileResponse>): Generator<FileResponseStatusFieldEvent | FileResponseChunksFieldEvent | FileResponseCompleteFieldEvent | FileResponseHaveFieldEvent> {
    return streamMessage(buf, FileResponse.codec(), opts)
  }
}
