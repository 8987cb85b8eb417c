import { chmod, readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/** A fresh Ed25519 device key: this device's libp2p identity. */
export async function generateDeviceKey (): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/**
 * Write a device key to `path`, readable by its owner only (mode 0600). Refuses to overwrite
 * (`wx`): a lost device key is a lost identity.
 */
export async function saveDeviceKey (path: string, key: PrivateKey): Promise<void> {
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
}

/** Read a device key written by {@link saveDeviceKey}. */
export async function loadDeviceKey (path: string): Promise<PrivateKey> {
  return privateKeyFromProtobuf(await readFile(path))
}
