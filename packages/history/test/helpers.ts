import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDataKey, openRecord, sealRecord } from '@kith/crypto'
import { openStore } from '@kith/store'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { historySync } from '../src/index.js'
import type { HistorySync, HistorySyncInit } from '../src/index.js'
import type { ImportedMessage, KithStore, MessageRecord, RecordCipher } from '@kith/store'
import type { Libp2p } from '@libp2p/interface'

const temps: string[] = []
export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-history-test-'))
  temps.push(dir)
  return dir
}
export async function cleanup (): Promise<void> {
  await Promise.all(temps.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
}

/** Encryption at rest as a node runs it: every stored value sealed under a fresh data key. */
export function atRestCipher (): RecordCipher {
  const dataKey = generateDataKey()
  return { seal: (aad, plaintext) => sealRecord(dataKey, aad, plaintext), open: (aad, sealed) => openRecord(dataKey, aad, sealed) }
}

/** A plain libp2p node over TCP on 127.0.0.1: TCP, Noise, yamux. */
export async function bareNode (services: Record<string, any> = {}): Promise<Libp2p<any>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] },
    services
  })
}

export interface Device {
  node: Libp2p<{ history: HistorySync }>
  history: HistorySync
  store: KithStore
  id: string
}

/**
 * One device: a libp2p node with the history service, on a LevelDB store sealed at rest in a
 * temp folder. `own` holds the peer ids of the user's devices (this one is added to it).
 */
export async function device (own: Set<string>, tuning?: HistorySyncInit['tuning']): Promise<Device> {
  const store = await openStore(join(await tempDir(), 'db'), atRestCipher())
  const node = await bareNode({ history: historySync({ store, isOwnDevice: (peer) => own.has(peer.toString()), ...(tuning != null ? { tuning } : {}) }) })
  own.add(node.peerId.toString())
  const stop = node.stop.bind(node)
  node.stop = async () => { await stop(); await store.close() }
  return { node, history: node.services.history, store, id: node.peerId.toString() }
}

/** Peer ids of contacts: the conversations. */
export const CONTACTS = Array.from({ length: 5 }, (_, i) => `12D3KooWContact${i}${'x'.repeat(37)}`)

/**
 * `count` messages in `CONTACTS.length` conversations, one every `step` ms from `start`, a
 * mix of incoming and outgoing (from `me`), a few carrying files.
 */
export function messages (me: string, count: number, start = 1_700_000_000_000, step = 1000): ImportedMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const conversation = CONTACTS[i % CONTACTS.length] as string
    const out = i % 3 === 0
    const message: ImportedMessage = { id: randomBytes(16).toString('hex'), conversation, from: out ? me : conversation, text: `message ${i} ${'·'.repeat(i % 50)}`, ts: start + i * step, status: out ? 'delivered' : 'received' }
    if (i % 101 === 5) return { ...message, text: `\uFEFFstarts with a BOM, then emoji 😀 and ${'ü'.repeat(i % 7)}` }
    if (i % 97 === 0) return { ...message, text: '', file: { hash: randomBytes(32).toString('hex'), key: randomBytes(32).toString('hex'), size: 1000 + i, name: `photo ${i}.jpg`, type: 'image/jpeg' } }
    return message
  })
}

/** Write messages to a device's history through the store, as messaging does (incoming in batches, outgoing one by one). */
export async function write (store: KithStore, list: ImportedMessage[]): Promise<void> {
  const incoming = list.filter(m => m.status === 'received')
  for (let i = 0; i < incoming.length; i += 500) await store.appendIncomingMany(incoming.slice(i, i + 500))
  for (const m of list.filter(m => m.status !== 'received')) {
    const { status: _, ...rest } = m
    await store.appendOutgoing(rest, new Uint8Array([1, 2, 3]))
  }
}

/**
 * Everything a device's history holds, per conversation, with seqs left out: in the order of
 * its seqs, or with `byTime` in (ts, id) order (a device's seqs are the order messages reached
 * it, which a sync in several rounds need not keep).
 */
export async function historyOf (store: KithStore, byTime = false): Promise<Record<string, Array<Omit<MessageRecord, 'seq'>>>> {
  const out: Record<string, Array<Omit<MessageRecord, 'seq'>>> = {}
  const entries = await store.historySyncEntries()
  for (const conversation of [...entries.conversations].sort()) {
    const records: MessageRecord[] = []
    for (let page = await store.history(conversation, { limit: 1000 }); page.length > 0; page = await store.history(conversation, { limit: 1000, before: (page[0] as MessageRecord).seq })) records.unshift(...page)
    if (byTime) records.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1))
    out[conversation] = records.map(({ seq: _, ...rest }) => rest)
  }
  return out
}

/** Ids of a device's history, sorted, to compare sets. */
export async function idsOf (store: KithStore): Promise<string[]> {
  const entries = await store.historySyncEntries()
  const ids: string[] = []
  for (let i = 0; i < entries.count; i++) ids.push(Buffer.from(entries.ids.subarray(16 * i, 16 * i + 16)).toString('hex'))
  return ids.sort()
}
