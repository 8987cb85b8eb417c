import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassphraseRequiredError } from '@kith/core'
import { SCRYPT_PARAMS, generateDataKey, openRecord, sealRecord, unwrapDataKey, wrapWithKeyFile, wrapWithPassphrase } from '@kith/crypto'
import type { WrappedDataKey } from '@kith/crypto'
import type { RecordCipher } from '@kith/store'

/** The wrapped data key, and (without a passphrase) the key file that unwraps it. */
export const DATA_KEY_FILE = 'datakey.json'
export const KEY_FILE = 'keyfile'
/** A rewrapped data key is written under this prefix before it replaces {@link DATA_KEY_FILE} in one rename. */
const NEXT_DATA_KEY_PREFIX = 'datakey.json.next-'

/** scrypt parameters. */
export interface ScryptParams { N: number, r: number, p: number }

/**
 * The scrypt cost new wrappings get: {@link SCRYPT_PARAMS}, or, for tests only, the N set in
 * `KITH_TEST_SCRYPT_N` (a power of two from 2^10 to 2^20), so that test homes open fast.
 */
export function scryptParams (): ScryptParams {
  const n = Number(process.env.KITH_TEST_SCRYPT_N)
  if (Number.isInteger(n) && n >= 2 ** 10 && n <= 2 ** 20 && (n & (n - 1)) === 0) return { ...SCRYPT_PARAMS, N: n }
  return { ...SCRYPT_PARAMS }
}

/**
 * Create the data key that seals everything at rest in `home`, wrapped by `passphrase`
 * (scrypt), or, when there is none, by a random key in a key file (mode 0600).
 */
export async function createDataKey (home: string, passphrase?: string): Promise<Uint8Array> {
  const dataKey = generateDataKey()
  let wrapped: WrappedDataKey
  if (passphrase != null && passphrase.length > 0) {
    wrapped = await wrapWithPassphrase(dataKey, passphrase, scryptParams())
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
 * Unwrap `home`'s data key. A passphrase wrapping weaker than {@link scryptParams} is upgraded
 * on the way (see {@link upgradeDataKey}); if that fails, the home still opens as it was.
 *
 * @throws {PassphraseRequiredError} when the home needs a passphrase and none was given
 * @throws {WrongPassphraseError} when the passphrase or key file does not open it
 */
export async function openDataKey (home: string, passphrase?: string): Promise<Uint8Array> {
  const wrapped = await readWrapped(home)
  if (wrapped.kdf === 'scrypt') {
    if (passphrase == null || passphrase.length === 0) throw new PassphraseRequiredError(`${home} is protected by a passphrase: set KITH_PASSPHRASE or run the command in a terminal`)
    const dataKey = await unwrapDataKey(wrapped, passphrase)
    const target = scryptParams()
    // Not upgraded now (a full disk, a read-only home): the old wrapping still opens, and the next start tries again.
    if (weaker(wrapped, target)) await upgradeDataKey(home, dataKey, passphrase, target).catch(() => {})
    return dataKey
  }
  return await unwrapDataKey(wrapped, new Uint8Array(await readFile(join(home, KEY_FILE))))
}

/** Whether `wrapped` costs less to guess than `target` in any parameter. */
function weaker (wrapped: WrappedDataKey, target: ScryptParams): boolean {
  return (wrapped.N ?? 0) < target.N || (wrapped.r ?? 0) < target.r || (wrapped.p ?? 0) < target.p
}

/** Steps of {@link upgradeDataKey} that tests interrupt, to show that a crash after any of them loses nothing. */
export interface UpgradeSteps {
  /**
   * Called after each step: `written` (the new wrapping is on disk, synced, beside the old one),
   * `replaced` (renamed over the old one, the folder not yet synced), `synced`.
   */
  after?: (step: 'written' | 'replaced' | 'synced') => Promise<void>
}

/**
 * Wrap `dataKey` again under `passphrase` with `params`, and replace `home`'s wrapping with it
 * atomically: the new file is written and synced beside the old one, then renamed over it (one
 * rename is atomic on POSIX file systems), then the folder is synced. Killed at any point, the
 * home holds either the old wrapping or the new one, and both open with the passphrase.
 */
export async function upgradeDataKey (home: string, dataKey: Uint8Array, passphrase: string, params: ScryptParams, steps: UpgradeSteps = {}): Promise<void> {
  const wrapped = await wrapWithPassphrase(dataKey, passphrase, params)
  // Files left by upgrades that were cut short go; each upgrade writes its own, so two processes
  // opening the home at once never rename a file the other is still writing.
  for (const name of await readdir(home)) if (name.startsWith(NEXT_DATA_KEY_PREFIX)) await rm(join(home, name), { force: true })
  const next = join(home, NEXT_DATA_KEY_PREFIX + randomBytes(8).toString('hex'))
  const file = await open(next, 'wx', 0o600)
  try {
    await file.chmod(0o600)
    await file.writeFile(JSON.stringify(wrapped, null, 2) + '\n')
    await file.sync()
  } finally {
    await file.close()
  }
  await steps.after?.('written')
  await rename(next, join(home, DATA_KEY_FILE))
  await steps.after?.('replaced')
  await syncDir(home)
  await steps.after?.('synced')
}

async function syncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try { await handle.sync() } finally { await handle.close() }
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
