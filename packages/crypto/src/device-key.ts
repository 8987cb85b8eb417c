import { generateEd25519Key } from './primitives.js'
import { readKeyFile, writeKeyFile } from './key-file.js'
import type { PrivateKey } from '@libp2p/interface'

const PURPOSE = 'kith/device-key'

/** A fresh Ed25519 device key: this device's libp2p identity. */
export async function generateDeviceKey (): Promise<PrivateKey> {
  return generateEd25519Key()
}

/**
 * Write a device key to `path` (mode 0600), sealed under `dataKey` when one is given
 * (encryption at rest). Refuses to overwrite.
 */
export async function saveDeviceKey (path: string, key: PrivateKey, dataKey?: Uint8Array): Promise<void> {
  await writeKeyFile(path, key, PURPOSE, dataKey)
}

/**
 * Read a device key written by {@link saveDeviceKey} (with the same `dataKey`, if any).
 *
 * @throws {RecordTamperedError} when a sealed key file does not open with `dataKey`
 */
export async function loadDeviceKey (path: string, dataKey?: Uint8Array): Promise<PrivateKey> {
  return await readKeyFile(path, PURPOSE, dataKey)
}
