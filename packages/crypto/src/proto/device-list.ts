import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface DeviceList {
  version: number
  identityKey: Uint8Array<ArrayBuffer>
  seq: bigint
  issuedAt: bigint
  devices: Uint8Array<ArrayBuffer>[]
  revoked: Uint8Array<ArrayBuffer>[]
}

export namespace DeviceList {
  let _codec: Codec<DeviceList>

  export const codec = (): Codec<DeviceList> => {
    if (_codec == null) {
      _codec = message<DeviceList>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.identityKey != null && obj.identityKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.identityKey)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(24)
          w.uint64(obj.seq)
        }

        if ((obj.issuedAt != null && obj.issuedAt !== 0n)) {
          w.uint32(32)
          w.uint64(obj.issuedAt)
        }

        if (obj.devices != null && obj.devices.length > 0) {
          for (const value of obj.devices) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (obj.revoked != null && obj.revoked.length > 0) {
          for (const value of obj.revoked) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          identityKey: uint8ArrayAlloc(0),
          seq: 0n,
          issuedAt: 0n,
          devices: [],
          revoked: []
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
              obj.identityKey = reader.bytes()
              break
            }
            case 3: {
              obj.seq = reader.uint64()
              break
            }
            case 4: {
              obj.issuedAt = reader.uint64()
              break
            }
            case 5: {
              if (opts.limits?.devices != null && obj.devices.length === opts.limits.devices) {
                throw new MaxLengthError('Decode error - repeated field "devices" had too many elements')
              }

              obj.devices.push(reader.bytes())
              break
            }
            case 6: {
              if (opts.limits?.revoked != null && obj.revoked.length === opts.limits.revoked) {
                throw new MaxLengthError('Decode error - repeated field "revoked" had too many elements')
              }

              obj.revoked.push(reader.bytes())
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
          revoked: 0
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
                field: `${prefix}.identityKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.issuedAt`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              if (opts.limits?.devices != null && obj.devices === opts.limits.devices) {
                throw new MaxLengthError('Streaming decode error - repeated field "devices" had too many elements')
              }

              yield {
                field: `${prefix}.devices[]`,
                index: obj.devices,
                value: reader.bytes()
              }

              obj.devices++

              break
            }
            case 6: {
              if (opts.limits?.revoked != null && obj.revoked === opts.limits.revoked) {
                throw new MaxLengthError('Streaming decode error - repeated field "revoked" had too many elements')
              }

              yield {
                field: `${prefix}.revoked[]`,
                index: obj.revoked,
                value: reader.bytes()
              }

              obj.revoked++

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

  export interface DeviceListVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface DeviceListIdentityKeyFieldEvent {
    field: '$.identityKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface DeviceListSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface DeviceListIssuedAtFieldEvent {
    field: '$.issuedAt'
    value: bigint
  }

  export interface DeviceListDevicesFieldEvent {
    field: '$.devices[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface DeviceListRevokedFieldEvent {
    field: '$.revoked[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<DeviceList>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, DeviceList.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeviceList>): DeviceList {
    return decodeMessage(buf, DeviceList.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<DeviceList>): Generator<DeviceListVersionFieldEvent | DeviceListIdentityKeyFieldEvent | DeviceListSeqFieldEvent | DeviceListIssuedAtFieldEvent | DeviceListDevicesFieldEvent | DeviceListRevokedFieldEvent> {
    return streamMessage(buf, DeviceList.codec(), opts)
  }
}

export interface SignedDeviceList {
  list: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedDeviceList {
  let _codec: Codec<SignedDeviceList>

  export const codec = (): Codec<SignedDeviceList> => {
    if (_codec == null) {
      _codec = message<SignedDeviceList>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.list != null && obj.list.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.list)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          list: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.list = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.list`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedDeviceListListFieldEvent {
    field: '$.list'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedDeviceListSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedDeviceList>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedDeviceList.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedDeviceList>): SignedDeviceList {
    return decodeMessage(buf, SignedDeviceList.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedDeviceList>): Generator<SignedDeviceListListFieldEvent | SignedDeviceListSignatureFieldEvent> {
    return streamMessage(buf, SignedDeviceList.codec(), opts)
  }
}
