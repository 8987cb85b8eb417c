import { mkdir, readFile, writeFile, access, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityExistsError, LIMITS, NoIdentityError, utf8Length } from '@kith/core'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate, loadDeviceKey, loadIdentityKey, saveDeviceKey, saveIdentityKey } from '@kith/crypto'
import { createDataKey, openDataKey } from './data-key.js'
import type { PrivateKey } from '@libp2p/interface'

/** Files in a home folder. */
export const HOME_FILES = {
  deviceKey: 'device.key',
  identityKey: 'identity.key',
  certificate: 'device.cert',
  profile: 'profile.json',
  ports: 'ports.json',
  db: 'db',
  /** What a relay holds for its friends (sealed envelopes only): its own database. */
  mailbox: 'mailbox',
  /** Files sent and received, as encrypted chunks and their hashes (never plaintext). */
  files: 'files',
  /** DHT records peers asked us to keep (public, signed presence records): plain LevelDB. */
  dht: 'dht'
} as const

/** What `kith init` creates. */
export interface Identity {
  /** This device's key (its libp2p identity). */
  privateKey: PrivateKey
  /** The user's identity key, which certifies the device: on the identity device only (docs/devices.md). */
  identityKey?: PrivateKey
  /** The device certificate: `identityKey` vouching for `privateKey`. */
  certificate: Uint8Array
  name: string
  /** Seals everything at rest in the home folder (device key, database). */
  dataKey: Uint8Array
}

/** How to open a home folder's data key. */
export interface HomeOptions {
  /** The passphrase; without one, a new home gets a key file, and a protected home won't open. */
  passphrase?: string
}

async function exists (path: string): Promise<boolean> {
  try { await access(path); return true } catch { return false }
}

/**
 * Create a new identity in `home` (mode 0700): a data key wrapped by the passphrase or a key
 * file, a device key sealed under it (0600), and a profile.
 *
 * @throws {IdentityExistsError} when the home folder already holds one
 */
export async function initHome (home: string, name: string, options: HomeOptions = {}): Promise<Identity> {
  const keyPath = join(home, HOME_FILES.deviceKey)
  if (await exists(keyPath)) throw new IdentityExistsError(`${home} already holds an identity; use another --home to create a new one`)
  if (name.trim().length === 0 || utf8Length(name) > LIMITS.maxNameBytes) throw new TypeError(`a name is 1 to ${LIMITS.maxNameBytes} bytes`)
  await mkdir(home, { recursive: true, mode: 0o700 })
  await chmod(home, 0o700)
  const privateKey = await generateDeviceKey()
  const identityKey = await generateIdentityKey()
  const certificate = issueDeviceCertificate(identityKey, privateKey.publicKey)
  await writeFile(join(home, HOME_FILES.profile), JSON.stringify({ name: name.trim() }, null, 2) + '\n', { mode: 0o600 })
  const dataKey = await createDataKey(home, options.passphrase)
  await saveIdentityKey(join(home, HOME_FILES.identityKey), identityKey, dataKey)
  await writeFile(join(home, HOME_FILES.certificate), certificate, { mode: 0o600 })
  // The device key goes last: its presence is what marks a home as initialised.
  await saveDeviceKey(keyPath, privateKey, dataKey)
  return { privateKey, identityKey, certificate, name: name.trim(), dataKey }
}

/**
 * Read the identity in `home`.
 *
 * @throws {NoIdentityError} when there is none
 * @throws {PassphraseRequiredError | WrongPassphraseError} when its data key does not open
 */
export async function loadHome (home: string, options: HomeOptions = {}): Promise<Identity> {
  const keyPath = join(home, HOME_FILES.deviceKey)
  if (!await exists(keyPath)) throw new NoIdentityError(`no identity in ${home}: run "kith init" first`)
  const dataKey = await openDataKey(home, options.passphrase)
  const privateKey = await loadDeviceKey(keyPath, dataKey)
  // A linked device holds no identity key: only the device that made the identity does.
  const identityKey = await exists(join(home, HOME_FILES.identityKey)) ? await loadIdentityKey(join(home, HOME_FILES.identityKey), dataKey) : undefined
  const certificate = new Uint8Array(await readFile(join(home, HOME_FILES.certificate)))
  let name = 'kith user'
  try {
    name = JSON.parse(await readFile(join(home, HOME_FILES.profile), 'utf8')).name ?? name
  } catch {}
  return { privateKey, certificate, name, dataKey, ...(identityKey != null ? { identityKey } : {}) }
}

/**
 * Create a home for a device linked to an existing identity: its device key and the
 * certificate the identity device issued, and no identity key. `prepare` runs before the device
 * key is written (it fills the database), so a failed link leaves no half-made identity.
 *
 * @throws {IdentityExistsError} when the home folder already holds one
 */
export async function initLinkedHome (home: string, device: { privateKey: PrivateKey, certificate: Uint8Array, name: string }, options: HomeOptions, prepare: (dataKey: Uint8Array) => Promise<void>): Promise<Identity> {
  const keyPath = join(home, HOME_FILES.deviceKey)
  if (await exists(keyPath)) throw new IdentityExistsError(`${home} already holds an identity; use another --home to link a new device`)
  await mkdir(home, { recursive: true, mode: 0o700 })
  await chmod(home, 0o700)
  await writeFile(join(home, HOME_FILES.profile), JSON.stringify({ name: device.name }, null, 2) + '\n', { mode: 0o600 })
  const dataKey = await createDataKey(home, options.passphrase)
  await writeFile(join(home, HOME_FILES.certificate), device.certificate, { mode: 0o600 })
  await prepare(dataKey)
  await saveDeviceKey(keyPath, device.privateKey, dataKey)
  return { privateKey: device.privateKey, certificate: device.certificate, name: device.name, dataKey }
}

/** Ports a node listened on last time, so friends find it at the same address after a restart. */
export interface SavedPorts {
  tcp?: number
  ws?: number
}

export async function loadPorts (home: string): Promise<SavedPorts> {
  try {
    const { tcp, ws } = JSON.parse(await readFile(join(home, HOME_FILES.ports), 'utf8'))
    return { ...(Number.isInteger(tcp) ? { tcp } : {}), ...(Number.isInteger(ws) ? { ws } : {}) }
  } catch {
    return {}
  }
}

export async function savePorts (home: string, ports: SavedPorts): Promise<void> {
  await writeFile(join(home, HOME_FILES.ports), JSON.stringify(ports) + '\n', { mode: 0o600 })
}
