import { DM_PROTOCOL, ENCRYPTION_NONE, ENVELOPE_VERSION, Ack, Envelope, MessageKind, random } from '@kith/core'
import { signMessage } from '@kith/crypto'
import { lpStream } from '@libp2p/utils'
import type { KithNode } from '@kith/node'
import type { Ack as AckType, Message } from '@kith/core'
import type { PrivateKey } from '@libp2p/interface'

/** Build a signed envelope by hand, as a (possibly malicious) peer would. */
export async function makeEnvelope (key: PrivateKey, to: KithNode, text: string, overrides: Partial<Envelope> = {}, message: Partial<Message> = {}): Promise<Uint8Array> {
  const id = overrides.id ?? random(16)
  const recipient = overrides.recipient ?? new Uint8Array(to.peerId.toMultihash().bytes)
  const timestamp = overrides.timestamp ?? BigInt(Date.now())
  const body = await signMessage(key, { id, recipient, timestamp }, { kind: MessageKind.TEXT, text, name: '', inviteToken: new Uint8Array(), addrs: [], certificate: new Uint8Array(), ...message })
  return Envelope.encode({ version: ENVELOPE_VERSION, id, recipient, timestamp, encryption: ENCRYPTION_NONE, body: new Uint8Array(body), ...overrides })
}

/** Open a raw /kith/dm stream from `from` to `to`: write frames, read acks. */
export async function rawDmStream (from: KithNode, to: KithNode): Promise<{ write: (frame: Uint8Array) => Promise<void>, readAck: () => Promise<AckType>, close: () => Promise<void> }> {
  await from.libp2p.peerStore.merge(to.peerId, { multiaddrs: to.libp2p.getMultiaddrs() })
  const stream = await from.libp2p.dialProtocol(to.peerId, DM_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
  return {
    write: async (frame) => { await lp.write(frame) },
    readAck: async () => Ack.decode(await lp.read({ signal: AbortSignal.timeout(10_000) })),
    close: async () => { await stream.close() }
  }
}
