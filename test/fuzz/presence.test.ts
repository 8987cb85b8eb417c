import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate, issueDeviceList } from '@kith/crypto'
import { PRESENCE_NAMESPACE, openPresence, presenceDhtOptions, presenceKey, presenceSelector, signPresence } from '@kith/presence'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PrivateKey } from '@libp2p/interface'
import { SIZE_WORDS, huge, inputs, params, rejectsOnly, throwsOnly, timeoutFor } from './helpers.js'

// Presence records come from anyone on the DHT: peers PUT them on us and answer our lookups
// with them. kad-dht runs the validator on each and the selector on each set.

const NOW = 1_750_000_000_000
let identities: PrivateKey[] = []
let records: Uint8Array[] = []

beforeAll(async () => {
  identities = [await generateIdentityKey(), await generateIdentityKey()]
  records = []
  for (const [i, identity] of identities.entries()) {
    const device = await generateDeviceKey()
    const certificate = issueDeviceCertificate(identity, device.publicKey)
    const peer = peerIdFromPrivateKey(device)
    const relay = peerIdFromPrivateKey(await generateDeviceKey())
    records.push(signPresence(identity, {
      seq: NOW - i * 1000,
      certificate,
      device: peer,
      addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip6/::1/udp/4001/quic-v1')],
      relays: [multiaddr(`/ip4/10.0.0.1/tcp/4001/p2p/${relay.toString()}/p2p-circuit`)],
      mailboxes: [multiaddr(`/ip4/10.0.0.2/tcp/4001/p2p/${relay.toString()}`)],
      prekeys: new Uint8Array(200).fill(i + 1),
      relay: i === 0,
      ...(i === 0 ? { deviceList: issueDeviceList(identity, { seq: 1, devices: [certificate] }) } : {})
    }))
  }
})

const record = fc.nat().map(i => records[i % records.length] as Uint8Array)

describe('fuzz: presence records', () => {
  it('openPresence throws only InvalidPresenceError, and refuses 10 MB as oversized before decoding', () => {
    fc.assert(fc.property(inputs(record, 16 * 1024), fc.nat({ max: 2 }), (input, who) => {
      const identity = identities[who]
      const err = throwsOnly(r => openPresence(r, { now: NOW, ...(identity != null ? { identity: identity.publicKey } : {}) }), input, ['InvalidPresenceError'])
      if (err != null) expect(['oversized', 'malformed', 'forged', 'stale', 'future', 'wrong-key']).toContain((err as any).reason)
    }), params())
    const err = throwsOnly(r => openPresence(r, { now: NOW }), huge(records[0]), ['InvalidPresenceError'])
    expect((err as any).reason).toBe('oversized')
    expect(err?.message).toMatch(SIZE_WORDS)
  }, timeoutFor(3))

  it('the DHT validator throws only InvalidPresenceError and counts each refusal; the selector never throws and never picks an invalid record', async () => {
    const refused: string[] = []
    const { validators, selectors } = presenceDhtOptions({ now: () => NOW, onRefused: reason => refused.push(reason) })
    const validate = validators[PRESENCE_NAMESPACE]
    const select = selectors[PRESENCE_NAMESPACE]
    const key = fc.oneof(fc.nat({ max: 1 }).map(i => presenceKey((identities[i] as PrivateKey).publicKey)), fc.uint8Array({ maxLength: 40 }))
    await fc.assert(fc.asyncProperty(key, inputs(record, 16 * 1024), async (k, value) => {
      const before = refused.length
      const err = await rejectsOnly(async ([kk, v]) => { await validate(kk, v) }, [k, value] as const, ['InvalidPresenceError'])
      expect(refused.length).toBe(err == null ? before : before + 1)
    }), params())
    fc.assert(fc.property(key, fc.array(inputs(record, 16 * 1024), { maxLength: 5 }), (k, values) => {
      let best = -2
      expect(() => { best = select(k, values) }).not.toThrow()
      expect(best).toBeGreaterThanOrEqual(-1)
      expect(best).toBeLessThan(values.length)
      if (best >= 0) expect(() => openPresence(values[best] as Uint8Array, { now: NOW })).not.toThrow()
    }), params())
    // The exported selector (on the real clock) keeps to the same contract.
    fc.assert(fc.property(key, fc.array(inputs(record, 16 * 1024), { maxLength: 5 }), (k, values) => {
      const best = presenceSelector(k, values)
      expect(best >= -1 && best < values.length).toBe(true)
    }), params(0.25))
  }, timeoutFor(10))
})
