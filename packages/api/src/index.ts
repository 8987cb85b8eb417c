/**
 * @packageDocumentation
 *
 * The local daemon API: HTTP + JSON and a WebSocket event stream on 127.0.0.1 only, guarded by
 * a random bearer token stored in the home folder with mode 0600. `startApiServer` serves a
 * running node; `KithClient` drives it. Endpoints are documented in docs/api.md.
 *
 * Loading this package does not load libp2p: the server only needs a node passed to it, so
 * CLI commands that are mere clients start fast.
 *
 * @example
 * ```ts
 * const api = await startApiServer(node, { home })
 * const client = await KithClient.fromHome(home)
 * console.log(await client.status())
 * ```
 */
export { startApiServer } from './server.js'
export type { ApiServer, ApiServerOptions, MailboxView } from './server.js'
export { KithClient, ApiError } from './client.js'
export { readEndpoint, API_FILE, TOKEN_FILE } from './files.js'
export type { ApiEndpoint } from './files.js'
export type { ApiEvent, MessageView } from './views.js'
