import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { request } from 'node:http'
import { readEndpoint, startApiServer } from '@kith/api'
import { befriend, tempDir, trackNodes } from '../helpers/testnet.js'
import { params, timeoutFor } from './helpers.js'

// The local API takes requests from programs on this machine that hold the token (the CLI,
// the web app, scripts): bodies, paths and queries are user input. A bad one is a 4xx with a
// named error, never a 500, and the daemon keeps serving.

const node = trackNodes()

/** Send one request; resolve with the status and the parsed body. */
async function send (url: string, token: string, method: string, path: string, body?: Buffer): Promise<{ status: number, body: any }> {
  return await new Promise((resolve, reject) => {
    const req = request(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body != null ? { 'content-type': 'application/json', 'content-length': body.length } : {}) },
      timeout: 20_000
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        try { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }) } catch { resolve({ status: res.statusCode ?? 0, body: text }) }
      })
    })
    req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: no answer in 20 s`)) })
    req.on('error', reject)
    req.end(body)
  })
}

// Routes that act on the machine or the node in ways a fuzzer must not (stop it, read or write
// files at random paths) get their input from the same generators, but with safe targets.
const SAFE_ROUTES: Array<[string, string]> = [
  ['POST', '/v1/invites'], ['POST', '/v1/contacts'], ['POST', '/v1/messages'], ['GET', '/v1/history/{x}'],
  ['POST', '/v1/conversations/{x}/read'], ['GET', '/v1/contacts/{x}/verification'], ['POST', '/v1/contacts/{x}/verification'],
  ['POST', '/v1/groups'], ['POST', '/v1/groups/{x}/members'], ['DELETE', '/v1/groups/{x}/members/{x}'], ['POST', '/v1/groups/{x}/admins'],
  ['POST', '/v1/groups/{x}/name'], ['POST', '/v1/groups/{x}/leave'], ['GET', '/v1/files/{x}'], ['GET', '/v1/mailboxes'],
  ['POST', '/v1/mailboxes'], ['DELETE', '/v1/mailboxes/{x}'], ['GET', '/v1/devices'], ['DELETE', '/v1/devices/{x}'],
  ['GET', '/v1/status'], ['GET', '/v1/contacts'], ['GET', '/v1/groups'], ['PUT', '/v1/status'], ['GET', '/v1/nothing/{x}']
]

describe('fuzz: local API', () => {
  it('answers any body, path and query with a 2xx or a named 4xx, never a 500, and keeps serving', async () => {
    const dir = await tempDir('kith-api-fuzz-')
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(alice, bob)
    const api = await startApiServer(alice, { home: dir.path })
    try {
      const { token } = await readEndpoint(dir.path)
      const segment = fc.oneof(
        fc.constantFrom('bob', bob.peerId.toString(), 'nobody', '%', '%E0%A4%A', '..', '%2F', 'x'.repeat(300)),
        fc.string({ maxLength: 20 }).map(encodeURIComponent),
        fc.stringMatching(/^[A-Za-z0-9%._~-]{0,30}$/)
      )
      const value = fc.oneof(fc.constantFrom('bob', 'nobody', '', 'kith1AAAA', 'mark', 'accept', bob.peerId.toString()), fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }))
      const body = fc.oneof(
        fc.record({ to: value, text: value, code: value, name: value, contact: value, action: value, op: value }, { requiredKeys: [] }).map(b => Buffer.from(JSON.stringify(b))),
        fc.json().map(j => Buffer.from(j)),
        fc.uint8Array({ maxLength: 200 }).map(b => Buffer.from(b)),
        fc.string({ maxLength: 100 }).map(s => Buffer.from(s))
      )
      const query = fc.oneof(fc.constant(''), fc.tuple(fc.constantFrom('limit', 'before', 'x'), fc.oneof(fc.nat().map(String), fc.string({ maxLength: 10 }).map(encodeURIComponent), fc.constantFrom('-1', '1e400', ' ', '9007199254740993'))).map(([k, v]) => `?${k}=${v}`))
      const route = fc.tuple(fc.constantFrom(...SAFE_ROUTES), fc.array(segment, { minLength: 2, maxLength: 2 }), query)
        .map(([[method, path], [a, b], q]) => [method, path.replace('{x}', a as string).replace('{x}', b as string) + q] as const)
      const failures: string[] = []
      await fc.assert(fc.asyncProperty(route, fc.option(body), async ([method, path], payload) => {
        const res = await send(api.url, token, method, path, method === 'POST' ? payload ?? undefined : undefined)
        if (res.status >= 500) failures.push(`${method} ${path} ${payload?.toString('hex').slice(0, 80)} -> ${res.status} ${JSON.stringify(res.body)}`)
        expect(res.status).toBeLessThan(500)
        if (res.status >= 400) expect(res.body?.error?.name).toMatch(/Error$/)
      }), params(0.5))
      expect(failures).toEqual([])
      const oversized = await send(api.url, token, 'POST', '/v1/messages', Buffer.alloc(10 * 1024 * 1024, 0x20))
      expect(oversized.status).toBe(413)
      expect((await send(api.url, token, 'GET', '/v1/status')).status).toBe(200)
      const sent = await send(api.url, token, 'POST', '/v1/messages', Buffer.from(JSON.stringify({ to: 'bob', text: 'still here' })))
      expect(sent.status).toBe(200)
    } finally {
      await api.close()
      await dir.cleanup()
    }
  }, timeoutFor(60, 0.5))
})
