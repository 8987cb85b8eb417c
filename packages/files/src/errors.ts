import { KithError } from '@kith/core'

/** A peer opened a files stream and did not send its request in time (idle, or too slowly): the stream is reset. */
export class RequestTimeoutError extends KithError { static override name = 'RequestTimeoutError' }
