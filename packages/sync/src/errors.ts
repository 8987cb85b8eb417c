import { KithError } from '@kith/core'

/** A sync message was malformed, oversized or inconsistent. The exchange cannot go on. */
export class SyncProtocolError extends KithError { static override name = 'SyncProtocolError' }
