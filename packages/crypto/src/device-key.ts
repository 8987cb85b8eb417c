import { chmod, readFile, writeFile } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { openRecord, sealRecord } from './at-rest.js'
import type { PrivateKey } from '@libp2p/interface'

/** Associated data that binds a sealed device key file to its purpose. */
const SEALED_KEY_AAD = 'kith/device-key'

/** A fresh Ed25519 device key: this device's libp2p identity. */
export async function generateDeviceKey (): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/**
 * Write a device key to `path`, readable by its owner only (mode 0600), sealed under `dataKey`
 * when one is given (encryption at rest). Refuses to overwrite (`wx`): a lost device key is a
 * lost identity.
 */
export async function saveDeviceKey (path: string, key: PrivateKey, dataKey?: Uint8Array): Promise<void> {
  const bytes = privateKeyToProtobuf(key)
  await writeFile(path, dataKey != null ? sealRecord(dataKey, SEALED_KEY_AAD, bytes) : bytes, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
}

/**
 * Read a device key written by {@link saveDeviceKey} (with the same `dataKey`, if any).
 *
 * @throws {RecordTamperedError} when a sealed key file does not open with `dataKey`
 */
export async function loadDeviceKey (path: string, dataKey?: Uint8Array): Promise<PrivateKey> {
  const bytes = await readFile(path)
  return privateKeyFromProtobuf(dataKey != null ? openRecord(dataKey, SEALED_KEY_AAD, bytes) : bytes)
}
