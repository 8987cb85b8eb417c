import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const CORE_API = [
  // constants.ts
  'DM_PROTOCOL', 'KAD_PROTOCOL', 'PREKEYS_PROTOCOL', 'ENVELOPE_VERSION', 'ENCRYPTION_NONE', 'ENCRYPTION_SEALED', 'ENCRYPTION_SESSION_SEALED', 'LIMITS',
  'MESSAGE_ID_BYTES', 'INVITE_TOKEN_BYTES', 'INVITE_TTL_MS', 'FILES_PROTOCOL', 'LINK_PROTOCOL',
  // errors.ts
  'KithError', 'InvalidMessageError', 'MessageTooLargeError', 'EmptyMessageError',
  'InvalidSignatureError', 'WrongRecipientError', 'NotAContactError', 'RateLimitedError',
  'InvalidInviteError', 'UnknownContactError', 'ContactExistsError', 'IdentityExistsError',
  'NoIdentityError', 'NodeRunningError', 'NodeNotRunningError', 'UnauthorizedError', 'PassphraseRequiredError', 'IdentityChangedError',
  'DiskFullError', 'FileUnavailableError', 'FileCorruptError', 'FileExistsError', 'UnknownFileError',
  'InvalidLinkCodeError', 'LinkCodeExpiredError', 'LinkCodeUsedError', 'NotIdentityDeviceError', 'UnknownDeviceError',
  'UnknownMessageError', 'NotYourMessageError', 'MessageDeletedError', 'InvalidReactionError',
  // content.ts
  'CONTENT_LIMITS', 'encodeContent', 'decodeContent', 'validReaction',
  // file-offer.ts
  'FILE_OFFER_LIMITS', 'encodeFileOffer', 'decodeFileOffer',
  // bytes.ts
  'toHex', 'fromHex', 'random', 'utf8Length', 'PAD_TO', 'padded', 'paddingFor',
  // invite.ts
  'INVITE_PREFIX', 'encodeInvite', 'decodeInvite', 'decodeEnvelope', 'decodeCanonical', 'encodeCode', 'decodeCode',
  // length-prefix.ts
  'lengthPrefixed', 'InvalidDataLengthLengthError',
  // home.ts
  'resolveHome',
  // proto/dm.ts
  'Envelope', 'SignedMessage', 'Message', 'MessageKind', 'Ack', 'AckStatus', 'Invite', 'FileOffer', 'PreKeyBundle', 'SealedContent'
]

describe('@kith/core public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('@kith/core')
    expect(Object.keys(mod).sort()).toEqual([...CORE_API].sort())
  })

  it('keeps the protocol ids and limits callers rely on', async () => {
    const { DM_PROTOCOL, KAD_PROTOCOL, LIMITS } = await import('@kith/core')
    expect(DM_PROTOCOL).toMatch(/^\/kith\//)
    expect(KAD_PROTOCOL).toMatch(/^\/kith\//)
    for (const value of Object.values(LIMITS)) expect(Number.isSafeInteger(value) && value > 0).toBe(true)
  })
})
