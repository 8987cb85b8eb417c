import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ed25519Sign, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { PresenceRecord } from '../src/proto/presence.js'
import type { PresenceFields } from '../src/index.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A user with one device: its identity key, the device's key and peer id, the certificate. */
export interface User {
  identityKey: PrivateKey
  deviceKey: PrivateKey
  device: PeerId
  certificate: Uint8Array
}

export async function makeUser (deviceKey?: PrivateKey): Promise<User> {
  const identityKey = await generateIdentityKey()
  deviceKey ??= await generateKeyPair('Ed25519')
  return { identityKey, deviceKey, device: peerIdFromPrivateKey(deviceKey), certificate: issueDeviceCertificate(identityKey, deviceKey.publicKey) }
}

export const NOW = 1_760_000_000_000
export const RELAY_PEER = '12D3KooWETbo6DT7SdF52hPBD7VYjK7KwadWAVkJU5ff4BcJFxmo'
export const FRIEND_PEER = '12D3KooWCYTWTTy3YMwhV3GCZFuP7KSJEtCesM4GLhbKTHwag85p'

/** Typical fields: two addresses, a relay, a mailbox, a prekey bundle. */
export function fieldsOf (user: User, overrides: Partial<PresenceFields> = {}): PresenceFields {
  return {
    seq: NOW,
    certificate: user.certificate,
    device: user.device,
    addrs: [multiaddr('/ip4/192.168.1.20/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1')],
    relays: [multiaddr(`/ip4/1.2.3.4/tcp/4001/p2p/${RELAY_PEER}/p2p-circuit`)],
    mailboxes: [multiaddr(`/ip4/5.6.7.8/tcp/4001/p2p/${FRIEND_PEER}`)],
    prekeys: new Uint8Array(100).fill(7),
    relay: true,
    ...overrides
  }
}

/**
 * The raw PresenceRecord of a valid record, for building what signPresence refuses to.
 */
export function rawFieldsOf (user: User, seq = NOW): PresenceRecord {
  return {
    version: 1,
    identity: new Uint8Array(publicKeyToProtobuf(user.identityKey.publicKey)),
    seq: BigInt(seq),
    certificate: new Uint8Array(user.certificate),
    device: new Uint8Array(user.device.toMultihash().bytes),
    addrs: [new Uint8Array(multiaddr('/ip4/192.168.1.20/tcp/4001').bytes)],
    relays: [],
    mailboxes: [],
    relay: false
  }
}

/** Sign any PresenceRecord as the format says (label, then the record without signature). */
export function signRaw (signer: PrivateKey, record: PresenceRecord): Uint8Array {
  const { signature: _, ...unsigned } = record
  const signed = Buffer.concat([Buffer.from('kith/presence/v1'), PresenceRecord.encode(unsigned)])
  return PresenceRecord.encode({ ...unsigned, signature: new Uint8Array(ed25519Sign(signer, signed)) })
}

/** Sign the bytes of a record without signature, whatever they hold, and append the signature. */
export function signEncoded (signer: PrivateKey, unsigned: Uint8Array): Uint8Array {
  const signature = new Uint8Array(ed25519Sign(signer, Buffer.concat([Buffer.from('kith/presence/v1'), unsigned])))
  return Buffer.concat([unsigned, PresenceRecord.encode({ signature } as PresenceRecord)])
}

/** Assert that `fn` throws an InvalidPresenceError for `reason`. */
export function reasonOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err: any) {
    if (err?.name !== 'InvalidPresenceError') throw err
    return err.reason
  }
  throw new Error('did not throw')
}
