import { describe, expect, it } from 'vitest'
import { InvalidMessageError, toHex } from '@kith/core'
import { ed25519Sign } from '../../src/ed25519.js'
import { x25519Generate } from '../../src/primitives.js'
import { initiate, InvalidPreKeyBundleError, respond, signedPreKeyPayload } from '../../src/ratchet/index.js'
import type { PreKeyBundle } from '../../src/ratchet/index.js'
import { newBundle, newDevice } from './session.js'

// Low-order X25519 points: DH with any of them gives all zeros.
const ZERO = new Uint8Array(32)
const ONE = Uint8Array.from({ length: 32 }, (_, i) => i === 0 ? 1 : 0)

describe('X3DH', () => {
  for (const withOneTimePreKey of [false, true]) {
    it(`gives both devices the same secret and associated data (${withOneTimePreKey ? 'with' : 'without'} a one-time prekey)`, async () => {
      const [alice, bob] = await Promise.all([newDevice(), newDevice()])
      const { bundle, signedPreKey, oneTimePreKey } = newBundle(bob, withOneTimePreKey)
      const x = initiate(alice.identityDh, bundle, bob.deviceKey.publicKey)
      expect(x.sharedSecret).toHaveLength(32)
      expect(x.ephemeralPublicKey).toHaveLength(32)
      expect(x.signedPreKeyId).toBe(7)
      expect(x.usedOneTimePreKeyId).toBe(withOneTimePreKey ? 42 : undefined)
      expect(toHex(x.associatedData)).toBe('05' + toHex(alice.identityDh.publicKey) + '05' + toHex(bob.identityDh.publicKey))

      const ours = oneTimePreKey == null ? { identityDh: bob.identityDh, signedPreKey } : { identityDh: bob.identityDh, signedPreKey, oneTimePreKey }
      const r = respond(ours, alice.identityDh.publicKey, x.ephemeralPublicKey)
      expect(toHex(r.sharedSecret)).toBe(toHex(x.sharedSecret))
      expect(toHex(r.associatedData)).toBe(toHex(x.associatedData))
    })
  }

  it('gives a different secret each time (fresh ephemeral key)', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const { bundle } = newBundle(bob, false)
    const a = initiate(alice.identityDh, bundle, bob.deviceKey.publicKey)
    const b = initiate(alice.identityDh, bundle, bob.deviceKey.publicKey)
    expect(toHex(a.sharedSecret)).not.toBe(toHex(b.sharedSecret))
  })

  it('gives different secrets when the responder leaves out the one-time prekey the initiator used', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const { bundle, signedPreKey } = newBundle(bob, true)
    const x = initiate(alice.identityDh, bundle, bob.deviceKey.publicKey)
    const r = respond({ identityDh: bob.identityDh, signedPreKey }, alice.identityDh.publicKey, x.ephemeralPublicKey)
    expect(toHex(r.sharedSecret)).not.toBe(toHex(x.sharedSecret))
  })

  it('rejects a bundle whose signature does not verify', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const { bundle } = newBundle(bob, true)
    const signature = bundle.signedPreKey.signature.slice()
    signature[10] = (signature[10] ?? 0) ^ 1
    const bad = { ...bundle, signedPreKey: { ...bundle.signedPreKey, signature } }
    expect(() => initiate(alice.identityDh, bad, bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
  })

  it('rejects a bundle checked against the wrong signing key', async () => {
    const [alice, bob, mallory] = await Promise.all([newDevice(), newDevice(), newDevice()])
    const { bundle } = newBundle(bob, false)
    expect(() => initiate(alice.identityDh, bundle, mallory.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
  })

  it('rejects a genuine signed prekey paired with another identity key, or another id', async () => {
    const [alice, bob, mallory] = await Promise.all([newDevice(), newDevice(), newDevice()])
    const { bundle } = newBundle(bob, false)
    expect(() => initiate(alice.identityDh, { ...bundle, identityDhKey: mallory.identityDh.publicKey }, bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
    expect(() => initiate(alice.identityDh, { ...bundle, signedPreKey: { ...bundle.signedPreKey, id: 8 } }, bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
  })

  it('rejects low-order (all-zero and order-1) keys even when validly signed', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const signed = (identityDhKey: Uint8Array, spk: Uint8Array): PreKeyBundle => ({
      identityDhKey,
      signedPreKey: { id: 1, publicKey: spk, signature: ed25519Sign(bob.deviceKey, signedPreKeyPayload(identityDhKey, 1, spk)) }
    })
    const good = x25519Generate().publicKey
    for (const low of [ZERO, ONE]) {
      expect(() => initiate(alice.identityDh, signed(good, low), bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
      expect(() => initiate(alice.identityDh, signed(low, good), bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
      expect(() => initiate(alice.identityDh, { ...signed(bob.identityDh.publicKey, good), oneTimePreKey: { id: 2, publicKey: low } }, bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
    }
  })

  it('rejects malformed bundles', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const { bundle } = newBundle(bob, false)
    const cases: PreKeyBundle[] = [
      { ...bundle, identityDhKey: bundle.identityDhKey.subarray(1) },
      { ...bundle, signedPreKey: { ...bundle.signedPreKey, publicKey: new Uint8Array(33) } },
      { ...bundle, signedPreKey: { ...bundle.signedPreKey, signature: bundle.signedPreKey.signature.subarray(0, 63) } },
      { ...bundle, signedPreKey: { ...bundle.signedPreKey, id: -1 } },
      { ...bundle, oneTimePreKey: { id: 1.5, publicKey: x25519Generate().publicKey } }
    ]
    for (const bad of cases) expect(() => initiate(alice.identityDh, bad, bob.deviceKey.publicKey)).toThrow(InvalidPreKeyBundleError)
  })

  it('responder rejects low-order or malformed keys from an initial message', async () => {
    const [alice, bob] = await Promise.all([newDevice(), newDevice()])
    const { signedPreKey } = newBundle(bob, false)
    const ours = { identityDh: bob.identityDh, signedPreKey }
    const good = x25519Generate().publicKey
    for (const low of [ZERO, ONE]) {
      expect(() => respond(ours, alice.identityDh.publicKey, low)).toThrow(InvalidMessageError)
      expect(() => respond(ours, low, good)).toThrow(InvalidMessageError)
    }
    expect(() => respond(ours, alice.identityDh.publicKey, new Uint8Array(31))).toThrow(InvalidMessageError)
  })
})
