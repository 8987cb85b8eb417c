import { KithError, NodeNotRunningError } from '@kith/core'
import WebSocket from 'ws'
import { readEndpoint } from './files.js'
import type { ApiEndpoint } from './files.js'
import type { ApiEvent, MessageView } from './views.js'
import type { MailboxView } from './server.js'
import type { ContactView, GroupView, NodeStatus, Verification } from '@kith/node'

/** An error the daemon answered with; `name` is the node's error name (e.g. `UnknownContactError`). */
export class ApiError extends KithError {
  static override name = 'ApiError'
  constructor (name: string, message: string, readonly status: number) {
    super(message)
    this.name = name
  }
}

/**
 * A typed client of the local daemon API. Every `kith` command except `init` and `start` goes
 * through it.
 *
 * @example
 * ```ts
 * const client = await KithClient.fromHome('/home/me/.kith')
 * await client.send('bob', 'hello')
 * ```
 */
export class KithClient {
  private readonly endpoint: ApiEndpoint
  private readonly home: string

  constructor (endpoint: ApiEndpoint, home = '') {
    this.endpoint = endpoint
    this.home = home
  }

  /** @throws {NodeNotRunningError} when no daemon runs for `home` */
  static async fromHome (home: string): Promise<KithClient> {
    return new KithClient(await readEndpoint(home), home)
  }

  async status (): Promise<NodeStatus & { pid: number }> { return await this.request('GET', '/v1/status') }
  async invite (): Promise<{ code: string }> { return await this.request('POST', '/v1/invites') }
  async accept (code: string, name: string): Promise<{ contact: string, peerId: string }> { return await this.request('POST', '/v1/contacts', { code, name }) }
  async contacts (): Promise<ContactView[]> { return await this.request('GET', '/v1/contacts') }
  async groups (): Promise<GroupView[]> { return await this.request('GET', '/v1/groups') }
  async createGroup (name: string): Promise<{ group: string, name: string }> { return await this.request('POST', '/v1/groups', { name }) }
  async addToGroup (group: string, contact: string): Promise<GroupView> { return await this.request('POST', `/v1/groups/${encodeURIComponent(group)}/members`, { contact }) }
  async removeFromGroup (group: string, contact: string): Promise<GroupView> { return await this.request('DELETE', `/v1/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(contact)}`) }
  async promoteInGroup (group: string, contact: string): Promise<GroupView> { return await this.request('POST', `/v1/groups/${encodeURIComponent(group)}/admins`, { contact }) }
  async renameGroup (group: string, name: string): Promise<GroupView> { return await this.request('POST', `/v1/groups/${encodeURIComponent(group)}/name`, { name }) }
  async leaveGroup (group: string): Promise<GroupView> { return await this.request('POST', `/v1/groups/${encodeURIComponent(group)}/leave`) }
  async send (to: string, text: string): Promise<MessageView> { return await this.request('POST', '/v1/messages', { to, text }) }
  async mailboxes (): Promise<MailboxView[]> { return await this.request('GET', '/v1/mailboxes') }
  async addMailbox (contact: string): Promise<MailboxView[]> { return await this.request('POST', '/v1/mailboxes', { contact }) }
  async removeMailbox (contact: string): Promise<MailboxView[]> { return await this.request('DELETE', `/v1/mailboxes/${encodeURIComponent(contact)}`) }
  async shutdown (): Promise<void> { await this.request('POST', '/v1/shutdown') }

  /** A contact's safety number; `mark` records it verified, `accept` accepts a changed identity key. */
  async verify (contact: string, action?: 'mark' | 'accept'): Promise<Verification> {
    const path = `/v1/contacts/${encodeURIComponent(contact)}/verification`
    return action == null ? await this.request('GET', path) : await this.request('POST', path, { action })
  }

  async history (contact: string, options: { limit?: number, before?: number } = {}): Promise<MessageView[]> {
    const query = new URLSearchParams()
    if (options.limit != null) query.set('limit', String(options.limit))
    if (options.before != null) query.set('before', String(options.before))
    const qs = query.size > 0 ? `?${query.toString()}` : ''
    return await this.request('GET', `/v1/history/${encodeURIComponent(contact)}${qs}`)
  }

  /**
   * Subscribe to the event stream. Resolves once subscribed; `onEvent` gets each event, `onClose`
   * is called when the daemon goes away. Call the returned function to unsubscribe.
   */
  async events (onEvent: (event: ApiEvent) => void, onClose?: () => void): Promise<() => void> {
    const ws = new WebSocket(this.endpoint.url.replace(/^http/, 'ws') + '/v1/events', {
      headers: { authorization: `Bearer ${this.endpoint.token}` },
      maxPayload: 1024 * 1024
    })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', () => { reject(this.notRunning()) })
      ws.once('unexpected-response', (_req, res) => { reject(new ApiError('UnauthorizedError', `event stream refused (${res.statusCode})`, res.statusCode ?? 0)) })
    })
    ws.on('message', data => {
      try { onEvent(JSON.parse(String(data))) } catch {}
    })
    ws.on('close', () => onClose?.())
    ws.on('error', () => {})
    return () => { ws.removeAllListeners('close'); ws.close() }
  }

  private async request<T> (method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(this.endpoint.url + path, {
        method,
        headers: { authorization: `Bearer ${this.endpoint.token}`, ...(body != null ? { 'content-type': 'application/json' } : {}) },
        ...(body != null ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000)
      })
    } catch {
      throw this.notRunning()
    }
    const json: any = await res.json().catch(() => ({}))
    if (!res.ok) throw new ApiError(json?.error?.name ?? 'ApiError', json?.error?.message ?? `HTTP ${res.status}`, res.status)
    return json as T
  }

  private notRunning (): NodeNotRunningError {
    return new NodeNotRunningError(`no node is running${this.home !== '' ? ` for ${this.home}` : ''} (start one with "kith start")`)
  }
}
