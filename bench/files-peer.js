// The receiving side of the floors in bench/files.js, in its own process: a raw TCP sink and a
// raw libp2p stream sink, each writing what arrives to a file and syncing it, as Kith does.
import { createServer } from 'node:net'
import { open, rm } from 'node:fs/promises'
import { FILE_PROTOCOL, createRawNode, serveParent } from './lib.js'

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

/**
 * A libp2p stream's data as an async iterable, listening from the moment it is called (a libp2p
 * 3 stream aborts once 4 MiB arrive with no one listening). Nothing holds the sender back but
 * yamux's window: the floor gets every advantage.
 */
function paced (stream) {
  const queue = []
  let ended = false
  let wake
  const notify = () => { wake?.(); wake = undefined }
  stream.addEventListener('message', (evt) => { queue.push(evt.data); notify() })
  stream.addEventListener('remoteCloseWrite', () => { ended = true; notify() })
  stream.addEventListener('close', () => { ended = true; notify() })
  return (async function * () {
    while (true) {
      if (queue.length > 0) { yield queue.shift(); continue }
      if (ended) return
      await new Promise(resolve => { wake = resolve })
    }
  })()
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
        const total = await sink(path, paced(stream))
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
