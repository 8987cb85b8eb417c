import { KithError } from '@kith/core'

/** Why a mailbox refused a request. */
export type MailboxRefusal = 'not-a-mailbox' | 'not-a-friend' | 'invalid'

/**
 * A mailbox refused a request: it keeps no mailbox for us (`not-a-mailbox`), we are not its
 * node's contact (`not-a-friend`, on register), or it found the request malformed (`invalid`,
 * and it closed the stream).
 */
export class MailboxRefusedError extends KithError {
  static override name = 'MailboxRefusedError'
  readonly reason: MailboxRefusal

  constructor (reason: MailboxRefusal, message = `mailbox refused: ${reason}`) {
    super(message)
    this.reason = reason
  }
}
