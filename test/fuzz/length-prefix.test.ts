import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DM_PROTOCOL, FILES_PROTOCOL, LINK_PROTOCOL, lengthPrefixed } from '@kith/core'
import { HISTORY_PROTOCOL, historySync } from '@kith/history'
import { MAILBOX_PROTOCOL } from '@kith/mailbox'
import { memoryStore } from '@kith/store'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { befriend, trackNodes } from '../helpers/testnet.js'
import { params, varint, timeoutFor } from './helpers.js'
import { exchange, introduce } from './net.js'
import type { KithNode } from '@kith/node'

// A length prefix that never ends (0x80 0x80 …): lpStream alone reads it a byte at a time for as
// long as the peer sends, about 120 bytes of memory per byte. Every handler must refuse it
// after a few bytes, and count it like any other bad length.

const NEVER_ENDS = [new Uint8Array(64 * 1024).fill(0x80)]
const node = trackNodes()

/** Feed `prefix` to the decoder a byte at a time, as lpStream does. */
function decodeAsLpStream (maxDataLength: number, prefix: Uint8Array): number | string {
  const { lengthDecoder } = lengthPrefixed(maxDataLength)
  for (let n = 1; n <= prefix.length; n++) {
    const view = prefix.subarray(0, n)
    try {
      return lengthDecoder({ byteLength: view.length, get: (i: number) => view[i] as number })
    } catch (err: any) {
      if (err.name !== 'RangeError') return err.name
    }
  }
  return 'more'
}

describe('fuzz: length prefixes', () => {
  it('lengthPrefixed reads what varint writes, and refuses a prefix longer than the limit needs', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.nat({ max: 2 ** 40 }), (max, length) => {
      const result = decodeAsLpStream(max, varint(length))
      if (varint(length).length <= varint(max).length) expect(result).toBe(length)
      else expect(result).toBe('InvalidDataLengthLengthError')
    }), params())
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.uint8Array({ minLength: 1, maxLength: 40 }), (max, prefix) => {
      const result = decodeAsLpStream(max, prefix)
      // Never more than the bytes the limit needs, whatever comes.
      if (prefix.length > varint(max).length) expect(result === 'more').toBe(false)
    }), params())
  }, timeoutFor(1))

  const cases: Array<[string, string, () => Promise<{ peer: any, target: any, count: () => number }>]> = [
    ['/kith/dm', DM_PROTOCOL, async () => {
      const bob = await node('bob')
      const mallory = await node('mallory')
      return { peer: mallory.libp2p, target: bob.libp2p, count: () => bob.status().metrics.invalid }
    }],
    ['/kith/files', FILES_PROTOCOL, async () => {
      const alice = await node('alice')
      const mallory = await node('mallory')
      return { peer: mallory.libp2p, target: alice.libp2p, count: () => alice.status().files.invalidRequests }
    }],
    ['/kith/mailbox', MAILBOX_PROTOCOL, async () => {
      const carol = await node('carol', { relay: {} })
      const bob = await node('bob')
      await befriend(carol, bob)
      return { peer: bob.libp2p, target: carol.libp2p, count: () => (carol as KithNode).status().network.holding?.refused.invalid ?? 0 }
    }],
    ['/kith/link', LINK_PROTOCOL, async () => {
      const identity = await node('identity')
      const mallory = await node('mallory')
      return { peer: mallory.libp2p, target: identity.libp2p, count: () => identity.devices.invalidLinkRequests }
    }],
    ['/kith/history', HISTORY_PROTOCOL, async () => {
      const own = new Set<string>()
      const device = async (): Promise<any> => {
        const store = await memoryStore()
        const n = await createLibp2p({
          addresses: { listen: [`/memory/lp-${Math.random().toString(16).slice(2)}`] },
          transports: [memory()],
          connectionEncrypters: [noise()],
          streamMuxers: [yamux()],
          services: { history: historySync({ store, isOwnDevice: p => own.has(p.toString()) }) }
        })
        own.add(n.peerId.toString())
        const stop = n.stop.bind(n)
        n.stop = async () => { await stop(); await store.close() }
        return n
      }
      const laptop = await device()
      const phone = await device()
      stopAfter.push(laptop, phone)
      return { peer: phone, target: laptop, count: () => laptop.services.history.metrics.invalid }
    }]
  ]
  const stopAfter: any[] = []

  for (const [name, protocol, setUp] of cases) {
    it(`${name} refuses a length prefix that never ends, and counts it`, async () => {
      const { peer, target, count } = await setUp()
      try {
        await introduce(peer, target)
        const before = count()
        await exchange(peer, target.peerId, protocol, NEVER_ENDS)
        expect(count() - before).toBe(1)
      } finally {
        await Promise.all(stopAfter.splice(0).map(async n => { await n.stop() }))
      }
    })
  }
})
