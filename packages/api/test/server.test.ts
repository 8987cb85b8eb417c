import { afterEach, describe, expect, it } from 'vitest'
import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { API_FILE, KithClient, TOKEN_FILE, readEndpoint, startApiServer } from '@kith/api'
import { befriend, eventually, startNode, tempDir, waitFor } from '../../../test/helpers/testnet.js'
import type { ApiEvent, ApiServer } from '@kith/api'
import type { KithNode } from '@kith/node'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  // Last started, first stopped: servers close before the nodes they serve.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function node (name: string): Promise<KithNode> {
  const n = await startNode(name)
  cleanups.push(async () => { await n.stop() })
  return n
}

async function serve (n: KithNode, onShutdown?: () => void): Promise<{ api: ApiServer, home: string, client: KithClient }> {
  const dir = await tempDir('kith-api-')
  cleanups.push(dir.cleanup)
  const api = await startApiServer(n, { home: dir.path, ...(onShutdown != null ? { onShutdown } : {}) })
  cleanups.push(async () => { await api.close() })
  return { api, home: dir.path, client: await KithClient.fromHome(dir.path) }
}

async function exists (path: string): Promise<boolean> {
  try { await access(path); return true } catch { return false }
}

async function errorName (promise: Promise<unknown>): Promise<string> {
  try { await promise } catch (err: any) { return err?.name }
  throw new Error('expected a rejection')
}

/** Connect to `host:port`; resolve with the error code, or 'connected'. */
async function tryConnect (host: string, port: number): Promise<string> {
  return await new Promise(resolve => {
    const socket = connect({ host, port })
    socket.once('connect', () => { socket.destroy(); resolve('connected') })
    socket.once('error', (err: any) => { resolve(err.code) })
  })
}

describe('API server files', () => {
  it('writes api.json and a 0600 token, binds to 127.0.0.1 only, and removes api.json on close', async () => {
    const alice = await node('alice')
    const { api, home } = await serve(alice)

    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(JSON.parse(await readFile(join(home, API_FILE), 'utf8'))).toEqual({ url: api.url, pid: process.pid })
    const tokenStat = await stat(join(home, TOKEN_FILE))
    expect(tokenStat.mode & 0o777).toBe(0o600)
    const endpoint = await readEndpoint(home)
    expect(endpoint.url).toBe(api.url)
    expect(Buffer.from(endpoint.token, 'base64url')).toHaveLength(32)

    const port = Number(new URL(api.url).port)
    expect(await tryConnect('127.0.0.1', port)).toBe('connected')
    // All of 127/8 is loopback on Linux: a server on 0.0.0.0 would answer here too.
    expect(await tryConnect('127.0.0.2', port)).not.toBe('connected')

    await api.close()
    expect(await exists(join(home, API_FILE))).toBe(false)
  })

  it('issues a fresh token at every start, and keeps it private even if the file was opened up', async () => {
    const alice = await node('alice')
    const dir = await tempDir('kith-api-')
    cleanups.push(dir.cleanup)
    const first = await startApiServer(alice, { home: dir.path })
    const firstToken = (await readEndpoint(dir.path)).token
    await first.close()
    await chmod(join(dir.path, TOKEN_FILE), 0o644)
    const second = await startApiServer(alice, { home: dir.path })
    cleanups.push(async () => { await second.close() })
    expect((await readEndpoint(dir.path)).token).not.toBe(firstToken)
    expect((await stat(join(dir.path, TOKEN_FILE))).mode & 0o777).toBe(0o600)
    // The old token no longer opens anything.
    const old = new KithClient({ url: second.url, token: firstToken })
    expect(await errorName(old.status())).toBe('UnauthorizedError')
  })

  it('serves on the requested port, and fails without writing api.json when it is taken', async () => {
    const alice = await node('alice')
    const { api } = await serve(alice)
    const port = Number(new URL(api.url).port)
    const dir = await tempDir('kith-api-')
    cleanups.push(dir.cleanup)
    await expect(startApiServer(alice, { home: dir.path, port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(await exists(join(dir.path, API_FILE))).toBe(false)
    await api.close()
    const again = await startApiServer(alice, { home: dir.path, port })
    cleanups.push(async () => { await again.close() })
    expect(again.url).toBe(`http://127.0.0.1:${port}`)
    expect((await (await KithClient.fromHome(dir.path)).status()).peerId).toBe(alice.peerId.toString())
  })
})

describe('KithClient against a running node', () => {
  it('reports status with the documented shape', async () => {
    const alice = await node('alice')
    const { client } = await serve(alice)
    const status = await client.status()
    expect(Object.keys(status).sort()).toEqual(['addresses', 'connections', 'files', 'identity', 'metrics', 'name', 'network', 'peerId', 'pending', 'pid'])
    expect(status).toMatchObject({ peerId: alice.peerId.toString(), name: 'alice', connections: 0, pending: 0, pid: process.pid })
    expect(status.addresses.length).toBeGreaterThan(0)
    expect(Object.keys(status.metrics).sort()).toEqual(['delivered', 'deposited', 'drained', 'duplicates', 'forged', 'invalid', 'noSession', 'notYet', 'rateLimited', 'receipted', 'received', 'refusedNotContact', 'replayed', 'resets', 'transmitted'])
    expect(status.network).toMatchObject({ reachability: 'offline', relays: [], relayAddresses: [], mailboxes: [], waitingInMailboxes: 0, presenceRefused: {} })
    expect(status.files).toEqual({ servedBytes: 0, servedChunks: 0, fetchedBytes: 0, badChunks: 0, refused: {}, invalidRequests: 0, idleStreams: 0, downloads: 0 })
  })

  it('invites, accepts and lists contacts', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    const { client } = await serve(alice)

    // Alice's invite, accepted by bob.
    const { code } = await client.invite()
    expect(code).toMatch(/^kith1/)
    const introduced = waitFor(alice, 'contact')
    await bob.acceptInvite(code, 'alice')
    await introduced

    // Carol's invite, accepted through the API.
    const carol = await node('carol')
    const accepted = await client.accept(await carol.createInvite(), 'caz')
    expect(accepted).toEqual({ contact: 'caz', peerId: carol.peerId.toString() })

    const contacts = await eventually(async () => {
      const list = await client.contacts()
      return list.every(c => c.online) ? list : undefined
    }, 20_000, 'contacts online')
    expect(contacts).toEqual([
      { name: 'bob', peerId: bob.peerId.toString(), online: true, connection: 'direct', verified: false, identityChanged: false, groupReady: expect.any(Boolean), devices: 1, unread: 0 },
      { name: 'caz', peerId: carol.peerId.toString(), online: true, connection: 'direct', verified: false, identityChanged: false, groupReady: expect.any(Boolean), devices: 1, unread: 0 }
    ])
  })

  it('sends a message and returns its view', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(bob, alice, 'bob')
    const { client } = await serve(alice)

    const before = Date.now()
    const sent = await client.send('bob', 'hello bob')
    expect(Object.keys(sent).sort()).toEqual(['contact', 'from', 'fromName', 'id', 'pending', 'seq', 'status', 'text', 'ts'])
    expect(sent.pending).toBe('waiting to reach bob')
    expect(sent).toMatchObject({ from: alice.peerId.toString(), fromName: 'me', contact: 'bob', text: 'hello bob', status: 'queued' })
    expect(sent.id).toMatch(/^[0-9a-f]{32}$/)
    expect(sent.ts).toBeGreaterThanOrEqual(before)
    expect(Number.isInteger(sent.seq)).toBe(true)

    // By peer id works as well as by name.
    const again = await client.send(bob.peerId.toString(), 'second')
    expect(again.contact).toBe('bob')
    expect(again.seq).toBeGreaterThan(sent.seq)
    const received = await eventually(async () => {
      const history = await bob.history('alice')
      return history.length === 2 ? history : undefined
    }, 20_000, 'bob receiving both')
    expect(received.map(m => m.text)).toEqual(['hello bob', 'second'])
  })

  it('pages history with limit and before, oldest first', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    await befriend(bob, alice, 'bob')
    const { client } = await serve(alice)
    for (let i = 0; i < 7; i++) await client.send('bob', `m${i}`)

    const all = await client.history('bob')
    expect(all.map(m => m.text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    const latest = await client.history('bob', { limit: 3 })
    expect(latest.map(m => m.text)).toEqual(['m4', 'm5', 'm6'])
    const earlier = await client.history('bob', { limit: 3, before: latest[0]?.seq ?? -1 })
    expect(earlier.map(m => m.text)).toEqual(['m1', 'm2', 'm3'])
    const first = await client.history('bob', { limit: 3, before: earlier[0]?.seq ?? -1 })
    expect(first.map(m => m.text)).toEqual(['m0'])

    // Incoming messages carry the contact's alias and status `received`.
    const reply = waitFor(alice, 'message')
    await bob.send('alice', 'a reply')
    await reply
    const last = (await client.history('bob', { limit: 1 }))[0]
    expect(last).toMatchObject({ text: 'a reply', from: bob.peerId.toString(), fromName: 'bob', contact: 'bob', status: 'received' })
  })

  it('asks the daemon to shut down through onShutdown', async () => {
    const alice = await node('alice')
    let calls = 0
    const { client } = await serve(alice, () => { calls++ })
    await client.shutdown()
    await eventually(() => calls === 1, 5_000, 'onShutdown')
    expect(calls).toBe(1)
  })
})

describe('event stream', () => {
  it('streams contact, message and status events in the order the node emitted them', async () => {
    const alice = await node('alice')
    const bob = await node('bob')
    const { client } = await serve(alice)

    const fromNode: string[] = []
    for (const type of ['contact', 'message', 'message:status'] as const) {
      alice.addEventListener(type, (evt: CustomEvent) => {
        fromNode.push(type === 'contact' ? `contact:${evt.detail.name}` : `${type === 'message' ? 'message' : 'status'}:${evt.detail.text}:${evt.detail.status}`)
      })
    }
    const events: ApiEvent[] = []
    const unsubscribe = await client.events(event => { events.push(event) })
    cleanups.push(async () => { unsubscribe() })

    const { code } = await client.invite()
    await bob.acceptInvite(code, 'alice')
    await eventually(() => events.some(e => e.type === 'contact'), 20_000, 'contact event')
    expect(events.find(e => e.type === 'contact')).toEqual({ type: 'contact', contact: { name: 'bob', peerId: bob.peerId.toString() } })

    await bob.send('alice', 'from bob')
    const sent = await client.send('bob', 'to bob')
    await eventually(() => events.some(e => e.type === 'message') && events.some(e => e.type === 'status' && e.message.status === 'delivered'), 20_000, 'message and delivery events')
    await eventually(() => events.length === fromNode.length, 5_000, 'stream catching up with the node')

    const incoming = events.find(e => e.type === 'message')
    expect(incoming).toMatchObject({ type: 'message', message: { text: 'from bob', fromName: 'bob', contact: 'bob', from: bob.peerId.toString(), status: 'received' } })
    const delivered = events.find(e => e.type === 'status' && e.message.status === 'delivered')
    expect(delivered).toMatchObject({ type: 'status', message: { id: sent.id, text: 'to bob', fromName: 'me', contact: 'bob', seq: sent.seq } })

    const seen = events.map(e => e.type === 'contact' ? `contact:${e.contact.name}` : `${e.type}:${e.message.text}:${e.message.status}`)
    expect(seen).toEqual(fromNode)
  })
})

describe('event stream end', () => {
  it('tells the subscriber when the daemon goes away, and not after unsubscribing', async () => {
    const alice = await node('alice')
    const { api, client } = await serve(alice)
    let closedA = 0
    let closedB = 0
    await client.events(() => {}, () => { closedA++ })
    const unsubscribe = await client.events(() => {}, () => { closedB++ })
    unsubscribe()
    await api.close()
    await eventually(() => closedA === 1, 5_000, 'onClose')
    expect(closedB).toBe(0)
  })
})

describe('KithClient without a daemon', () => {
  it('throws NodeNotRunningError when the home has no api.json', async () => {
    const dir = await tempDir('kith-api-')
    cleanups.push(dir.cleanup)
    expect(await errorName(KithClient.fromHome(dir.path))).toBe('NodeNotRunningError')
  })

  it('fails with NodeNotRunningError when api.json points at a closed port', async () => {
    const alice = await node('alice')
    const { api, home } = await serve(alice)
    const stale = await tempDir('kith-api-stale-')
    cleanups.push(stale.cleanup)
    // A crashed daemon leaves its files behind.
    await writeFile(join(stale.path, API_FILE), await readFile(join(home, API_FILE)))
    await writeFile(join(stale.path, TOKEN_FILE), await readFile(join(home, TOKEN_FILE)))
    await api.close()

    const client = await KithClient.fromHome(stale.path)
    expect(await errorName(client.status())).toBe('NodeNotRunningError')
    expect(await errorName(client.send('bob', 'hi'))).toBe('NodeNotRunningError')
    expect(await errorName(client.events(() => {}))).toBe('NodeNotRunningError')
  })
})
