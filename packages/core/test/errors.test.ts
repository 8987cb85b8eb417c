import { describe, expect, it } from 'vitest'
import * as core from '@kith/core'
import { KithError } from '@kith/core'

const ERROR_CLASSES = [
  'KithError',
  'InvalidDataLengthLengthError',
  'InvalidMessageError',
  'MessageTooLargeError',
  'EmptyMessageError',
  'InvalidSignatureError',
  'WrongRecipientError',
  'NotAContactError',
  'RateLimitedError',
  'InvalidInviteError',
  'UnknownContactError',
  'ContactExistsError',
  'IdentityExistsError',
  'NoIdentityError',
  'NodeRunningError',
  'NodeNotRunningError',
  'UnauthorizedError',
  'PassphraseRequiredError',
  'IdentityChangedError',
  'DiskFullError',
  'FileUnavailableError',
  'FileCorruptError',
  'FileExistsError',
  'UnknownFileError',
  'InvalidLinkCodeError',
  'LinkCodeExpiredError',
  'LinkCodeUsedError',
  'NotIdentityDeviceError',
  'UnknownDeviceError',
  'UnknownMessageError',
  'NotYourMessageError',
  'MessageDeletedError',
  'InvalidReactionError'
]

type ErrorClass = new (message: string, options?: ErrorOptions) => Error
const exported = core as unknown as Record<string, unknown>

describe('named errors', () => {
  it('every Error class @kith/core exports is one of the known ones', () => {
    const found = Object.keys(exported)
      .filter(key => typeof exported[key] === 'function' && (exported[key] as { prototype?: unknown }).prototype instanceof Error)
      .sort()
    expect(found).toEqual([...ERROR_CLASSES].sort())
  })

  for (const name of ERROR_CLASSES) {
    it(`${name} is named after its class and is a KithError`, () => {
      const Cls = exported[name] as ErrorClass
      const cause = new Error('underlying')
      const err = new Cls('something went wrong', { cause })
      expect(Cls.name).toBe(name)
      expect(err.name).toBe(name)
      expect(err).toBeInstanceOf(Cls)
      expect(err).toBeInstanceOf(KithError)
      expect(err).toBeInstanceOf(Error)
      expect(err.message).toBe('something went wrong')
      expect(err.cause).toBe(cause)
      expect(String(err)).toBe(`${name}: something went wrong`)
      expect(err.stack).toMatch(new RegExp(`^${name}: something went wrong`))
    })
  }

  it('subclasses are told apart by instanceof', () => {
    const err = new core.InvalidSignatureError('bad')
    expect(err).not.toBeInstanceOf(core.InvalidMessageError)
    expect(new KithError('x').name).toBe('KithError')
  })
})
