import { hostname } from 'node:os'
import { join } from 'node:path'
import { InvalidLinkCodeError, LINK_PROTOCOL } from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { comparisonCode, decodeContact, decodeLinkCode, linkProof, requestLink } from '@kith/devices'
import { openStore } from '@kith/store'
import { noise } from '@libp2p/noise'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import * as Digest from 'multiformats/hashes/digest'
import { recordCipher } from './data-key.js'
import { ADDRS_SECRET, HISTORY_SINCE, LIST_SECRET, withDevices } from './devices.js'
import { HOME_FILES, initLinkedHome } from './home.js'
import type { HomeOptions } from './home.js'
import type { PeerId } from '@libp2p/interface'

/** What `kith init --link` reports. */
export interface LinkedHome {
  /** This new device's peer id. */
  device: string
  /** The six digits the identity device shows too. */
  comparison: string
  /** The account's profile name. */
  name: string
  /** Contacts handed over. */
  contacts: number
}

export interface LinkHomeOptions extends HomeOptions {
  /** What to call this device on the others (default: the host name). */
  deviceName?: string
  /** How far back to fetch history from the other devices, ms since the epoch (default: all of it). */
  historySince?: number
  /**
   * The identity device holds the link until its user confirms that both screens show the same
   * comparison code: show `comparison` now (linkHome resolves once the user has confirmed).
   */
  onComparison?: (comparison: string) => void
  signal?: AbortSignal
}

/**
 * Join an existing identity from a link code: make a device key, reach the identity device
 * named in the code over Noise, prove the code's secret, wait while its user confirms the
 * comparison code, and write a home with the certificate, the device list and the contacts it
 * hands over (docs/devices.md). Nothing is written unless the link is confirmed.
 *
 * @throws {LinkRejectedError} when the user on the identity device declined, or did not answer in time
 * @throws {InvalidLinkCodeError | LinkCodeExpiredError | LinkCodeUsedError} as the code or the identity device says
 * @throws {IdentityExistsError} when `home` already holds an identity
 */
export async function linkHome (home: string, code: string, options: LinkHomeOptions = {}): Promise<LinkedHome> {
  const link = decodeLinkCode(code)
  let identityDevice: PeerId
  try {
    identityDevice = peerIdFromMultihash(Digest.decode(link.peerId))
  } catch {
    throw new InvalidLinkCodeError('link code holds no valid device id')
  }
  const privateKey = await generateDeviceKey()
  const libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8', '/ip6/::1/ipcidr/128'] }
  })
  try {
    const addrs = link.addrs.flatMap(a => { try { return [multiaddr(a).encapsulate(`/p2p/${identityDevice.toString()}`)] } catch { return [] } })
    if (addrs.length === 0) throw new InvalidLinkCodeError('link code holds no address to reach the identity device')
    const signal = options.signal ?? AbortSignal.timeout(30_000)
    let stream
    try {
      stream = await libp2p.dialProtocol(addrs, LINK_PROTOCOL, { signal })
    } catch (err: any) {
      throw new InvalidLinkCodeError(`could not reach the device that made this code (is its node running?): ${err.message}`, { cause: err })
    }
    const name = (options.deviceName ?? hostname()).slice(0, 64)
    const comparison = comparisonCode(link.secret, identityDevice, libp2p.peerId)
    const result = await requestLink(stream, libp2p.peerId, { proof: new Uint8Array(linkProof(link.secret, identityDevice, libp2p.peerId)), name }, {
      onWaiting: () => { options.onComparison?.(comparison) },
      waitUntil: link.expires
    })
    const contacts = result.contacts.flatMap(bytes => { try { return [withDevices(decodeContact(bytes))] } catch { return [] } })
    await initLinkedHome(home, { privateKey, certificate: new Uint8Array(result.certificate), name: result.name }, options, async (dataKey) => {
      const store = await openStore(join(home, HOME_FILES.db), recordCipher(dataKey))
      try {
        await store.commit([
          store.putSecret(LIST_SECRET, result.list.bytes),
          // Where to find the identity device after a restart: where the code said it listens.
          store.putSecret(ADDRS_SECRET, { [identityDevice.toString()]: link.addrs.flatMap(a => { try { return [multiaddr(a).toString()] } catch { return [] } }) }),
          ...(options.historySince != null ? [store.putSecret(HISTORY_SINCE, options.historySince)] : []),
          ...contacts.map(c => store.contactOp(c))
        ])
      } finally {
        await store.close()
      }
    })
    return { device: libp2p.peerId.toString(), comparison, name: result.name, contacts: contacts.length }
  } finally {
    await libp2p.stop()
  }
}
