import { lpStream } from '@libp2p/utils'
import { KAD_PROTOCOL } from '@kith/core'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * kad-dht's PUT_VALUE and GET_VALUE by hand (kad-dht's message codec is not exported), as any
 * peer can send them: `Message { type = 1; key = 2; record = 3 }`, the record being
 * `Record { key = 1; value = 2; timeReceived = 5 }` (kad-dht's message/dht.proto).
 */

const PUT_VALUE = 0
const GET_VALUE = 1

/** What a PUT came to: the peer kept the record (it answered), or refused it (it reset the stream). */
export type PutOutcome = 'stored' | 'refused'

/** Ask the peer at `addr` to store `value` under `key`, on a new stream. */
export async function kadPut (node: Libp2p, addr: Multiaddr, key: Uint8Array, value: Uint8Array): Promise<PutOutcome> {
  return await new KadSession(node, addr).put(key, value)
}

/**
 * PUTs one after the other on one stream, as kad-dht peers may send them: a new stream only
 * after a refusal (kad-dht aborts the stream when its handler throws).
 */
export class KadSession {
  private lp: { stream: Stream, lp: LengthPrefixedStream<Stream> } | undefined
  constructor (private readonly node: Libp2p, private readonly addr: Multiaddr) {}

  async put (key: Uint8Array, value: Uint8Array): Promise<PutOutcome> {
    const record = Buffer.concat([bytesField(1, key), bytesField(2, value), bytesField(5, Buffer.from(new Date().toISOString()))])
    const message = Buffer.concat([varintField(1, PUT_VALUE), bytesField(2, key), bytesField(3, record)])
    const signal = AbortSignal.timeout(20_000)
    this.lp ??= await open(this.node, this.addr, signal)
    try {
      await this.lp.lp.write(message, { signal })
      const answer = fields((await this.lp.lp.read({ signal })).subarray())
      return answer.get(3) != null ? 'stored' : 'refused'
    } catch (err: any) {
      this.lp = undefined
      // A refusal, seen from here as a reset stream.
      if (/reset|abort|closed|EOF/i.test(`${err?.name} ${err?.message}`)) return 'refused'
      throw err
    }
  }

  async close (): Promise<void> {
    await this.lp?.stream.close().catch(() => {})
    this.lp = undefined
  }
}

async function open (node: Libp2p, addr: Multiaddr, signal: AbortSignal): Promise<{ stream: Stream, lp: LengthPrefixedStream<Stream> }> {
  const stream = await node.dialProtocol(addr, KAD_PROTOCOL, { signal })
  return { stream, lp: lpStream(stream, { maxDataLength: 1024 * 1024 }) }
}

/** The value the peer at `addr` holds under `key`, if any. */
export async function kadGet (node: Libp2p, addr: Multiaddr, key: Uint8Array): Promise<Uint8Array | undefined> {
  const answer = await ask(node, addr, Buffer.concat([varintField(1, GET_VALUE), bytesField(2, key)]))
  const record = answer.get(3)
  return record != null ? fields(record).get(2) : undefined
}

async function ask (node: Libp2p, addr: Multiaddr, message: Uint8Array): Promise<Map<number, Uint8Array>> {
  const signal = AbortSignal.timeout(20_000)
  const { stream, lp } = await open(node, addr, signal)
  try {
    await lp.write(message, { signal })
    return fields((await lp.read({ signal })).subarray())
  } finally {
    await stream.close().catch(() => {})
  }
}

function varint (n: number): Buffer {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Buffer.from(out)
}

const varintField = (no: number, n: number): Buffer => Buffer.concat([varint(no << 3), varint(n)])
const bytesField = (no: number, bytes: Uint8Array): Buffer => Buffer.concat([varint((no << 3) | 2), varint(bytes.byteLength), bytes])

/** The length-delimited fields of a protobuf message, by number (the last of each); others skipped. */
function fields (bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>()
  let at = 0
  const read = (): number => {
    let n = 0
    for (let shift = 1; ; shift *= 128) {
      const b = bytes[at++]
      if (b == null) throw new Error('truncated protobuf')
      n += (b & 0x7f) * shift
      if ((b & 0x80) === 0) return n
    }
  }
  while (at < bytes.length) {
    const tag = read()
    const type = tag & 7
    if (type === 0) read()
    else if (type === 1) at += 8
    else if (type === 5) at += 4
    else if (type === 2) {
      const length = read()
      out.set(tag >>> 3, bytes.subarray(at, at + length))
      at += length
    } else throw new Error(`wire type ${type}`)
  }
  return out
}
