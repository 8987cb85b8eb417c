import { afterEach, describe, expect, it } from 'vitest'
import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LIMITS } from '@kith/core'
import { HOME_FILES, initHome, loadHome } from '@kith/node'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tempDir } from '../../../test/helpers/testnet.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const cleanup of cleanups.splice(0)) await cleanup() })

async function scratch (): Promise<string> {
  const dir = await tempDir('kith-home-')
  cleanups.push(dir.cleanup)
  return dir.path
}

async function exists (path: string): Promise<boolean> {
  try { await access(path); return true } catch { return false }
}

async function errorName (promise: Promise<unknown>): Promise<string> {
  try { await promise } catch (err: any) { return err?.name }
  throw new Error('expected a rejection')
}

describe('initHome', () => {
  it('creates the home (0700) with a device key (0600) and a profile', async () => {
    const home = join(await scratch(), 'nested', 'home')
    const identity = await initHome(home, '  alice  ')
    expect(identity.name).toBe('alice')
    expect((await stat(home)).mode & 0o777).toBe(0o700)
    expect((await stat(join(home, HOME_FILES.deviceKey))).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(join(home, HOME_FILES.profile), 'utf8'))).toEqual({ name: 'alice' })
    expect(identity.privateKey.type).toBe('Ed25519')
  })

  it('tightens an existing, open home folder to 0700', async () => {
    const home = await scratch()
    await chmod(home, 0o755)
    await initHome(home, 'alice')
    expect((await stat(home)).mode & 0o777).toBe(0o700)
  })

  it('refuses a second identity and leaves the first key untouched', async () => {
    const home = await scratch()
    const first = await initHome(home, 'alice')
    const keyBytes = await readFile(join(home, HOME_FILES.deviceKey))
    expect(await errorName(initHome(home, 'mallory'))).toBe('IdentityExistsError')
    expect(await readFile(join(home, HOME_FILES.deviceKey))).toEqual(keyBytes)
    const loaded = await loadHome(home)
    expect(loaded.name).toBe('alice')
    expect(peerIdFromPrivateKey(loaded.privateKey).equals(peerIdFromPrivateKey(first.privateKey))).toBe(true)
  })

  it('rejects an empty or too long name and creates nothing', async () => {
    for (const name of ['', '   ', 'x'.repeat(LIMITS.maxNameBytes + 1), 'é'.repeat(LIMITS.maxNameBytes / 2 + 1)]) {
      const home = join(await scratch(), 'home')
      await expect(initHome(home, name)).rejects.toThrow(TypeError)
      expect(await exists(join(home, HOME_FILES.deviceKey))).toBe(false)
    }
    const home = join(await scratch(), 'home')
    expect((await initHome(home, 'é'.repeat(LIMITS.maxNameBytes / 2))).name).toHaveLength(LIMITS.maxNameBytes / 2)
  })
})

describe('loadHome', () => {
  it('throws NoIdentityError on an empty or missing folder', async () => {
    const home = await scratch()
    expect(await errorName(loadHome(home))).toBe('NoIdentityError')
    expect(await errorName(loadHome(join(home, 'missing')))).toBe('NoIdentityError')
  })

  it('round-trips the key and the name', async () => {
    const home = await scratch()
    const created = await initHome(home, 'alice')
    const loaded = await loadHome(home)
    expect(loaded.name).toBe('alice')
    expect(peerIdFromPrivateKey(loaded.privateKey).toString()).toBe(peerIdFromPrivateKey(created.privateKey).toString())
    // The key still signs as the same identity.
    const data = new TextEncoder().encode('hello')
    expect(await created.privateKey.publicKey.verify(data, await loaded.privateKey.sign(data))).toBe(true)
  })

  it('falls back to a default name when the profile is missing or damaged', async () => {
    const home = await scratch()
    const created = await initHome(home, 'alice')
    await writeFile(join(home, HOME_FILES.profile), '{not json')
    expect((await loadHome(home)).name).toBe('kith user')
    await writeFile(join(home, HOME_FILES.profile), '{}')
    const loaded = await loadHome(home)
    expect(loaded.name).toBe('kith user')
    expect(peerIdFromPrivateKey(loaded.privateKey).equals(peerIdFromPrivateKey(created.privateKey))).toBe(true)
  })
})
