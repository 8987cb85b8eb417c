// A peer that is nobody's friend, run inside a rig namespace by test/e2e-reach.test.ts:
//   node stranger.mjs RELAY_MULTIADDR RECIPIENT_PEER_ID
// It asks the relay for a circuit relay reservation and a mailbox slot, deposits mail for an
// unknown recipient, an oversized envelope, and a flood for RECIPIENT (a friend of the relay)
// past its quota, then prints what the relay answered as one JSON line.
import '@kith/core/polyfill'
import { randomBytes } from 'node:crypto'
import { Envelope, ENCRYPTION_SEALED, ENVELOPE_VERSION } from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { MAILBOX_PROTOCOL, deposit, register } from '@kith/mailbox'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const [relayAddr, recipient, flood = '400'] = process.argv.slice(2)
const HOP = '/libp2p/circuit/relay/0.2.0/hop'

const node = await createLibp2p({ privateKey: await generateDeviceKey(), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
const relay = multiaddr(relayAddr)
const result = {}

// A circuit relay v2 RESERVE (HopMessage { type: RESERVE }); the answer's field 5 is its status.
{
  const stream = await node.dialProtocol(relay, HOP, { signal: AbortSignal.timeout(10_000) })
  const lp = lpStream(stream)
  await lp.write(Uint8Array.from([0x08, 0x00]))
  const answer = (await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray()
  const at = answer.indexOf(0x28)
  result.reservation = at >= 0 ? varint(answer, at + 1) : 'no status'
  await stream.close().catch(() => {})
}

const mailbox = async (fn) => {
  const stream = await node.dialProtocol(relay, MAILBOX_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  try { return await fn(stream) } finally { await stream.close().catch(() => {}) }
}
result.register = await mailbox(register).then(() => 'accepted', err => err.reason ?? err.message)
const envelopeFor = (peer, bodyBytes = 512) => Envelope.encode({
  version: ENVELOPE_VERSION, id: randomBytes(16), recipient: peerIdFromString(peer).toMultihash().bytes,
  timestamp: BigInt(Date.now()), encryption: ENCRYPTION_SEALED, body: randomBytes(bodyBytes)
})
const nobody = peerIdFromPrivateKey(await generateDeviceKey()).toString()
result.unknownRecipient = (await mailbox(s => deposit(s, [envelopeFor(nobody)])))[0]
result.oversized = (await mailbox(s => deposit(s, [envelopeFor(recipient, 300 * 1024)])))[0]
const counts = {}
for (const r of await mailbox(s => deposit(s, Array.from({ length: Number(flood) }, () => envelopeFor(recipient))))) counts[r] = (counts[r] ?? 0) + 1
result.flood = counts
console.log(JSON.stringify(result))
await node.stop()
process.exit(0)

function varint (bytes, at) {
  let value = 0
  for (let shift = 0; at < bytes.length; shift += 7) {
    const b = bytes[at++]
    value |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) break
  }
  return value
}
