/**
 * Named errors. Callers branch on `err.name`; each class keeps its name after minification
 * through the static `name`.
 */
export class KithError extends Error {
  static override name = 'KithError'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = (this.constructor as { name: string }).name
  }
}

/** Input could not be decoded or breaks the wire format. */
export class InvalidMessageError extends KithError { static override name = 'InvalidMessageError' }
/** Input is larger than the limit for its kind. */
export class MessageTooLargeError extends KithError { static override name = 'MessageTooLargeError' }
/** A message text was empty. */
export class EmptyMessageError extends KithError { static override name = 'EmptyMessageError' }
/** A signature did not verify. */
export class InvalidSignatureError extends KithError { static override name = 'InvalidSignatureError' }
/** An envelope was addressed to another device. */
export class WrongRecipientError extends KithError { static override name = 'WrongRecipientError' }
/** The sender is not a contact (and message requests are off). */
export class NotAContactError extends KithError { static override name = 'NotAContactError' }
/** A peer sent faster than allowed. */
export class RateLimitedError extends KithError { static override name = 'RateLimitedError' }
/** An invite code was malformed, expired, already used or our own. */
export class InvalidInviteError extends KithError { static override name = 'InvalidInviteError' }
/** No contact has that name or peer id. */
export class UnknownContactError extends KithError { static override name = 'UnknownContactError' }
/** A contact with that name already exists. */
export class ContactExistsError extends KithError { static override name = 'ContactExistsError' }
/** The home folder already holds an identity. */
export class IdentityExistsError extends KithError { static override name = 'IdentityExistsError' }
/** The home folder holds no identity yet (`kith init`). */
export class NoIdentityError extends KithError { static override name = 'NoIdentityError' }
/** Another node process already runs on this home folder. */
export class NodeRunningError extends KithError { static override name = 'NodeRunningError' }
/** No node runs for this home folder, or its API cannot be reached. */
export class NodeNotRunningError extends KithError { static override name = 'NodeNotRunningError' }
/** The local API refused the token. */
export class UnauthorizedError extends KithError { static override name = 'UnauthorizedError' }
/** The home folder is protected by a passphrase and none was given. */
export class PassphraseRequiredError extends KithError { static override name = 'PassphraseRequiredError' }
/** A contact's identity key changed: sending waits until the user compares safety numbers and accepts it. */
export class IdentityChangedError extends KithError { static override name = 'IdentityChangedError' }
/** The disk is full: a download stopped where it was and resumes once there is room. */
export class DiskFullError extends KithError { static override name = 'DiskFullError' }
/** No device that has the file (or the chunks still missing) could be reached or would serve it; the download resumes later. */
export class FileUnavailableError extends KithError { static override name = 'FileUnavailableError' }
/** File data failed verification (hash tree or authentication tag). */
export class FileCorruptError extends KithError { static override name = 'FileCorruptError' }
/** A file to save to already exists (and overwriting was not asked for). */
export class FileExistsError extends KithError { static override name = 'FileExistsError' }
/** No message has that id, or it holds no file. */
export class UnknownFileError extends KithError { static override name = 'UnknownFileError' }
/** A link code is malformed or damaged. */
export class InvalidLinkCodeError extends KithError { static override name = 'InvalidLinkCodeError' }
/** A link code has expired: make a new one on the identity device. */
export class LinkCodeExpiredError extends KithError { static override name = 'LinkCodeExpiredError' }
/** A link code was used already: each links one device. */
export class LinkCodeUsedError extends KithError { static override name = 'LinkCodeUsedError' }
/** Only the device holding the identity key can do this (link or revoke devices). */
export class NotIdentityDeviceError extends KithError { static override name = 'NotIdentityDeviceError' }
/** No device of this account has that id or name. */
export class UnknownDeviceError extends KithError { static override name = 'UnknownDeviceError' }
/** No message with that id in this conversation. */
export class UnknownMessageError extends KithError { static override name = 'UnknownMessageError' }
/** Only a message's author may edit or delete it. */
export class NotYourMessageError extends KithError { static override name = 'NotYourMessageError' }
/** The message was deleted: it can't be edited, answered or reacted to. */
export class MessageDeletedError extends KithError { static override name = 'MessageDeletedError' }
/** A reaction is one emoji: one grapheme of at most 32 UTF-8 bytes, no control characters. */
export class InvalidReactionError extends KithError { static override name = 'InvalidReactionError' }
