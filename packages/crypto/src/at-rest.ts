import { randomBytes, scrypt as scryptCallback } from 'node:crypto'
import { KithError, random } from '@kith/core'
import { aesGcmDecrypt, aesGcmEncrypt } from './primitives.js'

/** The data key could not be unwrapped: wrong passphrase or key file, or a damaged wrapping. */
export class WrongPassphraseError extends KithError { static override name = 'WrongPassphraseError' }
/** A stored record failed authentication: tampered, truncated, or moved to another key. */
export class RecordTamperedError extends KithError { static override name = 'RecordTamperedError' }

const DATA_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const WRAP_AAD = Buffer.from('kith/data-key/v1')

/**
 * scrypt cost of a new wrapping: 2^17 × 8 × 128 bytes = 128 MiB and about half a second on this
 * project's 2-core machines (measured: 2^15 0.16–0.29 s, 2^16 0.28 s, 2^17 0.53 s, 2^18 1.0 s),
 * paid once per start. Homes wrapped with less are rewrapped at their next start.
 */
export const SCRYPT_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const

/** How the data key is stored: wrapped by a key derived from a passphrase, or by a key file. */
export interface WrappedDataKey {
  version: 1
  kdf: 'scrypt' | 'keyfile'
  /** scrypt parameters and salt (base64), for `kdf: 'scrypt'`. */
  N?: number
  r?: number
  p?: number
  salt?: string
  /** IV and AES-256-GCM ciphertext || tag of the data key (base64). */
  iv: string
  wrapped: string
}

/** A fresh random data key: everything at rest is encrypted under it. */
export function generateDataKey (): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_BYTES))
}

async function scrypt (passphrase: string, salt: Uint8Array, params: { N: number, r: number, p: number }): Promise<Uint8Array> {
  return await new Promise((resolve, reject) => {
    scryptCallback(passphrase.normalize('NFKC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r }, (err, key) => {
      if (err != null) reject(err); else resolve(new Uint8Array(key))
    })
  })
}

function wrap (kek: Uint8Array, dataKey: Uint8Array): { iv: string, wrapped: string } {
  const iv = randomBytes(IV_BYTES)
  return { iv: iv.toString('base64'), wrapped: Buffer.from(aesGcmEncrypt(kek, iv, dataKey, WRAP_AAD)).toString('base64') }
}

function unwrap (kek: Uint8Array, stored: WrappedDataKey): Uint8Array {
  try {
    const key = aesGcmDecrypt(kek, Buffer.from(stored.iv, 'base64'), Buffer.from(stored.wrapped, 'base64'), WRAP_AAD)
    if (key.length !== DATA_KEY_BYTES) throw new Error('wrong length')
    return key
  } catch (err) {
    throw new WrongPassphraseError(stored.kdf === 'scrypt' ? 'wrong passphrase' : 'the key file does not open this home folder', { cause: err })
  }
}

/** Wrap the data key under a passphrase (scrypt, then AES-256-GCM). */
export async function wrapWithPassphrase (dataKey: Uint8Array, passphrase: string, params: { N: number, r: number, p: number } = SCRYPT_PARAMS): Promise<WrappedDataKey> {
  if (passphrase.length === 0) throw new TypeError('a passphrase cannot be empty')
  const salt = randomBytes(16)
  const kek = await scrypt(passphrase, salt, params)
  return { version: 1, kdf: 'scrypt', ...params, salt: salt.toString('base64'), ...wrap(kek, dataKey) }
}

/** Wrap the data key under a key-encryption key kept in a key file (the no-passphrase choice). */
export function wrapWithKeyFile (dataKey: Uint8Array, keyFileKey: Uint8Array): WrappedDataKey {
  if (keyFileKey.length !== DATA_KEY_BYTES) throw new TypeError('a key file holds 32 bytes')
  return { version: 1, kdf: 'keyfile', ...wrap(keyFileKey, dataKey) }
}

/**
 * Unwrap the data key with the passphrase or the key file's key.
 *
 * @throws {WrongPassphraseError}
 */
export async function unwrapDataKey (stored: WrappedDataKey, secret: string | Uint8Array): Promise<Uint8Array> {
  if (stored.version !== 1) throw new WrongPassphraseError(`unknown data key version ${String(stored.version)}`)
  if (stored.kdf === 'scrypt') {
    if (typeof secret !== 'string') throw new WrongPassphraseError('this home folder is protected by a passphrase')
    const { N, r, p, salt } = stored
    if (N == null || r == null || p == null || salt == null || N > 2 ** 20 || r > 32 || p > 16) throw new WrongPassphraseError('damaged data key parameters')
    return unwrap(await scrypt(secret, Buffer.from(salt, 'base64'), { N, r, p }), stored)
  }
  if (typeof secret === 'string') throw new WrongPassphraseError('this home folder is protected by a key file, not a passphrase')
  return unwrap(secret, stored)
}

/**
 * Encrypt one stored record: iv || AES-256-GCM(ciphertext || tag), with the record's database
 * key as associated data, so a record copied under another key fails to open.
 */
export function sealRecord (dataKey: Uint8Array, recordKey: string, plaintext: Uint8Array): Uint8Array {
  const iv = random(IV_BYTES)
  // The iv goes in front as the cipher's prefix: the sealed record is written once, not copied twice.
  return aesGcmEncrypt(dataKey, iv, plaintext, Buffer.from(recordKey), iv)
}

/**
 * Open a record sealed by {@link sealRecord} under the same database key.
 *
 * @throws {RecordTamperedError}
 */
export function openRecord (dataKey: Uint8Array, recordKey: string, sealed: Uint8Array): Uint8Array {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new RecordTamperedError(`record ${recordKey} is truncated`)
  try {
    return aesGcmDecrypt(dataKey, sealed.subarray(0, IV_BYTES), sealed.subarray(IV_BYTES), Buffer.from(recordKey))
  } catch (err) {
    throw new RecordTamperedError(`record ${recordKey} failed authentication`, { cause: err })
  }
}
