import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { x25519Generate } from '../../src/primitives.js'
import type { X25519KeyPair } from '../../src/primitives.js'
import { createSignedPreKey, initiate, initReceiver, initSender, respond } from '../../src/ratchet/index.js'
import type { PreKeyBundle, RatchetState } from '../../src/ratchet/index.js'

/** A device as X3DH sees it: its Ed25519 device key and its X25519 DH identity key. */
export interface TestDevice {
  deviceKey: PrivateKey
  identityDh: X25519KeyPair
}

export async function newDevice (): Promise<TestDevice> {
  return { deviceKey: await generateKeyPair('Ed25519'), identityDh: x25519Generate() }
}

/** A bundle from `bob`, with its private prekeys. */
export function newBundle (bob: TestDevice, withOneTimePreKey: boolean): { bundle: PreKeyBundle, signedPreKey: X25519KeyPair, oneTimePreKey?: X25519KeyPair } {
  const spk = createSignedPreKey(bob.deviceKey, bob.identityDh.publicKey, 7)
  const bundle: PreKeyBundle = { identityDhKey: bob.identityDh.publicKey, signedPreKey: spk.signedPreKey }
  if (!withOneTimePreKey) return { bundle, signedPreKey: spk.keyPair }
  const oneTimePreKey = x25519Generate()
  bundle.oneTimePreKey = { id: 42, publicKey: oneTimePreKey.publicKey }
  return { bundle, signedPreKey: spk.keyPair, oneTimePreKey }
}

/** A fresh session between two new devices, set up through X3DH: Alice may send first. */
export async function newSession (): Promise<{ alice: RatchetState, bob: RatchetState, ad: Uint8Array }> {
  const [aliceDevice, bobDevice] = await Promise.all([newDevice(), newDevice()])
  const { bundle, signedPreKey, oneTimePreKey } = newBundle(bobDevice, true)
  const x = initiate(aliceDevice.identityDh, bundle, bobDevice.deviceKey.publicKey)
  const ours = oneTimePreKey == null ? { identityDh: bobDevice.identityDh, signedPreKey } : { identityDh: bobDevice.identityDh, signedPreKey, oneTimePreKey }
  const r = respond(ours, aliceDevice.identityDh.publicKey, x.ephemeralPublicKey)
  return { alice: initSender(x.sharedSecret, bundle.signedPreKey.publicKey), bob: initReceiver(r.sharedSecret, signedPreKey), ad: x.associatedData }
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s)
export const untext = (b: Uint8Array): string => new TextDecoder().decode(b)
