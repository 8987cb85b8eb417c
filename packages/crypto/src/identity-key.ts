import { createHash } from 'node:crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateEd25519Key } from './primitives.js'
import { readKeyFile, writeKeyFile } from './key-file.js'
import type { PrivateKey, PublicKey } from '@libp2p/interface'

/**
 * The identity key is the user: contacts know a user by it, and it signs a certificate for
 * each of the user's devices. Unlike a device key it is never a libp2p peer key, so it never
 * signs a handshake and can stay on one device (or offline) while the others go online.
 */

/** A fresh Ed25519 identity key. */
export async function generateIdentityKey (): Promise<PrivateKey> {
  return generateEd25519Key()
}

const PURPOSE = 'kith/identity-key'

/**
 * Write an identity key to `path`, readable by its owner only (mode 0600, whatever the umask),
 * sealed under `dataKey` when one is given. Refuses to overwrite (`wx`, `EEXIST`): a lost
 * identity key is a lost user, whose contacts would all have to verify a new one.
 */
export async function saveIdentityKey (path: string, key: PrivateKey, dataKey?: Uint8Array): Promise<void> {
  if (key.type !== 'Ed25519') throw new TypeError('identity keys are Ed25519')
  await writeKeyFile(path, key, PURPOSE, dataKey)
}

/**
 * Read an identity key written by {@link saveIdentityKey} (with the same `dataKey`, if any).
 *
 * @throws {TypeError} when the file holds a key of another type
 */
export async function loadIdentityKey (path: string, dataKey?: Uint8Array): Promise<PrivateKey> {
  const key = await readKeyFile(path, PURPOSE, dataKey)
  if (key.type !== 'Ed25519') throw new TypeError('identity keys are Ed25519')
  return key
}

// Fingerprints are asked for on every certificate check: hash each key once.
const fingerprints = new WeakMap<PublicKey, string>()

/**
 * The identity's fingerprint: lower-case hex of SHA-256 over the key's libp2p protobuf
 * encoding (which names the key type). 64 characters; stable for as long as the key is, so
 * it doubles as the user's id in storage and in safety numbers.
 */
export function identityFingerprint (key: PublicKey): string {
  let fingerprint = fingerprints.get(key)
  if (fingerprint == null) {
    fingerprint = createHash('sha256').update(publicKeyToProtobuf(key)).digest('hex')
    fingerprints.set(key, fingerprint)
  }
  return fingerprint
}

/**
 * The first 64 bits of a fingerprint in four groups, `"3f2a 9c01 77de b460"`: enough to tell
 * one's contacts apart on screen, not to authenticate one (compare safety numbers for that).
 */
export function shortFingerprint (fingerprint: string): string {
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw new TypeError('not an identity fingerprint')
  return fingerprint.slice(0, 16).replace(/(.{4})(?!$)/g, '$1 ')
}
