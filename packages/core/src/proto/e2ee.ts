import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface PreKeyBundle {
  certificate: Uint8Array<ArrayBuffer>
  identityDhKey: Uint8Array<ArrayBuffer>
  signedPrekeyId: number
  signedPrekey: Uint8Array<ArrayBuffer>
  signedPrekeySignature: Uint8Array<ArrayBuffer>
  oneTimePrekeyId: number
  oneTimePrekey: Uint8Array<ArrayBuffer>
}

export namespace PreKeyBundle {
  let _codec: Codec<PreKeyBundle>

  export const codec = (): Codec<PreKeyBundle> => {
    if (_codec == null) {
      _codec = message<PreKeyBundle>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.certificate != null && obj.certificate.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.certificate)
        }

        if ((obj.identityDhKey != null && obj.identityDhKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.identityDhKey)
        }

        if ((obj.signedPrekeyId != null && obj.signedPrekeyId !== 0)) {
          w.uint32(24)
          w.uint32(obj.signedPrekeyId)
        }

        if ((obj.signedPrekey != null && obj.signedPrekey.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.signedPrekey)
        }

        if ((obj.signedPrekeySignature != null && obj.signedPrekeySignature.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.signedPrekeySignature)
        }

        if ((obj.oneTimePrekeyId != null && obj.oneTimePrekeyId !== 0)) {
          w.uint32(48)
          w.uint32(obj.oneTimePrekeyId)
        }

        if ((obj.oneTimePrekey != null && obj.oneTimePrekey.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.oneTimePrekey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          certificate: uint8ArrayAlloc(0),
          identityDhKey: uint8ArrayAlloc(0),
          signedPrekeyId: 0,
          signedPrekey: uint8ArrayAlloc(0),
          signedPrekeySignature: uint8ArrayAlloc(0),
          oneTimePrekeyId: 0,
          oneTimePrekey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.certificate = reader.bytes()
              break
            }
            case 2: {
              obj.identityDhKey = reader.bytes()
              break
            }
            case 3: {
              obj.signedPrekeyId = reader.uint32()
              break
            }
            case 4: {
              obj.signedPrekey = reader.bytes()
              break
            }
            case 5: {
              obj.signedPrekeySignature = reader.bytes()
              break
            }
            case 6: {
              obj.oneTimePrekeyId = reader.uint32()
              break
            }
            case 7: {
              obj.oneTimePrekey = reader.bytes()
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
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.identityDhKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.signedPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.signedPrekey`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.signedPrekeySignature`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.oneTimePrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.oneTimePrekey`,
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

  export interface PreKeyBundleCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyBundleIdentityDhKeyFieldEvent {
    field: '$.identityDhKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyBundleSignedPrekeyIdFieldEvent {
    field: '$.signedPrekeyId'
    value: number
  }

  export interface PreKeyBundleSignedPrekeyFieldEvent {
    field: '$.signedPrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyBundleSignedPrekeySignatureFieldEvent {
    field: '$.signedPrekeySignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyBundleOneTimePrekeyIdFieldEvent {
    field: '$.oneTimePrekeyId'
    value: number
  }

  export interface PreKeyBundleOneTimePrekeyFieldEvent {
    field: '$.oneTimePrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PreKeyBundle>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PreKeyBundle.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PreKeyBundle>): PreKeyBundle {
    return decodeMessage(buf, PreKeyBundle.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PreKeyBundle>): Generator<PreKeyBundleCertificateFieldEvent | PreKeyBundleIdentityDhKeyFieldEvent | PreKeyBundleSignedPrekeyIdFieldEvent | PreKeyBundleSignedPrekeyFieldEvent | PreKeyBundleSignedPrekeySignatureFieldEvent | PreKeyBundleOneTimePrekeyIdFieldEvent | PreKeyBundleOneTimePrekeyFieldEvent> {
    return streamMessage(buf, PreKeyBundle.codec(), opts)
  }
}

export interface SealedContent {
  certificate: Uint8Array<ArrayBuffer>
  identityDhKey: Uint8Array<ArrayBuffer>
  identityDhSignature: Uint8Array<ArrayBuffer>
  prekeyEphemeral: Uint8Array<ArrayBuffer>
  prekeySignedId: number
  prekeyOneTimeId: number
  header: Uint8Array<ArrayBuffer>
  ciphertext: Uint8Array<ArrayBuffer>
  padding: Uint8Array<ArrayBuffer>
}

export namespace SealedContent {
  let _codec: Codec<SealedContent>

  export const codec = (): Codec<SealedContent> => {
    if (_codec == null) {
      _codec = message<SealedContent>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.certificate != null && obj.certificate.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.certificate)
        }

        if ((obj.identityDhKey != null && obj.identityDhKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.identityDhKey)
        }

        if ((obj.identityDhSignature != null && obj.identityDhSignature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.identityDhSignature)
        }

        if ((obj.prekeyEphemeral != null && obj.prekeyEphemeral.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.prekeyEphemeral)
        }

        if ((obj.prekeySignedId != null && obj.prekeySignedId !== 0)) {
          w.uint32(64)
          w.uint32(obj.prekeySignedId)
        }

        if ((obj.prekeyOneTimeId != null && obj.prekeyOneTimeId !== 0)) {
          w.uint32(72)
          w.uint32(obj.prekeyOneTimeId)
        }

        if ((obj.header != null && obj.header.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.header)
        }

        if ((obj.ciphertext != null && obj.ciphertext.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.ciphertext)
        }

        if ((obj.padding != null && obj.padding.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.padding)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          certificate: uint8ArrayAlloc(0),
          identityDhKey: uint8ArrayAlloc(0),
          identityDhSignature: uint8ArrayAlloc(0),
          prekeyEphemeral: uint8ArrayAlloc(0),
          prekeySignedId: 0,
          prekeyOneTimeId: 0,
          header: uint8ArrayAlloc(0),
          ciphertext: uint8ArrayAlloc(0),
          padding: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.certificate = reader.bytes()
              break
            }
            case 2: {
              obj.identityDhKey = reader.bytes()
              break
            }
            case 3: {
              obj.identityDhSignature = reader.bytes()
              break
            }
            case 4: {
              obj.prekeyEphemeral = reader.bytes()
              break
            }
            case 8: {
              obj.prekeySignedId = reader.uint32()
              break
            }
            case 9: {
              obj.prekeyOneTimeId = reader.uint32()
              break
            }
            case 5: {
              obj.header = reader.bytes()
              break
            }
            case 6: {
              obj.ciphertext = reader.bytes()
              break
            }
            case 7: {
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
                field: `${prefix}.certificate`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.identityDhKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.identityDhSignature`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.prekeyEphemeral`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.prekeySignedId`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.prekeyOneTimeId`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.header`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.ciphertext`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
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

  export interface SealedContentCertificateFieldEvent {
    field: '$.certificate'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentIdentityDhKeyFieldEvent {
    field: '$.identityDhKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentIdentityDhSignatureFieldEvent {
    field: '$.identityDhSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentPrekeyEphemeralFieldEvent {
    field: '$.prekeyEphemeral'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentPrekeySignedIdFieldEvent {
    field: '$.prekeySignedId'
    value: number
  }

  export interface SealedContentPrekeyOneTimeIdFieldEvent {
    field: '$.prekeyOneTimeId'
    value: number
  }

  export interface SealedContentHeaderFieldEvent {
    field: '$.header'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentCiphertextFieldEvent {
    field: '$.ciphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SealedContentPaddingFieldEvent {
    field: '$.padding'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SealedContent>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SealedContent.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SealedContent>): SealedContent {
    return decodeMessage(buf, SealedContent.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SealedContent>): Generator<SealedContentCertificateFieldEvent | SealedContentIdentityDhKeyFieldEvent | SealedContentIdentityDhSignatureFieldEvent | SealedContentPrekeyEphemeralFieldEvent | SealedContentPrekeySignedIdFieldEvent | SealedContentPrekeyOneTimeIdFieldEvent | SealedContentHeaderFieldEvent | SealedContentCiphertextFieldEvent | SealedContentPaddingFieldEvent> {
    return streamMessage(buf, SealedContent.codec(), opts)
  }
}
