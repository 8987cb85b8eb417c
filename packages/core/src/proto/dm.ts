import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Envelope {
  version: number
  id: Uint8Array<ArrayBuffer>
  recipient: Uint8Array<ArrayBuffer>
  timestamp: bigint
  encryption: number
  body: Uint8Array<ArrayBuffer>
}

export namespace Envelope {
  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.id)
        }

        if ((obj.recipient != null && obj.recipient.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.recipient)
        }

        if ((obj.timestamp != null && obj.timestamp !== 0n)) {
          w.uint32(32)
          w.uint64(obj.timestamp)
        }

        if ((obj.encryption != null && obj.encryption !== 0)) {
          w.uint32(40)
          w.uint32(obj.encryption)
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.body)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          id: uint8ArrayAlloc(0),
          recipient: uint8ArrayAlloc(0),
          timestamp: 0n,
          encryption: 0,
          body: uint8ArrayAlloc(0)
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
              obj.id = reader.bytes()
              break
            }
            case 3: {
              obj.recipient = reader.bytes()
              break
            }
            case 4: {
              obj.timestamp = reader.uint64()
              break
            }
            case 5: {
              obj.encryption = reader.uint32()
              break
            }
            case 6: {
              obj.body = reader.bytes()
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
                field: `${prefix}.id`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.recipient`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.encryption`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.body`,
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

  export interface EnvelopeVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface EnvelopeIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeRecipientFieldEvent {
    field: '$.recipient'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EnvelopeTimestampFieldEvent {
    field: '$.timestamp'
    value: bigint
  }

  export interface EnvelopeEncryptionFieldEvent {
    field: '$.encryption'
    value: number
  }

  export interface EnvelopeBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeVersionFieldEvent | EnvelopeIdFieldEvent | EnvelopeRecipientFieldEvent | EnvelopeTimestampFieldEvent | EnvelopeEncryptionFieldEvent | EnvelopeBodyFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}

export interface SignedMessage {
  sender: Uint8Array<ArrayBuffer>
  message: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedMessage {
  let _codec: Codec<SignedMessage>

  export const codec = (): Codec<SignedMessage> => {
    if (_codec == null) {
      _codec = message<SignedMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sender != null && obj.sender.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.sender)
        }

        if ((obj.message != null && obj.message.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.message)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sender: uint8ArrayAlloc(0),
          message: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sender = reader.bytes()
              break
            }
            case 2: {
              obj.message = reader.bytes()
              break
            }
            case 3: {
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
                field: `${prefix}.sender`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
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

  export interface SignedMessageSenderFieldEvent {
    field: '$.sender'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedMessageMessageFieldEvent {
    field: '$.message'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedMessageSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedMessage>): SignedMessage {
    return decodeMessage(buf, SignedMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedMessage>): Generator<SignedMessageSenderFieldEvent | SignedMessageMessageFieldEvent | SignedMessageSignatureFieldEvent> {
    return streamMessage(buf, SignedMessage.codec(), opts)
  }
}

export enum MessageKind {
  TEXT = 'TEXT',
  INTRO = 'INTRO',
  CONTROL = 'CONTROL',
  FILE = 'FILE'
}

enum __MessageKindValues {
  TEXT = 0,
  INTRO = 1,
  CONTROL = 2,
  FILE = 3
}

export namespace MessageKind {
  export const codec = (): Codec<MessageKind> => {
    return enumeration<MessageKind>(__MessageKindValues)
  }
}

export interface Message {
  kind: MessageKind
  text: string
  inviteToken: Uint8Array<ArrayBuffer>
  name: string
  addrs: Uint8Array<ArrayBuffer>[]
  certificate: Uint8Array<ArrayBuffer>
  topic: string
  payload: Uint8Array<ArrayBuffer>
  file: Uint8Array<ArrayBuffer>
  sentTo: string
}

export namespace Message {
  let _codec: Codec<Message>

  export const codec = (): Codec<Message> => {
    if (_codec == null) {
      _codec = message<Message>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.kind != null && __MessageKindValues[obj.kind] !== 0) {
          w.uint32(8)
          MessageKind.codec().encode(obj.kind, w)
        }

        if ((obj.text != null && obj.text !== '')) {
          w.uint32(18)
          w.string(obj.text)
        }

        if ((obj.inviteToken != null && obj.inviteToken.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.inviteToken)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(34)
          w.string(obj.name)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if ((obj.certificate != null && obj.certificate.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.certificate)
        }

        if ((obj.topic != null && obj.topic !== '')) {
          w.uint32(58)
          w.string(obj.topic)
        }

        if ((obj.payload != null && obj.payload.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.payload)
        }

        if ((obj.file != null && obj.file.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.file)
        }

        if ((obj.sentTo != null && obj.sentTo !== '')) {
          w.uint32(82)
          w.string(obj.sentTo)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          kind: MessageKind.TEXT,
          text: '',
          inviteToken: uint8ArrayAlloc(0),
          name: '',
          addrs: [],
          certificate: uint8ArrayAlloc(0),
          topic: '',
          payload: uint8ArrayAlloc(0),
          file: uint8ArrayAlloc(0),
          sentTo: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.kind = MessageKind.codec().decode(reader)
              break
            }
            case 2: {
              obj.text = reader.string()
              break
            }
            case 3: {
              obj.inviteToken = reader.bytes()
              break
            }
            case 4: {
              obj.name = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 6: {
              obj.certificate = reader.bytes()
              break
            }
            case 7: {
              obj.topic = reader.string()
              break
            }
            case 8: {
              obj.payload = reader.bytes()
              break
            }
            case 9: {
              obj.file = reader.bytes()
              break
            }
            case 10: {
              obj.sentTo = reader.string()
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
                field: `${prefix}.kind`,
                value: MessageKind.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.text`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.inviteToken`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 5: {
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
            case 6: {
              yield {
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.topic`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.payload`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.file`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.sentTo`,
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

  export interface MessageKindFieldEvent {
    field: '$.kind'
    value: MessageKind
  }

  export interface MessageTextFieldEvent {
    field: '$.text'
    value: string
  }

  export interface MessageInviteTokenFieldEvent {
    field: '$.inviteToken'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MessageNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface MessageAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MessageCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MessageTopicFieldEvent {
    field: '$.topic'
    value: string
  }

  export interface MessagePayloadFieldEvent {
    field: '$.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MessageFileFieldEvent {
    field: '$.file'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MessageSentToFieldEvent {
    field: '$.sentTo'
    value: string
  }

  export function encode (obj: Partial<Message>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Message.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Message>): Message {
    return decodeMessage(buf, Message.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Message>): Generator<MessageKindFieldEvent | MessageTextFieldEvent | MessageInviteTokenFieldEvent | MessageNameFieldEvent | MessageAddrsFieldEvent | MessageCertificateFieldEvent | MessageTopicFieldEvent | MessagePayloadFieldEvent | MessageFileFieldEvent | MessageSentToFieldEvent> {
    return streamMessage(buf, Message.codec(), opts)
  }
}

export interface FileOffer {
  root: Uint8Array<ArrayBuffer>
  key: Uint8Array<ArrayBuffer>
  size: number
  name: string
  type: string
}

export namespace FileOffer {
  let _codec: Codec<FileOffer>

  export const codec = (): Codec<FileOffer> => {
    if (_codec == null) {
      _codec = message<FileOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.root != null && obj.root.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.root)
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.key)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.size)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(34)
          w.string(obj.name)
        }

        if ((obj.type != null && obj.type !== '')) {
          w.uint32(42)
          w.string(obj.type)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          root: uint8ArrayAlloc(0),
          key: uint8ArrayAlloc(0),
          size: 0,
          name: '',
          type: ''
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
              obj.key = reader.bytes()
              break
            }
            case 3: {
              obj.size = reader.uint64Number()
              break
            }
            case 4: {
              obj.name = reader.string()
              break
            }
            case 5: {
              obj.type = reader.string()
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
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.type`,
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

  export interface FileOfferRootFieldEvent {
    field: '$.root'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileOfferKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileOfferSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface FileOfferNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface FileOfferTypeFieldEvent {
    field: '$.type'
    value: string
  }

  export function encode (obj: Partial<FileOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileOffer>): FileOffer {
    return decodeMessage(buf, FileOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileOffer>): Generator<FileOfferRootFieldEvent | FileOfferKeyFieldEvent | FileOfferSizeFieldEvent | FileOfferNameFieldEvent | FileOfferTypeFieldEvent> {
    return streamMessage(buf, FileOffer.codec(), opts)
  }
}

export enum AckStatus {
  OK = 'OK',
  DUPLICATE = 'DUPLICATE',
  REFUSED = 'REFUSED',
  INVALID = 'INVALID',
  RESET = 'RESET',
  RETRY = 'RETRY'
}

enum __AckStatusValues {
  OK = 0,
  DUPLICATE = 1,
  REFUSED = 2,
  INVALID = 3,
  RESET = 4,
  RETRY = 5
}

export namespace AckStatus {
  export const codec = (): Codec<AckStatus> => {
    return enumeration<AckStatus>(__AckStatusValues)
  }
}

export interface Ack {
  id: Uint8Array<ArrayBuffer>
  status: AckStatus
}

export namespace Ack {
  let _codec: Codec<Ack>

  export const codec = (): Codec<Ack> => {
    if (_codec == null) {
      _codec = message<Ack>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.id)
        }

        if (obj.status != null && __AckStatusValues[obj.status] !== 0) {
          w.uint32(16)
          AckStatus.codec().encode(obj.status, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: uint8ArrayAlloc(0),
          status: AckStatus.OK
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
              obj.status = AckStatus.codec().decode(reader)
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
                field: `${prefix}.status`,
                value: AckStatus.codec().decode(reader)
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

  export interface AckIdFieldEvent {
    field: '$.id'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AckStatusFieldEvent {
    field: '$.status'
    value: AckStatus
  }

  export function encode (obj: Partial<Ack>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ack.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Ack {
    return decodeMessage(buf, Ack.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Generator<AckIdFieldEvent | AckStatusFieldEvent> {
    return streamMessage(buf, Ack.codec(), opts)
  }
}

export interface Invite {
  version: number
  peerId: Uint8Array<ArrayBuffer>
  name: string
  addrs: Uint8Array<ArrayBuffer>[]
  token: Uint8Array<ArrayBuffer>
  expires: bigint
  certificate: Uint8Array<ArrayBuffer>
  bundle: Uint8Array<ArrayBuffer>
}

export namespace Invite {
  let _codec: Codec<Invite>

  export const codec = (): Codec<Invite> => {
    if (_codec == null) {
      _codec = message<Invite>((obj, w, opts = {}) => {
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

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(26)
          w.string(obj.name)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if ((obj.token != null && obj.token.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.token)
        }

        if ((obj.expires != null && obj.expires !== 0n)) {
          w.uint32(48)
          w.uint64(obj.expires)
        }

        if ((obj.certificate != null && obj.certificate.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.certificate)
        }

        if ((obj.bundle != null && obj.bundle.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.bundle)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          peerId: uint8ArrayAlloc(0),
          name: '',
          addrs: [],
          token: uint8ArrayAlloc(0),
          expires: 0n,
          certificate: uint8ArrayAlloc(0),
          bundle: uint8ArrayAlloc(0)
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
              obj.name = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 5: {
              obj.token = reader.bytes()
              break
            }
            case 6: {
              obj.expires = reader.uint64()
              break
            }
            case 7: {
              obj.certificate = reader.bytes()
              break
            }
            case 8: {
              obj.bundle = reader.bytes()
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
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 4: {
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
            case 5: {
              yield {
                field: `${prefix}.token`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.expires`,
                value: reader.uint64()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.bundle`,
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

  export interface InviteVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface InvitePeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface InviteAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteTokenFieldEvent {
    field: '$.token'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteExpiresFieldEvent {
    field: '$.expires'
    value: bigint
  }

  export interface InviteCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface InviteBundleFieldEvent {
    field: '$.bundle'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Invite>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Invite.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invite>): Invite {
    return decodeMessage(buf, Invite.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Invite>): Generator<InviteVersionFieldEvent | InvitePeerIdFieldEvent | InviteNameFieldEvent | InviteAddrsFieldEvent | InviteTokenFieldEvent | InviteExpiresFieldEvent | InviteCertificateFieldEvent | InviteBundleFieldEvent> {
    return streamMessage(buf, Invite.codec(), opts)
  }
}
