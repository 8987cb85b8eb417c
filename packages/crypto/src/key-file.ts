import { chmod, readFile, writeFile } from 'node:fs/promises'
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { openRecord, sealRecord } from './at-rest.js'
import type { PrivateKey } from '@libp2p/interface'

/**
 * Write a private key file readable by its owner only (mode 0600, whatever the umask), sealed
 * under `dataKey` when one is given, with `purpose` as associated data (so a device key file
 * can't be passed off as an identity key file). Refuses to overwrite (`wx`): a lost key is a
 * lost identity.
 */
export async function writeKeyFile (path: string, key: PrivateKey, purpose: string, dataKey?: Uint8Array): Promise<void> {
  const bytes = privateKeyToProtobuf(key)
  await writeFile(path, dataKey != null ? sealRecord(dataKey, purpose, bytes) : bytes, { mode: 0o600, flag: 'wx' })
  await chmod(path, 0o600)
}

/**
 * Read a key file written by {@link writeKeyFile} with the same purpose and data key.
 *
 * @throws {RecordTamperedError} when a sealed file does not open with `dataKey`
 */
export async function readKeyFile (path: string, purpose: string, dataKey?: Uint8Array): Promise<PrivateKey> {
  const bytes = await readFile(path)
  return privateKeyFromProtobuf(dataKey != null ? openRecord(dataKey, purpose, bytes) : bytes)
}
