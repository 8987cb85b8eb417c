import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface LinkCode {
  version: number
  peerId: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  secret: Uint8Array<ArrayBuffer>
  expires: bigint
}

export namespace LinkCode {
  let _codec: Codec<LinkCode>

  export const codec = (): Codec<LinkCode> => {
    if (_codec == null) {
      _codec = message<LinkCode>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.peerId)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if ((obj.secret != null && obj.secret.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.secret)
        }

        if ((obj.expires != null && obj.expires !== 0n)) {
          w.uint32(40)
          w.uint64(obj.expires)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          peerId: uint8ArrayAlloc(0),
          addrs: [],
          secret: uint8ArrayAlloc(0),
          expires: 0n
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
              obj.peerId = reader.bytes()
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 4: {
              obj.secret = reader.bytes()
              break
            }
            case 5: {
              obj.expires = reader.uint64()
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
          addrs: 0
        }

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
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.secret`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64()
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

  export interface LinkCodeVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface LinkCodePeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkCodeAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkCodeSecretFieldEvent {
    field: '$.secret'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkCodeExpiresFieldEvent {
    field: '$.expires'
    value: bigint
  }

  export function encode (obj: Partial<LinkCode>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LinkCode.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkCode>): LinkCode {
    return decodeMessage(buf, LinkCode.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkCode>): Generator<LinkCodeVersionFieldEvent | LinkCodePeerIdFieldEvent | LinkCodeAddrsFieldEvent | LinkCodeSecretFieldEvent | LinkCodeExpiresFieldEvent> {
    return streamMessage(buf, LinkCode.codec(), opts)
  }
}

export interface LinkRequest {
  proof: Uint8Array<ArrayBuffer>
  name: string
}

export namespace LinkRequest {
  let _codec: Codec<LinkRequest>

  export const codec = (): Codec<LinkRequest> => {
    if (_codec == null) {
      _codec = message<LinkRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.proof != null && obj.proof.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.proof)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          proof: uint8ArrayAlloc(0),
          name: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.proof = reader.bytes()
              break
            }
            case 2: {
              obj.name = reader.string()
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
                field: `${prefix}.proof`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
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

  export interface LinkRequestProofFieldEvent {
    field: '$.proof'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkRequestNameFieldEvent {
    field: '$.name'
    value: string
  }

  export function encode (obj: Partial<LinkRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LinkRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkRequest>): LinkRequest {
    return decodeMessage(buf, LinkRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkRequest>): Generator<LinkRequestProofFieldEvent | LinkRequestNameFieldEvent> {
    return streamMessage(buf, LinkRequest.codec(), opts)
  }
}

export interface LinkResponse {
  status: number
  reason: string
  certificate: Uint8Array<ArrayBuffer>
  deviceList: Uint8Array<ArrayBuffer>
  name: string
  contacts: Uint8Array<ArrayBuffer>[]
}

export namespace LinkResponse {
  let _codec: Codec<LinkResponse>

  export const codec = (): Codec<LinkResponse> => {
    if (_codec == null) {
      _codec = message<LinkResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.status != null && obj.status !== 0)) {
          w.uint32(8)
          w.uint32(obj.status)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.certificate != null && obj.certificate.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.certificate)
        }

        if ((obj.deviceList != null && obj.deviceList.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.deviceList)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(42)
          w.string(obj.name)
        }

        if (obj.contacts != null && obj.contacts.length > 0) {
          for (const value of obj.contacts) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: 0,
          reason: '',
          certificate: uint8ArrayAlloc(0),
          deviceList: uint8ArrayAlloc(0),
          name: '',
          contacts: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = reader.uint32()
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.certificate = reader.bytes()
              break
            }
            case 4: {
              obj.deviceList = reader.bytes()
              break
            }
            case 5: {
              obj.name = reader.string()
              break
            }
            case 6: {
              if (opts.limits?.contacts != null && obj.contacts.length === opts.limits.contacts) {
                throw new MaxLengthError('Decode error - repeated field "contacts" had too many elements')
              }

              obj.contacts.push(reader.bytes())
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
          contacts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.deviceList`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 6: {
              if (opts.limits?.contacts != null && obj.contacts === opts.limits.contacts) {
                throw new MaxLengthError('Streaming decode error - repeated field "contacts" had too many elements')
              }

              yield {
                field: `${prefix}.contacts[]`,
                index: obj.contacts,
                value: reader.bytes()
              }

              obj.contacts++

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

  export interface LinkResponseStatusFieldEvent {
    field: '$.status'
    value: number
  }

  export interface LinkResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface LinkResponseCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkResponseDeviceListFieldEvent {
    field: '$.deviceList'
    value: Uint8Array<ArrayBuffer>
  }

  export interface LinkResponseNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface LinkResponseContactsFieldEvent {
    field: '$.contacts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<LinkResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LinkResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkResponse>): LinkResponse {
    return decodeMessage(buf, LinkResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkResponse>): Generator<LinkResponseStatusFieldEvent | LinkResponseReasonFieldEvent | LinkResponseCertificateFieldEvent | LinkResponseDeviceListFieldEvent | LinkResponseNameFieldEvent | LinkResponseContactsFieldEvent> {
    return streamMessage(buf, LinkResponse.codec(), opts)
  }
}

export interface LinkContact {
  peerId: string
  name: string
  addrs: string[]
  identity: string
  verified: boolean
  addedAt: bigint
  deviceList: Uint8Array<ArrayBuffer>
}

export namespace LinkContact {
  let _codec: Codec<LinkContact>

  export const codec = (): Codec<LinkContact> => {
    if (_codec == null) {
      _codec = message<LinkContact>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId !== '')) {
          w.uint32(10)
          w.string(obj.peerId)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.identity != null && obj.identity !== '')) {
          w.uint32(34)
          w.string(obj.identity)
        }

        if ((obj.verified != null && obj.verified !== false)) {
          w.uint32(40)
          w.bool(obj.verified)
        }

        if ((obj.addedAt != null && obj.addedAt !== 0n)) {
          w.uint32(48)
          w.uint64(obj.addedAt)
        }

        if ((obj.deviceList != null && obj.deviceList.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.deviceList)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: '',
          name: '',
          addrs: [],
          identity: '',
          verified: false,
          addedAt: 0n,
          deviceList: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.string()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 4: {
              obj.identity = reader.string()
              break
            }
            case 5: {
              obj.verified = reader.bool()
              break
            }
            case 6: {
              obj.addedAt = reader.uint64()
              break
            }
            case 7: {
              obj.deviceList = reader.bytes()
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
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.identity`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.verified`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.addedAt`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.deviceList`,
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

  export interface LinkContactPeerIdFieldEvent {
    field: '$.peerId'
    value: string
  }

  export interface LinkContactNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface LinkContactAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface LinkContactIdentityFieldEvent {
    field: '$.identity'
    value: string
  }

  export interface LinkContactVerifiedFieldEvent {
    field: '$.verified'
    value: boolean
  }

  export interface LinkContactAddedAtFieldEvent {
    field: '$.addedAt'
    value: bigint
  }

  export interface LinkContactDeviceListFieldEvent {
    field: '$.deviceList'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<LinkContact>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LinkContact.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkContact>): LinkContact {
    return decodeMessage(buf, LinkContact.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LinkContact>): Generator<LinkContactPeerIdFieldEvent | LinkContactNameFieldEvent | LinkContactAddrsFieldEvent | LinkContactIdentityFieldEvent | LinkContactVerifiedFieldEvent | LinkContactAddedAtFieldEvent | LinkContactDeviceListFieldEvent> {
    return streamMessage(buf, LinkContact.codec(), opts)
  }
}
