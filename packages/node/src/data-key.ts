import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassphraseRequiredError } from '@kith/core'
import { generateDataKey, openRecord, sealRecord, unwrapDataKey, wrapWithKeyFile, wrapWithPassphrase } from '@kith/crypto'
import type { WrappedDataKey } from '@kith/crypto'
import type { RecordCipher } from '@kith/store'

/** The wrapped data key, and (without a passphrase) the key file that unwraps it. */
export const DATA_KEY_FILE = 'datakey.json'
export const KEY_FILE = 'keyfile'

/**
 * Create the data key that seals everything at rest in `home`, wrapped by `passphrase`
 * (scrypt), or, when there is none, by a random key in a key file (mode 0600).
 */
export async function createDataKey (home: string, passphrase?: string): Promise<Uint8Array> {
  const dataKey = generateDataKey()
  let wrapped: WrappedDataKey
  if (passphrase != null && passphrase.length > 0) {
    wrapped = await wrapWithPassphrase(dataKey, passphrase)
  } else {
    const keyFileKey = generateDataKey()
    await writeFile(join(home, KEY_FILE), keyFileKey, { mode: 0o600, flag: 'wx' })
    await chmod(join(home, KEY_FILE), 0o600)
    wrapped = wrapWithKeyFile(dataKey, keyFileKey)
  }
  await writeFile(join(home, DATA_KEY_FILE), JSON.stringify(wrapped, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  return dataKey
}

/** Whether opening `home` needs a passphrase. */
export async function needsPassphrase (home: string): Promise<boolean> {
  return (await readWrapped(home)).kdf === 'scrypt'
}

/**
 * Unwrap `home`'s data key.
 *
 * @throws {PassphraseRequiredError} when the home needs a passphrase and none was given
 * @throws {WrongPassphraseError} when the passphrase or key file does not open it
 */
export async function openDataKey (home: string, passphrase?: string): Promise<Uint8Array> {
  const wrapped = await readWrapped(home)
  if (wrapped.kdf === 'scrypt') {
    if (passphrase == null || passphrase.length === 0) throw new PassphraseRequiredError(`${home} is protected by a passphrase: set KITH_PASSPHRASE or run the command in a terminal`)
    return await unwrapDataKey(wrapped, passphrase)
  }
  return await unwrapDataKey(wrapped, new Uint8Array(await readFile(join(home, KEY_FILE))))
}

/** A store cipher sealing each record under `dataKey`, with the record's key as associated data. */
export function recordCipher (dataKey: Uint8Array): RecordCipher {
  return {
    seal: (aad, plaintext) => sealRecord(dataKey, aad, plaintext),
    open: (aad, sealed) => openRecord(dataKey, aad, sealed)
  }
}

async function readWrapped (home: string): Promise<WrappedDataKey> {
  return JSON.parse(await readFile(join(home, DATA_KEY_FILE), 'utf8'))
}
