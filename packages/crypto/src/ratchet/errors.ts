import { KithError } from '@kith/core'

/**
 * A ratchet message did not authenticate: tampered header, ciphertext or associated data, a
 * wrong session, or a header whose ratchet key is unusable. The session state is unchanged.
 */
export class DecryptionFailedError extends KithError { static override name = 'DecryptionFailedError' }

/** A message would need more skipped message keys than the session may store (see MAX_SKIP). */
export class TooManySkippedMessagesError extends KithError { static override name = 'TooManySkippedMessagesError' }

/** A prekey bundle is malformed, its signature does not verify, or one of its keys is unusable. */
export class InvalidPreKeyBundleError extends KithError { static override name = 'InvalidPreKeyBundleError' }

/**
 * The message key for this header was already used (a replay or a re-delivery) or was discarded
 * (an old skipped key evicted by the session-wide cap). The session state is unchanged.
 */
export class DuplicateMessageError extends KithError { static override name = 'DuplicateMessageError' }

/** The session cannot send yet: the responder must receive the initiator's first message first. */
export class NoSendingChainError extends KithError { static override name = 'NoSendingChainError' }
