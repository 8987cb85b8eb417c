import { KithError } from '@kith/core'

/**
 * The user did not confirm that both screens show the same comparison code (declined, or gave no
 * answer in time, or the new device went away meanwhile): the new device is not linked.
 */
export class LinkRejectedError extends KithError { static override name = 'LinkRejectedError' }

/** No new device is waiting with that comparison code (it was decided, timed out, or never asked). */
export class UnknownLinkRequestError extends KithError { static override name = 'UnknownLinkRequestError' }
