// The receiving side of the floors in bench/files.js, in its own process: a raw TCP sink and a
// raw libp2p stream sink, each writing what arrives to a file and syncing it, as Kith does.
import { createServer } from 'node:net'
import { open, rm } from 'node:fs/promises'
import { byteStream } from '@libp2p/utils'
import { createRawNode, serveParent } from './lib.js'

export const FILE_PROTOCOL = '/bench/file/1.0.0'

let server
let node
/** What arrived last, per sink: resolved when a whole transfer is on disk. */
const arrivals = { tcp: undefined, libp2p: undefined }

/** Write chunks to `path` as they come; resolves with the byte count once synced. */
async function sink (path, chunks) {
  const file = await open(path, 'w')
  let bytes = 0
  try {
    for await (const chunk of chunks) {
      const buf = chunk.subarray != null ? chunk.subarray() : chunk
      await file.write(buf)
      bytes += buf.length
    }
    await file.datasync()
  } finally {
    await file.close()
  }
  return bytes
}

serveParent({
  /** Listen on raw TCP and on a raw libp2p protocol; each connection's bytes go to `path`. */
  async listen ({ path }) {
    server = createServer(socket => {
      arrivals.tcp = sink(path, socket)
    })
    await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
    node = await createRawNode()
    await node.handle(FILE_PROTOCOL, (stream) => {
      arrivals.libp2p = (async () => {
        const bytes = byteStream(stream, { maxBufferSize: 8 * 1024 * 1024 })
        const chunks = {
          async * [Symbol.asyncIterator] () {
            while (true) {
              const chunk = await bytes.read().catch(() => null)
              if (chunk == null) return
              yield chunk
            }
          }
        }
        const total = await sink(path, chunks)
        await stream.close().catch(() => {})
        return total
      })()
    })
    return { tcpPort: server.address().port, addrs: node.getMultiaddrs().map(String) }
  },
  /** Wait for the current transfer on a sink to be on disk; its byte count. */
  async received ({ kind }) {
    while (arrivals[kind] == null) await new Promise(resolve => setTimeout(resolve, 5))
    const bytes = await arrivals[kind]
    arrivals[kind] = undefined
    return bytes
  },
  async remove ({ path }) { await rm(path, { force: true }) },
  async stop () { await shutdown() }
}, shutdown)

async function shutdown () {
  server?.close()
  await node?.stop()
}
