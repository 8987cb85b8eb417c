import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface PresenceRecord {
  version: number
  identity?: Uint8Array<ArrayBuffer>
  seq: bigint
  certificate?: Uint8Array<ArrayBuffer>
  device?: Uint8Array<ArrayBuffer>
  addrs: Uint8Array<ArrayBuffer>[]
  relays: Uint8Array<ArrayBuffer>[]
  mailboxes: Uint8Array<ArrayBuffer>[]
  prekeys?: Uint8Array<ArrayBuffer>
  relay: boolean
  signature?: Uint8Array<ArrayBuffer>
  deviceList?: Uint8Array<ArrayBuffer>
}

export namespace PresenceRecord {
  let _codec: Codec<PresenceRecord>

  export const codec = (): Codec<PresenceRecord> => {
    if (_codec == null) {
      _codec = message<PresenceRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.identity != null) {
          w.uint32(18)
          w.bytes(obj.identity)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(24)
          w.uint64(obj.seq)
        }

        if (obj.certificate != null) {
          w.uint32(34)
          w.bytes(obj.certificate)
        }

        if (obj.device != null) {
          w.uint32(42)
          w.bytes(obj.device)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (obj.relays != null && obj.relays.length > 0) {
          for (const value of obj.relays) {
            w.uint32(58)
            w.bytes(value)
          }
        }

        if (obj.mailboxes != null && obj.mailboxes.length > 0) {
          for (const value of obj.mailboxes) {
            w.uint32(66)
            w.bytes(value)
          }
        }

        if (obj.prekeys != null) {
          w.uint32(74)
          w.bytes(obj.prekeys)
        }

        if ((obj.relay != null && obj.relay !== false)) {
          w.uint32(80)
          w.bool(obj.relay)
        }

        if (obj.signature != null) {
          w.uint32(90)
          w.bytes(obj.signature)
        }

        if (obj.deviceList != null) {
          w.uint32(98)
          w.bytes(obj.deviceList)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          seq: 0n,
          addrs: [],
          relays: [],
          mailboxes: [],
          relay: false
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
              obj.identity = reader.bytes()
              break
            }
            case 3: {
              obj.seq = reader.uint64()
              break
            }
            case 4: {
              obj.certificate = reader.bytes()
              break
            }
            case 5: {
              obj.device = reader.bytes()
              break
            }
            case 6: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 7: {
              if (opts.limits?.relays != null && obj.relays.length === opts.limits.relays) {
                throw new MaxLengthError('Decode error - repeated field "relays" had too many elements')
              }

              obj.relays.push(reader.bytes())
              break
            }
            case 8: {
              if (opts.limits?.mailboxes != null && obj.mailboxes.length === opts.limits.mailboxes) {
                throw new MaxLengthError('Decode error - repeated field "mailboxes" had too many elements')
              }

              obj.mailboxes.push(reader.bytes())
              break
            }
            case 9: {
              obj.prekeys = reader.bytes()
              break
            }
            case 10: {
              obj.relay = reader.bool()
              break
            }
            case 11: {
              obj.signature = reader.bytes()
              break
            }
            case 12: {
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
          addrs: 0,
          relays: 0,
          mailboxes: 0
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
                field: `${prefix}.identity`,
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
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.device`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
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
            case 7: {
              if (opts.limits?.relays != null && obj.relays === opts.limits.relays) {
                throw new MaxLengthError('Streaming decode error - repeated field "relays" had too many elements')
              }

              yield {
                field: `${prefix}.relays[]`,
                index: obj.relays,
                value: reader.bytes()
              }

              obj.relays++

              break
            }
            case 8: {
              if (opts.limits?.mailboxes != null && obj.mailboxes === opts.limits.mailboxes) {
                throw new MaxLengthError('Streaming decode error - repeated field "mailboxes" had too many elements')
              }

              yield {
                field: `${prefix}.mailboxes[]`,
                index: obj.mailboxes,
                value: reader.bytes()
              }

              obj.mailboxes++

              break
            }
            case 9: {
              yield {
                field: `${prefix}.prekeys`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.relay`,
                value: reader.bool()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 12: {
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

  export interface PresenceRecordVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface PresenceRecordIdentityFieldEvent {
    field: '$.identity'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface PresenceRecordCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordDeviceFieldEvent {
    field: '$.device'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordRelaysFieldEvent {
    field: '$.relays[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordMailboxesFieldEvent {
    field: '$.mailboxes[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordPrekeysFieldEvent {
    field: '$.prekeys'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordRelayFieldEvent {
    field: '$.relay'
    value: boolean
  }

  export interface PresenceRecordSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PresenceRecordDeviceListFieldEvent {
    field: '$.deviceList'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PresenceRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PresenceRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PresenceRecord>): PresenceRecord {
    return decodeMessage(buf, PresenceRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PresenceRecord>): Generator<PresenceRecordVersionFieldEvent | PresenceRecordIdentityFieldEvent | PresenceRecordSeqFieldEvent | PresenceRecordCertificateFieldEvent | PresenceRecordDeviceFieldEvent | PresenceRecordAddrsFieldEvent | PresenceRecordRelaysFieldEvent | PresenceRecordMailboxesFieldEvent | PresenceRecordPrekeysFieldEvent | PresenceRecordRelayFieldEvent | PresenceRecordSignatureFieldEvent | PresenceRecordDeviceListFieldEvent> {
    return streamMessage(buf, PresenceRecord.codec(), opts)
  }
}
