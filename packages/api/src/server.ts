import { createServer } from 'node:http'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { InvalidMessageError, KithError, LIMITS, MessageTooLargeError, UnauthorizedError } from '@kith/core'
import { WebSocketServer } from 'ws'
import { removeEndpoint, writeEndpoint } from './files.js'
import { contactView, messageView } from './views.js'
import type { ApiEvent } from './views.js'
import type { FileProgress, HistoryProgress, KithNode, LinkRequestView, LinkedDevice, MessageRecord, RefusedLink } from '@kith/node'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Largest request body the API reads, checked before parsing. */
const MAX_BODY_BYTES = LIMITS.maxTextBytes * 2 + LIMITS.maxInviteChars

const STATUS_BY_ERROR: Record<string, number> = {
  UnauthorizedError: 401,
  UnknownContactError: 404,
  UnknownGroupError: 404,
  NotFoundError: 404,
  GroupPermissionError: 403,
  NoKeyPackageError: 409,
  MailboxRefusedError: 409,
  ContactUnreachableError: 503,
  ContactExistsError: 409,
  IdentityChangedError: 409,
  NoIdentityKnownError: 409,
  MessageTooLargeError: 413,
  EmptyMessageError: 400,
  InvalidInviteError: 400,
  InvalidMessageError: 400,
  UnknownFileError: 404,
  FileExistsError: 409,
  FileUnavailableError: 503,
  FileCorruptError: 502,
  DiskFullError: 507,
  NotIdentityDeviceError: 403,
  UnknownDeviceError: 404,
  InvalidLinkCodeError: 400,
  LinkCodeExpiredError: 410,
  LinkCodeUsedError: 409,
  UnknownLinkRequestError: 404,
  LinkRejectedError: 409
}

/** The contacts that hold our mail, as `kith mailbox list` shows them. */
async function mailboxesView (node: KithNode): Promise<MailboxView[]> {
  const contacts = await node.contacts()
  return node.reach.mailboxes().map(peerId => {
    const contact = contacts.find(c => c.peerId === peerId)
    return { name: contact?.name ?? peerId, peerId, online: contact?.online ?? false }
  })
}

/** A contact that holds our mail. */
export interface MailboxView { name: string, peerId: string, online: boolean }

export interface ApiServerOptions {
  /** Home folder where `api.json` and `api.token` are written. */
  home: string
  /** Port on 127.0.0.1 (default: any free port). */
  port?: number
  /** Called when a client asks the daemon to stop (`POST /v1/shutdown`). */
  onShutdown?: () => void
}

export interface ApiServer {
  /** `http://127.0.0.1:PORT` */
  url: string
  close(): Promise<void>
}

type Handler = (node: KithNode, body: any, query: URLSearchParams, params: string[]) => Promise<unknown>

class NotFoundError extends KithError { static override name = 'NotFoundError' }

/** Serve the local API for `node` on 127.0.0.1 only, guarded by a fresh random token. */
export async function startApiServer (node: KithNode, options: ApiServerOptions): Promise<ApiServer> {
  const token = randomBytes(32).toString('base64url')
  const self = node.peerId.toString()

  const nameOf = async (conversation: string): Promise<string> => (await node.store.getContact(conversation))?.name ?? node.groups.nameOf(conversation) ?? conversation
  const view = async (record: MessageRecord): Promise<ReturnType<typeof messageView>> => messageView(record, self, await nameOf(record.conversation), await nameOf(record.from), record.file != null ? await node.sharing.view(record) : undefined)

  const routes: Array<[string, RegExp, Handler]> = [
    ['GET', /^\/v1\/status$/, async (n) => ({ ...n.status(), pid: process.pid })],
    ['POST', /^\/v1\/invites$/, async (n) => ({ code: await n.createInvite() })],
    ['GET', /^\/v1\/contacts$/, async (n) => await n.contacts()],
    ['POST', /^\/v1\/contacts$/, async (n, body) => {
      const contact = await n.acceptInvite(requireString(body, 'code'), requireString(body, 'name'))
      return { contact: contact.name, peerId: contact.peerId }
    }],
    ['POST', /^\/v1\/messages$/, async (n, body) => await view(await n.send(requireString(body, 'to'), requireString(body, 'text', true)))],
    ['GET', /^\/v1\/history\/([^/]+)$/, async (n, _body, query, [contact]) => {
      const records = await n.history(pathParam(contact), { ...intParam(query, 'limit'), ...intParam(query, 'before') })
      return await Promise.all(records.map(view))
    }],
    ['POST', /^\/v1\/conversations\/([^/]+)\/read$/, async (n, _body, _query, [conversation]) => await n.markRead(pathParam(conversation))],
    ['GET', /^\/v1\/contacts\/([^/]+)\/verification$/, async (n, _body, _query, [contact]) => await n.verify(pathParam(contact))],
    ['POST', /^\/v1\/contacts\/([^/]+)\/verification$/, async (n, body, _query, [contact]) => {
      const action = body?.action
      if (action !== 'mark' && action !== 'accept') throw new InvalidMessageError('"action" must be "mark" or "accept"')
      return await n.verify(pathParam(contact), action)
    }],
    ['GET', /^\/v1\/groups$/, async (n) => n.groups.list()],
    ['POST', /^\/v1\/groups$/, async (n, body) => {
      const { group, name } = await n.groups.create(requireString(body, 'name'))
      return { group, name }
    }],
    ['POST', /^\/v1\/groups\/([^/]+)\/members$/, async (n, body, _query, [group]) => {
      const contact = await n.resolveContact(requireString(body, 'contact'))
      return await n.groups.add(pathParam(group), contact.peerId)
    }],
    ['DELETE', /^\/v1\/groups\/([^/]+)\/members\/([^/]+)$/, async (n, _body, _query, [group, contact]) => {
      return await n.groups.remove(pathParam(group), (await n.resolveContact(pathParam(contact))).peerId)
    }],
    ['POST', /^\/v1\/groups\/([^/]+)\/admins$/, async (n, body, _query, [group]) => {
      return await n.groups.promote(pathParam(group), (await n.resolveContact(requireString(body, 'contact'))).peerId)
    }],
    ['POST', /^\/v1\/groups\/([^/]+)\/name$/, async (n, body, _query, [group]) => await n.groups.rename(pathParam(group), requireString(body, 'name'))],
    ['POST', /^\/v1\/groups\/([^/]+)\/leave$/, async (n, _body, _query, [group]) => await n.groups.leave(pathParam(group))],
    ['POST', /^\/v1\/files$/, async (n, body) => {
      const record = await n.sendFile(requireString(body, 'to'), requireString(body, 'path'), optionalString(body, 'op'))
      return { id: record.id, hash: record.file?.hash, size: record.file?.size, message: await view(record) }
    }],
    ['GET', /^\/v1\/files\/([^/]+)$/, async (n, _body, _query, [id]) => await n.file(pathParam(id))],
    ['POST', /^\/v1\/files\/([^/]+)\/save$/, async (n, body, _query, [id]) => {
      const op = optionalString(body, 'op')
      return await n.saveFile(pathParam(id), requireString(body, 'path'), { overwrite: body?.overwrite === true, ...(op != null ? { op } : {}) })
    }],
    ['GET', /^\/v1\/mailboxes$/, async (n) => await mailboxesView(n)],
    ['POST', /^\/v1\/mailboxes$/, async (n, body) => {
      await n.reach.addMailbox(await n.resolveContact(requireString(body, 'contact')))
      return await mailboxesView(n)
    }],
    ['DELETE', /^\/v1\/mailboxes\/([^/]+)$/, async (n, _body, _query, [contact]) => {
      await n.reach.removeMailbox(await n.resolveContact(pathParam(contact)))
      return await mailboxesView(n)
    }],
    ['GET', /^\/v1\/devices$/, async (n) => n.devices.devices()],
    ['POST', /^\/v1\/devices\/link$/, async (n) => await n.devices.createLinkCode()],
    ['GET', /^\/v1\/devices\/link\/requests$/, async (n) => n.devices.linkRequests()],
    ['POST', /^\/v1\/devices\/link\/confirm$/, async (n, body) => await n.devices.confirmLink(requireString(body, 'comparison'))],
    ['POST', /^\/v1\/devices\/link\/reject$/, async (n, body) => n.devices.rejectLink(requireString(body, 'comparison'))],
    ['DELETE', /^\/v1\/devices\/([^/]+)$/, async (n, _body, _query, [device]) => await n.devices.revoke(pathParam(device))],
    ['POST', /^\/v1\/shutdown$/, async () => { setImmediate(() => options.onShutdown?.()); return { stopping: true } }]
  ]

  const server = createServer((req, res) => { void handle(req, res) })
  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!authorized(req.headers.authorization, token)) throw new UnauthorizedError('missing or wrong API token')
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const route = routes.find(([method, pattern]) => method === req.method && pattern.test(url.pathname))
      if (route == null) throw new NotFoundError(`no such endpoint: ${req.method} ${url.pathname}`)
      const body = req.method === 'POST' ? await readJson(req) : undefined
      const params = (route[1].exec(url.pathname) ?? []).slice(1)
      send(res, 200, await route[2](node, body, url.searchParams, params))
    } catch (err: any) {
      const status = STATUS_BY_ERROR[err?.name] ?? 500
      // Internal errors are not described to clients; the node log has them.
      send(res, status, { error: { name: status === 500 ? 'InternalError' : err.name, message: status === 500 ? 'internal error' : err.message } })
      if (status === 500) node.libp2p.logger.forComponent('kith:api').error('request failed: %e', err)
    }
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 })
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/v1/events' || !authorized(req.headers.authorization, token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, ws => wss.emit('connection', ws, req))
  })
  const broadcast = (event: ApiEvent): void => {
    const line = JSON.stringify(event)
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(line)
  }
  // Views need a lookup; a queue keeps events in the order the node emitted them.
  let pending = Promise.resolve()
  const emit = (make: () => Promise<ApiEvent>): void => { pending = pending.then(async () => { broadcast(await make()) }).catch(() => {}) }
  const onMessage = (evt: CustomEvent<MessageRecord>): void => { emit(async () => ({ type: 'message', message: await view(evt.detail) })) }
  const onStatus = (evt: CustomEvent<MessageRecord>): void => { emit(async () => ({ type: 'status', message: await view(evt.detail) })) }
  const onContact = (evt: CustomEvent): void => { emit(async () => ({ type: 'contact', contact: contactView(evt.detail) })) }
  const onIdentityChanged = (evt: CustomEvent): void => { emit(async () => ({ type: 'identity-changed', contact: contactView(evt.detail) })) }
  const onFileProgress = (evt: CustomEvent<FileProgress>): void => { emit(async () => ({ type: 'file-progress', progress: evt.detail })) }
  const onDeviceLinked = (evt: CustomEvent<LinkedDevice>): void => { emit(async () => ({ type: 'device-linked', device: evt.detail })) }
  const onLinkRequest = (evt: CustomEvent<LinkRequestView>): void => { emit(async () => ({ type: 'device-link-request', device: evt.detail })) }
  const onLinkRefused = (evt: CustomEvent<RefusedLink>): void => { emit(async () => ({ type: 'device-link-refused', device: evt.detail })) }
  const onHistoryProgress = (evt: CustomEvent<HistoryProgress>): void => { emit(async () => ({ type: 'history-progress', progress: evt.detail })) }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', resolve)
    })
  } catch (err) {
    wss.close()
    throw err
  }
  node.addEventListener('message', onMessage)
  node.addEventListener('message:status', onStatus)
  node.addEventListener('contact', onContact)
  node.addEventListener('contact:identity-changed', onIdentityChanged)
  node.addEventListener('file:progress', onFileProgress)
  node.addEventListener('device:linked', onDeviceLinked)
  node.addEventListener('device:link-request', onLinkRequest)
  node.addEventListener('device:link-refused', onLinkRefused)
  node.addEventListener('history:progress', onHistoryProgress)
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await writeEndpoint(options.home, url, token)

  return {
    url,
    async close () {
      node.removeEventListener('message', onMessage)
      node.removeEventListener('message:status', onStatus)
      node.removeEventListener('contact', onContact)
      node.removeEventListener('contact:identity-changed', onIdentityChanged)
      node.removeEventListener('file:progress', onFileProgress)
      node.removeEventListener('device:linked', onDeviceLinked)
      node.removeEventListener('device:link-request', onLinkRequest)
      node.removeEventListener('device:link-refused', onLinkRefused)
      node.removeEventListener('history:progress', onHistoryProgress)
      await removeEndpoint(options.home)
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

function authorized (header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') === true ? header.slice(7) : '')
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new MessageTooLargeError('request body is too large')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new MessageTooLargeError('request body is too large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new InvalidMessageError('request body is not JSON')
  }
}

function requireString (body: any, field: string, allowEmpty = false): string {
  const value = body?.[field]
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) throw new InvalidMessageError(`"${field}" must be a non-empty string`)
  return value
}

function optionalString (body: any, field: string): string | undefined {
  const value = body?.[field]
  if (value == null) return undefined
  if (typeof value !== 'string') throw new InvalidMessageError(`"${field}" must be a string`)
  return value
}

function pathParam (raw = ''): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new InvalidMessageError('the contact in the path is not properly percent-encoded')
  }
}

function intParam (query: URLSearchParams, name: string): Record<string, number> {
  const raw = query.get(name)
  if (raw == null) return {}
  const value = raw.trim() === '' ? NaN : Number(raw)
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidMessageError(`"${name}" must be a whole number`)
  return { [name]: value }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
  res.end(json)
}
