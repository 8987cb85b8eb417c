import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { LIMITS } from '@kith/core'
import { KithClient, readEndpoint, startApiServer } from '@kith/api'
import WebSocket from 'ws'
import { befriend, startNode, tempDir } from '../../../test/helpers/testnet.js'
import type { ApiEndpoint, ApiServer } from '@kith/api'
import type { KithNode } from '@kith/node'

let alice: KithNode
let bob: KithNode
let api: ApiServer
let endpoint: ApiEndpoint
let cleanupHome: () => Promise<void>

beforeEach(async () => {
  alice = await startNode('alice')
  bob = await startNode('bob')
  const dir = await tempDir('kith-api-')
  cleanupHome = dir.cleanup
  api = await startApiServer(alice, { home: dir.path })
  endpoint = await readEndpoint(dir.path)
})
afterEach(async () => {
  await api.close()
  await alice.stop()
  await bob.stop()
  await cleanupHome()
})

interface Answer { status: number, body: any, text: string }

/** A raw HTTP request; `token` null sends no Authorization header. */
async function call (method: string, path: string, options: { token?: string | null, body?: string } = {}): Promise<Answer> {
  const token = options.token === undefined ? endpoint.token : options.token
  const res = await fetch(endpoint.url + path, {
    method,
    headers: token != null ? { authorization: `Bearer ${token}` } : {},
    ...(options.body != null ? { body: options.body } : {})
  })
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text), text }
}

/**
 * A chunked POST (no content-length) that streams `size` bytes in 4 KiB pieces and then waits
 * for the answer before ending its body, as an uploader that is still sending would.
 */
async function chunkedPost (path: string, size: number): Promise<{ status: number, body: any } | { error: string }> {
  return await new Promise(resolve => {
    const req = request(endpoint.url + path, { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'transfer-encoding': 'chunked' } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', chunk => { text += chunk })
      res.on('end', () => { req.destroy(); resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }) })
    })
    req.on('error', (err: any) => { resolve({ error: err.code ?? err.message }) })
    const piece = 'x'.repeat(4096)
    const write = (sent: number): void => {
      // The next piece goes once the previous one is on the wire.
      if (sent < size && !req.destroyed) req.write(piece, () => { setTimeout(() => { write(sent + piece.length) }, 2) })
    }
    write(0)
  })
}

/** Try the event stream; resolve with 'open' or the HTTP status it was refused with. */
async function tryEvents (path: string, headers: Record<string, string>): Promise<number | 'open' | 'error'> {
  return await new Promise(resolve => {
    const ws = new WebSocket(endpoint.url.replace(/^http/, 'ws') + path, { headers })
    ws.once('open', () => { ws.close(); resolve('open') })
    ws.once('unexpected-response', (req, res) => { req.destroy(); resolve(res.statusCode ?? 0) })
    ws.once('error', () => { resolve('error') })
  })
}

/** Every error answer is `{error: {name, message}}` and nothing else: no stack, no paths. */
function expectError (answer: Answer, status: number, name: string): void {
  expect(answer.status).toBe(status)
  expect(answer.body).toEqual({ error: { name, message: expect.any(String) } })
  expect(answer.text).not.toMatch(/\n\s+at |\.(ts|js):\d+|node_modules/)
}

describe('API authentication', () => {
  it('refuses requests without a token, with a wrong one, or with one of another length', async () => {
    const wrong = endpoint.token.slice(0, -1) + (endpoint.token.endsWith('A') ? 'B' : 'A')
    expectError(await call('GET', '/v1/status', { token: null }), 401, 'UnauthorizedError')
    expectError(await call('GET', '/v1/status', { token: wrong }), 401, 'UnauthorizedError')
    expectError(await call('GET', '/v1/status', { token: endpoint.token + 'x' }), 401, 'UnauthorizedError')
    expectError(await call('GET', '/v1/status', { token: '' }), 401, 'UnauthorizedError')
    // Refused before routing: an unknown path does not reveal itself either.
    expectError(await call('GET', '/v1/nothing-here', { token: null }), 401, 'UnauthorizedError')
    // And nothing was done on the caller's behalf.
    expectError(await call('POST', '/v1/invites', { token: wrong }), 401, 'UnauthorizedError')
    expect((await call('GET', '/v1/status')).status).toBe(200)
  })

  it('refuses the event stream without the right token', async () => {
    expect(await tryEvents('/v1/events', {})).toBe(401)
    expect(await tryEvents('/v1/events', { authorization: 'Bearer nope' })).toBe(401)
    expect(await tryEvents('/v1/events', { authorization: endpoint.token })).toBe(401)
    expect(await tryEvents('/v1/other', { authorization: `Bearer ${endpoint.token}` })).toBe(401)
    expect(await tryEvents('/v1/events', { authorization: `Bearer ${endpoint.token}` })).toBe('open')

    const liar = new KithClient({ url: endpoint.url, token: 'wrong' })
    await expect(liar.events(() => {})).rejects.toMatchObject({ name: 'UnauthorizedError', status: 401 })
    await expect(liar.status()).rejects.toMatchObject({ name: 'UnauthorizedError', status: 401 })
  })
})

describe('API request errors', () => {
  it('answers 404 NotFoundError for an unknown route or method', async () => {
    expectError(await call('GET', '/v1/nothing-here'), 404, 'NotFoundError')
    expectError(await call('DELETE', '/v1/contacts'), 404, 'NotFoundError')
    expectError(await call('GET', '/v1/messages'), 404, 'NotFoundError')
  })

  it('answers 400 InvalidMessageError for a body that is not JSON or lacks fields', async () => {
    expectError(await call('POST', '/v1/messages', { body: '{"to": "bob", "text": ' }), 400, 'InvalidMessageError')
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 'bob' }) }), 400, 'InvalidMessageError')
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 7, text: 'hi' }) }), 400, 'InvalidMessageError')
    expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code: 'kith1abc' }) }), 400, 'InvalidMessageError')
    expectError(await call('POST', '/v1/contacts', { body: 'null' }), 400, 'InvalidMessageError')
  })

  it('answers 413 MessageTooLargeError for a body over the limit with a content-length', async () => {
    const limit = LIMITS.maxTextBytes * 2 + LIMITS.maxInviteChars
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 'bob', text: 'x'.repeat(limit) }) }), 413, 'MessageTooLargeError')
    // The server keeps working afterwards.
    expect((await call('GET', '/v1/status')).status).toBe(200)
  })

  it('answers 413 MessageTooLargeError for a chunked body over the limit', async () => {
    const limit = LIMITS.maxTextBytes * 2 + LIMITS.maxInviteChars
    const answer = await chunkedPost('/v1/messages', 2 * limit)
    expect(answer).toEqual({ status: 413, body: { error: { name: 'MessageTooLargeError', message: expect.any(String) } } })
    expect((await call('GET', '/v1/status')).status).toBe(200)
  })

  it('answers 404 UnknownContactError for a contact it does not know', async () => {
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 'nobody', text: 'hi' }) }), 404, 'UnknownContactError')
    expectError(await call('GET', '/v1/history/nobody'), 404, 'UnknownContactError')
  })

  it('answers 400 EmptyMessageError for empty text and 413 for text over 16 KiB', async () => {
    await befriend(bob, alice, 'bob')
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 'bob', text: '' }) }), 400, 'EmptyMessageError')
    expectError(await call('POST', '/v1/messages', { body: JSON.stringify({ to: 'bob', text: 'é'.repeat(LIMITS.maxTextBytes / 2 + 1) }) }), 413, 'MessageTooLargeError')
    expect(await alice.history('bob')).toEqual([])
  })

  it('answers 400 InvalidInviteError for a malformed invite or a bad name, 409 for a taken name', async () => {
    expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code: 'not an invite', name: 'x' }) }), 400, 'InvalidInviteError')
    const code = await bob.createInvite()
    const damaged = code.slice(0, -3) + (code.endsWith('AAA') ? 'BBB' : 'AAA')
    expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code: damaged, name: 'bob' }) }), 400, 'InvalidInviteError')
    expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code: await alice.createInvite(), name: 'me' }) }), 400, 'InvalidInviteError')
    expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code, name: 'x'.repeat(LIMITS.maxNameBytes + 1) }) }), 400, 'InvalidInviteError')

    expect((await call('POST', '/v1/contacts', { body: JSON.stringify({ code, name: 'bob' }) })).status).toBe(200)
    const carol = await startNode('carol')
    try {
      expectError(await call('POST', '/v1/contacts', { body: JSON.stringify({ code: await carol.createInvite(), name: 'bob' }) }), 409, 'ContactExistsError')
    } finally {
      await carol.stop()
    }
    expect((await alice.contacts()).map(c => c.name)).toEqual(['bob'])
  })

  it('answers 400 InvalidMessageError for a bad limit or before', async () => {
    await befriend(bob, alice, 'bob')
    expectError(await call('GET', '/v1/history/bob?limit=abc'), 400, 'InvalidMessageError')
    expectError(await call('GET', '/v1/history/bob?limit=-1'), 400, 'InvalidMessageError')
    expectError(await call('GET', '/v1/history/bob?limit=1.5'), 400, 'InvalidMessageError')
    expectError(await call('GET', '/v1/history/bob?before=x'), 400, 'InvalidMessageError')
    expect((await call('GET', '/v1/history/bob?limit=2&before=10')).body).toEqual([])
  })

  it('answers 400, not 500, for a contact name with broken percent-encoding', async () => {
    expectError(await call('GET', '/v1/history/%E0%A4%A'), 400, 'InvalidMessageError')
  })
})
