import { afterEach } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDeviceKey } from '@kith/crypto'
import { createKithNode } from '@kith/node'
import { memoryStore, openStore } from '@kith/store'
import type { KithNode, KithNodeOptions, MessageRecord } from '@kith/node'

/** Options for one test node. */
export interface TestNodeOptions extends Partial<KithNodeOptions> {
  /** Keep state in LevelDB under this folder instead of memory. */
  dbPath?: string
}

/** Start a node for tests: in-memory transport and store unless told otherwise, no mDNS. */
export async function startNode (name: string, options: TestNodeOptions = {}): Promise<KithNode> {
  const { dbPath, ...rest } = options
  const store = dbPath != null ? await openStore(dbPath) : await memoryStore()
  const node = await createKithNode({
    privateKey: options.privateKey ?? await generateDeviceKey(),
    name,
    store,
    transport: 'memory',
    mdns: false,
    ...rest
  })
  // The test owns the store: close it with the node.
  const stop = node.stop.bind(node)
  node.stop = async () => { await stop(); await store.close() }
  return node
}

/**
 * Wait until two new contacts hold each other's key package for groups (each hands the other
 * one when they become contacts) and have nothing else pending: the quiet state after befriending.
 */
export async function settled (a: KithNode, b: KithNode): Promise<void> {
  const holds = async (x: KithNode, y: KithNode): Promise<boolean> => await x.groups.canAdd(y.peerId.toString())
  await eventually(async () => await holds(a, b) && await holds(b, a) && a.status().pending === 0 && b.status().pending === 0, 20_000, 'key packages to be exchanged')
}

/** Make `a` and `b` contacts the way users do: `a` invites, `b` accepts. Resolves when both know each other. */
export async function befriend (a: KithNode, b: KithNode, aliasOfA = a.name): Promise<void> {
  const code = await a.createInvite()
  const introduced = waitFor(a, 'contact', c => c.peerId === b.peerId.toString())
  await b.acceptInvite(code, aliasOfA)
  await introduced
}

/** Resolve with the first event of `type` whose detail matches. */
export async function waitFor<T = any> (node: KithNode, type: 'message' | 'message:status' | 'contact', match: (detail: any) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { node.removeEventListener(type, listener); reject(new Error(`timed out waiting for ${type}`)) }, timeoutMs)
    const listener = (evt: CustomEvent): void => {
      if (!match(evt.detail)) return
      clearTimeout(timer)
      node.removeEventListener(type, listener)
      resolve(evt.detail)
    }
    node.addEventListener(type, listener)
  })
}

/** Poll `check` until it returns a truthy value, or fail after `timeoutMs`. For waiting, not for retrying assertions. */
export async function eventually<T> (check: () => Promise<T> | T, timeoutMs = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Wait until every listed message id is delivered in `node`'s history with `contact`. */
export async function allDelivered (node: KithNode, contact: string, ids: string[]): Promise<MessageRecord[]> {
  return await eventually(async () => {
    const history = await node.history(contact, { limit: 1000 })
    const delivered = history.filter(m => ids.includes(m.id) && m.status === 'delivered')
    return delivered.length === ids.length ? delivered : undefined
  }, 30_000, 'delivery')
}

/** A temporary folder, removed by the returned cleanup. */
export async function tempDir (prefix = 'kith-test-'): Promise<{ path: string, cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, cleanup: async () => { await rm(path, { recursive: true, force: true }) } }
}

/** Node options for hand-made envelopes: the signed clear-text format (encryption off). */
export const SIGNED_CLEAR = { messaging: { encryption: 'none' as const } }

/**
 * A `startNode` whose nodes are stopped after each test. Call at the top of a test file.
 */
export function trackNodes (): (name: string, options?: TestNodeOptions) => Promise<KithNode> {
  const running: KithNode[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map(async n => { if (n.libp2p.status === 'started') await n.stop() }))
  })
  return async (name, options = {}) => {
    const n = await startNode(name, options)
    running.push(n)
    return n
  }
}
