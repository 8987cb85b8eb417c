import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
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

export interface SyncFrame {
  kind: number
  group: Uint8Array<ArrayBuffer>
  epoch: number
  parts: Uint8Array<ArrayBuffer>[]
  joined: number
}

export namespace SyncFrame {
  let _codec: Codec<SyncFrame>

  export const codec = (): Codec<SyncFrame> => {
    if (_codec == null) {
      _codec = message<SyncFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.kind != null && obj.kind !== 0)) {
          w.uint32(8)
          w.uint32(obj.kind)
        }

        if ((obj.group != null && obj.group.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.group)
        }

        if ((obj.epoch != null && obj.epoch !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.epoch)
        }

        if (obj.parts != null && obj.parts.length > 0) {
          for (const value of obj.parts) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if ((obj.joined != null && obj.joined !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.joined)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: 0,
          group: uint8ArrayAlloc(0),
          epoch: 0,
          parts: [],
          joined: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = reader.uint32()
              break
            }
            case 2: {
              obj.group = reader.bytes()
              break
            }
            case 3: {
              obj.epoch = reader.uint64Number()
              break
            }
            case 4: {
              if (opts.limits?.parts != null && obj.parts.length === opts.limits.parts) {
                throw new MaxLengthError('Decode error - repeated field "parts" had too many elements')
              }

              obj.parts.push(reader.bytes())
              break
            }
            case 5: {
              obj.joined = reader.uint64Number()
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
          parts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.kind`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.group`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              if (opts.limits?.parts != null && obj.parts === opts.limits.parts) {
                throw new MaxLengthError('Streaming decode error - repeated field "parts" had too many elements')
              }

              yield {
                field: `${prefix}.parts[]`,
                index: obj.parts,
                value: reader.bytes()
              }

              obj.parts++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.joined`,
                value: reader.uint64Number()
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

  export interface SyncFrameKindFieldEvent {
    field: '$.kind'
    value: number
  }

  export interface SyncFrameGroupFieldEvent {
    field: '$.group'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncFrameEpochFieldEvent {
    field: '$.epoch'
    value: number
  }

  export interface SyncFramePartsFieldEvent {
    field: '$.parts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncFrameJoinedFieldEvent {
    field: '$.joined'
    value: number
  }

  export function encode (obj: Partial<SyncFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncFrame>): SyncFrame {
    return decodeMessage(buf, SyncFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncFrame>): Generator<SyncFrameKindFieldEvent | SyncFrameGroupFieldEvent | SyncFrameEpochFieldEvent | SyncFramePartsFieldEvent | SyncFrameJoinedFieldEvent> {
    return streamMessage(buf, SyncFrame.codec(), opts)
  }
}

export interface SyncRecord {
  id: Uint8Array<ArrayBuffer>
  sender: string
  ts: number
  text: string
  epoch: number
  signature: Uint8Array<ArrayBuffer>
  generation?: number
}

export namespace SyncRecord {
  let _codec: Codec<SyncRecord>

  export const codec = (): Codec<SyncRecord> => {
    if (_codec == null) {
      _codec = message<SyncRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if ((obj.sender != null && obj.sender !== '')) {
          w.uint32(18)
          w.string(obj.sender)
        }

        if ((obj.ts != null && obj.ts !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.ts)
        }

        if ((obj.text != null && obj.text !== '')) {
          w.uint32(34)
          w.string(obj.text)
        }

        if ((obj.epoch != null && obj.epoch !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.epoch)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.signature)
        }

        if (obj.generation != null) {
          w.uint32(56)
          w.uint32(obj.generation)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          sender: '',
          ts: 0,
          text: '',
          epoch: 0,
          signature: uint8ArrayAlloc(0)
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
              obj.sender = reader.string()
              break
            }
            case 3: {
              obj.ts = reader.uint64Number()
              break
            }
            case 4: {
              obj.text = reader.string()
              break
            }
            case 5: {
              obj.epoch = reader.uint64Number()
              break
            }
            case 6: {
              obj.signature = reader.bytes()
              break
            }
            case 7: {
              obj.generation = reader.uint32()
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
                field: `${prefix}.sender`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.ts`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.text`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.epoch`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.generation`,
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

  export interface SyncRecordIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncRecordSenderFieldEvent {
    field: '$.sender'
    value: string
  }

  export interface SyncRecordTsFieldEvent {
    field: '$.ts'
    value: number
  }

  export interface SyncRecordTextFieldEvent {
    field: '$.text'
    value: string
  }

  export interface SyncRecordEpochFieldEvent {
    field: '$.epoch'
    value: number
  }

  export interface SyncRecordSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SyncRecordGenerationFieldEvent {
    field: '$.generation'
    value: number
  }

  export function encode (obj: Partial<SyncRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SyncRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRecord>): SyncRecord {
    return decodeMessage(buf, SyncRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SyncRecord>): Generator<SyncRecordIdFieldEvent | SyncRecordSenderFieldEvent | SyncRecordTsFieldEvent | SyncRecordTextFieldEvent | SyncRecordEpochFieldEvent | SyncRecordSignatureFieldEvent | SyncRecordGenerationFieldEvent> {
    return streamMessage(buf, SyncRecord.codec(), opts)
  }
}

export interface RemovalCutoffs {
  from: number
  span: number
  devices: string[]
  generations: number[]
}

export namespace RemovalCutoffs {
  let _codec: Codec<RemovalCutoffs>

  export const codec = (): Codec<RemovalCutoffs> => {
    if (_codec == null) {
      _codec = message<RemovalCutoffs>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.from != null && obj.from !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.from)
        }

        if ((obj.span != null && obj.span !== 0)) {
          w.uint32(16)
          w.uint32(obj.span)
        }

        if (obj.devices != null && obj.devices.length > 0) {
          for (const value of obj.devices) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.generations != null && obj.generations.length > 0) {
          for (const value of obj.generations) {
            w.uint32(32)
            w.sint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          from: 0,
          span: 0,
          devices: [],
          generations: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.from = reader.uint64Number()
              break
            }
            case 2: {
              obj.span = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.devices != null && obj.devices.length === opts.limits.devices) {
                throw new MaxLengthError('Decode error - repeated field "devices" had too many elements')
              }

              obj.devices.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.generations != null && obj.generations.length === opts.limits.generations) {
                throw new MaxLengthError('Decode error - repeated field "generations" had too many elements')
              }

              obj.generations.push(reader.sint32())
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
          devices: 0,
          generations: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.from`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.span`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.devices != null && obj.devices === opts.limits.devices) {
                throw new MaxLengthError('Streaming decode error - repeated field "devices" had too many elements')
              }

              yield {
                field: `${prefix}.devices[]`,
                index: obj.devices,
                value: reader.string()
              }

              obj.devices++

              break
            }
            case 4: {
              if (opts.limits?.generations != null && obj.generations === opts.limits.generations) {
                throw new MaxLengthError('Streaming decode error - repeated field "generations" had too many elements')
              }

              yield {
                field: `${prefix}.generations[]`,
                index: obj.generations,
                value: reader.sint32()
              }

              obj.generations++

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

  export interface RemovalCutoffsFromFieldEvent {
    field: '$.from'
    value: number
  }

  export interface RemovalCutoffsSpanFieldEvent {
    field: '$.span'
    value: number
  }

  export interface RemovalCutoffsDevicesFieldEvent {
    field: '$.devices[]'
    index: number
    value: string
  }

  export interface RemovalCutoffsGenerationsFieldEvent {
    field: '$.generations[]'
    index: number
    value: number
  }

  export function encode (obj: Partial<RemovalCutoffs>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RemovalCutoffs.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RemovalCutoffs>): RemovalCutoffs {
    return decodeMessage(buf, RemovalCutoffs.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RemovalCutoffs>): Generator<RemovalCutoffsFromFieldEvent | RemovalCutoffsSpanFieldEvent | RemovalCutoffsDevicesFieldEvent | RemovalCutoffsGenerationsFieldEvent> {
    return streamMessage(buf, RemovalCutoffs.codec(), opts)
  }
}

export interface GroupInvite {
  name: string
  topicSecret: Uint8Array<ArrayBuffer>
  welcome: Uint8Array<ArrayBuffer>
  keyPackageId: Uint8Array<ArrayBuffer>
}

export namespace GroupInvite {
  let _codec: Codec<GroupInvite>

  export const codec = (): Codec<GroupInvite> => {
    if (_codec == null) {
      _codec = message<GroupInvite>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.topicSecret != null && obj.topicSecret.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.topicSecret)
        }

        if ((obj.welcome != null && obj.welcome.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.welcome)
        }

        if ((obj.keyPackageId != null && obj.keyPackageId.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.keyPackageId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          topicSecret: uint8ArrayAlloc(0),
          welcome: uint8ArrayAlloc(0),
          keyPackageId: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.topicSecret = reader.bytes()
              break
            }
            case 3: {
              obj.welcome = reader.bytes()
              break
            }
            case 4: {
              obj.keyPackageId = reader.bytes()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.topicSecret`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.welcome`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.keyPackageId`,
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

  export interface GroupInviteNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface GroupInviteTopicSecretFieldEvent {
    field: '$.topicSecret'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupInviteWelcomeFieldEvent {
    field: '$.welcome'
    value: Uint8Array<ArrayBuffer>
  }

  export interface GroupInviteKeyPackageIdFieldEvent {
    field: '$.keyPackageId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<GroupInvite>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupInvite.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupInvite>): GroupInvite {
    return decodeMessage(buf, GroupInvite.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupInvite>): Generator<GroupInviteNameFieldEvent | GroupInviteTopicSecretFieldEvent | GroupInviteWelcomeFieldEvent | GroupInviteKeyPackageIdFieldEvent> {
    return streamMessage(buf, GroupInvite.codec(), opts)
  }
}
