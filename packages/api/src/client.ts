import { request as httpRequest } from 'node:http'
import { KithError, NodeNotRunningError } from '@kith/core'
import WebSocket from 'ws'
import { readEndpoint } from './files.js'
import type { ApiEndpoint } from './files.js'
import type { ApiEvent, MessageView } from './views.js'
import type { MailboxView } from './server.js'
import type { ContactView, DeviceView, FileView, GroupView, LinkRequestView, LinkedDevice, NodeStatus, SavedFile, Verification } from '@kith/node'

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
  /** Send a file (`path` as the daemon sees it: give an absolute one); progress events carry `op`. */
  async sendFile (to: string, path: string, op?: string): Promise<{ id: string, hash: string, size: number, message: MessageView }> { return await this.request('POST', '/v1/files', { to, path, op }, null) }
  /** The file a message carries. */
  async file (messageId: string): Promise<FileView> { return await this.request('GET', `/v1/files/${encodeURIComponent(messageId)}`) }
  /** Download (or resume) a message's file and write it to `path` (a folder or a file path, as the daemon sees it). */
  async saveFile (messageId: string, path: string, options: { overwrite?: boolean, op?: string } = {}): Promise<SavedFile> { return await this.request('POST', `/v1/files/${encodeURIComponent(messageId)}/save`, { path, ...options }, null) }
  async mailboxes (): Promise<MailboxView[]> { return await this.request('GET', '/v1/mailboxes') }
  async addMailbox (contact: string): Promise<MailboxView[]> { return await this.request('POST', '/v1/mailboxes', { contact }) }
  async removeMailbox (contact: string): Promise<MailboxView[]> { return await this.request('DELETE', `/v1/mailboxes/${encodeURIComponent(contact)}`) }
  async devices (): Promise<DeviceView[]> { return await this.request('GET', '/v1/devices') }
  async markRead (conversation: string): Promise<{ conversation: string, upTo: number }> { return await this.request('POST', `/v1/conversations/${encodeURIComponent(conversation)}/read`) }
  async linkDevice (): Promise<{ code: string, expires: number }> { return await this.request('POST', '/v1/devices/link') }
  /** New devices waiting for the user to confirm their comparison code. */
  async linkRequests (): Promise<LinkRequestView[]> { return await this.request('GET', '/v1/devices/link/requests') }
  /** Both screens show `comparison`: link the device waiting with it. */
  async confirmLink (comparison: string): Promise<LinkedDevice> { return await this.request('POST', '/v1/devices/link/confirm', { comparison }) }
  /** The screens differ (or the user did not ask for it): the device waiting with `comparison` is not linked. */
  async rejectLink (comparison: string): Promise<LinkRequestView> { return await this.request('POST', '/v1/devices/link/reject', { comparison }) }
  async revokeDevice (device: string): Promise<DeviceView[]> { return await this.request('DELETE', `/v1/devices/${encodeURIComponent(device)}`) }
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

  /**
   * One API call. `timeoutMs` null: no time limit (a file may take hours; progress comes on the
   * event stream), over node:http, since fetch gives up when response headers take 5 minutes.
   */
  private async request<T> (method: string, path: string, body?: unknown, timeoutMs: number | null = 30_000): Promise<T> {
    const payload = body != null ? JSON.stringify(body) : undefined
    const headers: Record<string, string> = { authorization: `Bearer ${this.endpoint.token}`, ...(payload != null ? { 'content-type': 'application/json' } : {}) }
    let status: number
    let text: string
    try {
      ({ status, text } = timeoutMs != null ? await fetchText(this.endpoint.url + path, method, headers, payload, timeoutMs) : await httpText(this.endpoint.url + path, method, headers, payload))
    } catch {
      throw this.notRunning()
    }
    let json: any = {}
    try { json = JSON.parse(text) } catch {}
    if (status < 200 || status >= 300) throw new ApiError(json?.error?.name ?? 'ApiError', json?.error?.message ?? `HTTP ${status}`, status)
    return json as T
  }

  private notRunning (): NodeNotRunningError {
    return new NodeNotRunningError(`no node is running${this.home !== '' ? ` for ${this.home}` : ''} (start one with "kith start")`)
  }
}

async function fetchText (url: string, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number, text: string }> {
  const res = await fetch(url, { method, headers, ...(body != null ? { body } : {}), signal: AbortSignal.timeout(timeoutMs) })
  return { status: res.status, text: await res.text() }
}

/** A request without any time limit. */
async function httpText (url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: { ...headers, ...(body != null ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
