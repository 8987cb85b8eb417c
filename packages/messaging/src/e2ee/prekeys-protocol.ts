import { LIMITS, PREKEYS_PROTOCOL, lengthPrefixed } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import type { DeviceKeys } from './device-keys.js'
import type { EndToEnd } from './end-to-end.js'
import type { KithStore } from '@kith/store'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

const TIMEOUT_MS = 10_000

/**
 * `/kith/prekeys/1.0.0`: a contact's device (or one of ours) asks, we answer with one prekey bundle (handing out one
 * one-time prekey) and close. Strangers get nothing, so they can't drain the pool. The one-time prekey is recorded
 * as given before the bundle leaves, and concurrent requests get distinct ones (see {@link DeviceKeys.handOut}).
 */
export async function servePrekeys (registrar: Registrar, store: KithStore, e2e: EndToEnd, ownDevice: (peer: string) => boolean): Promise<void> {
  await registrar.handle(PREKEYS_PROTOCOL, (stream: Stream, connection: Connection) => {
    void (async () => {
      try {
        const peer = connection.remotePeer.toString()
        if (await store.getContactByDevice(peer) == null && !ownDevice(peer)) { stream.abort(new Error('not a contact')); return }
        const bundle = await e2e.keys.handOut()
        await lpStream(stream).write(bundle, { signal: AbortSignal.timeout(TIMEOUT_MS) })
        await stream.close()
      } catch (err: any) {
        stream.abort(err)
      }
    })()
  }, { maxInboundStreams: 4, runOnLimitedConnection: true })
}

/** Ask a contact's device for a prekey bundle. */
export async function fetchPrekeys (connectionManager: ConnectionManager, peer: PeerId): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  const stream = await connectionManager.openStream(peer, PREKEYS_PROTOCOL, { signal, runOnLimitedConnection: true })
  try {
    const bundle = await lpStream(stream, lengthPrefixed(LIMITS.maxBundleBytes)).read({ signal })
    await stream.close()
    return bundle.subarray()
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
