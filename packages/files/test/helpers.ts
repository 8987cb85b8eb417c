import { randomBytes } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryStore } from '@kith/store'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { files } from '../src/index.js'
import type { Files, FilesInit } from '../src/index.js'
import type { KithStore } from '@kith/store'
import type { Libp2p } from '@libp2p/interface'

/** Text planted in every test file, to look for in the blob folder. */
export const MARKER = 'KITH-PLAINTEXT-MARKER-7f3a9c'

/** A fresh temporary folder; removed by {@link cleanup}. */
const temps: string[] = []
export async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-files-test-'))
  temps.push(dir)
  return dir
}
export async function cleanup (): Promise<void> {
  await Promise.all(temps.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
}

/** A file of `size` bytes: random data with {@link MARKER} planted every 64 KiB. Written in 1 MiB pieces. */
export async function writeTestFile (path: string, size: number): Promise<void> {
  const fh = await open(path, 'w')
  try {
    for (let at = 0; at < size; at += 1 << 20) {
      const piece = randomBytes(Math.min(1 << 20, size - at))
      for (let k = 0; k + MARKER.length <= piece.length; k += 65536) piece.write(MARKER, k, 'ascii')
      await fh.write(piece, 0, piece.length, at)
    }
  } finally {
    await fh.close()
  }
}

export interface TestNode {
  node: Libp2p<{ files: Files }>
  files: Files
  store: KithStore
  dir: string
  id: string
}

/** A libp2p node over TCP on 127.0.0.1 with a files service on a temp folder and an in-memory store. */
export async function startNode (options: { authorize?: FilesInit['authorize'], store?: KithStore, dir?: string, tuning?: FilesInit['tuning'], serving?: FilesInit['serving'] } = {}): Promise<TestNode> {
  const store = options.store ?? await memoryStore()
  const dir = options.dir ?? await tempDir()
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] },
    services: {
      files: files({ store, dir, authorize: options.authorize ?? (() => true), tuning: { refreshMs: 500, unavailableMs: 5_000, ...options.tuning }, ...(options.serving != null ? { serving: options.serving } : {}) })
    }
  })
  return { node, files: node.services.files, store, dir, id: node.peerId.toString() }
}

/** Connect every pair, so streams can be opened by peer id. */
export async function connectAll (nodes: Array<{ node: Libp2p<any> }>): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      await (nodes[i] as { node: Libp2p<any> }).node.dial((nodes[j] as { node: Libp2p<any> }).node.getMultiaddrs())
    }
  }
}

/** Whether `needle` occurs anywhere in the file at `path` (read in pieces, overlapping by the needle's length). */
export async function fileContains (path: string, needle: string): Promise<boolean> {
  const fh = await open(path, 'r')
  const pattern = Buffer.from(needle)
  const buf = Buffer.alloc(1 << 20)
  try {
    for (let at = 0; ; at += buf.length - pattern.length) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at)
      if (bytesRead === 0) return false
      if (buf.subarray(0, bytesRead).includes(pattern)) return true
      if (bytesRead < buf.length) return false
    }
  } finally {
    await fh.close()
  }
}

/** SHA-256 of a file, to compare contents. */
export async function digest (path: string): Promise<string> {
  const { createHash } = await import('node:crypto')
  const hash = createHash('sha256')
  const fh = await open(path, 'r')
  try {
    for await (const piece of fh.createReadStream()) hash.update(piece as Buffer)
  } finally {
    await fh.close().catch(() => {})
  }
  return hash.digest('hex')
}
