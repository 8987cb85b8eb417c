import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { initHome, loadHome, needsPassphrase } from '@kith/node'
import { tempDir } from '../../../test/helpers/testnet.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })
// A cheap scrypt cost keeps these fast; data-key-upgrade.test.ts covers the real one.
const scryptBefore = process.env.KITH_TEST_SCRYPT_N
beforeAll(() => { process.env.KITH_TEST_SCRYPT_N = String(2 ** 10) })
afterAll(() => { if (scryptBefore == null) delete process.env.KITH_TEST_SCRYPT_N; else process.env.KITH_TEST_SCRYPT_N = scryptBefore })
async function home (): Promise<string> {
  const dir = await tempDir('kith-home-')
  cleanups.push(dir.cleanup)
  return join(dir.path, 'home')
}

describe('data key of a home folder', () => {
  it('with a passphrase: opens with it only, and names what is wrong', async () => {
    const h = await home()
    const created = await initHome(h, 'alice', { passphrase: 'open sesame' })
    expect(await needsPassphrase(h)).toBe(true)
    await expect(loadHome(h)).rejects.toMatchObject({ name: 'PassphraseRequiredError' })
    await expect(loadHome(h, { passphrase: 'open says me' })).rejects.toMatchObject({ name: 'WrongPassphraseError' })
    const loaded = await loadHome(h, { passphrase: 'open sesame' })
    expect(loaded.privateKey.publicKey.equals(created.privateKey.publicKey)).toBe(true)
    await expect(stat(join(h, 'keyfile'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('without a passphrase: a key file (0600) opens it', async () => {
    const h = await home()
    const created = await initHome(h, 'bob')
    expect(await needsPassphrase(h)).toBe(false)
    expect((await stat(join(h, 'keyfile'))).mode & 0o777).toBe(0o600)
    expect((await stat(join(h, 'datakey.json'))).mode & 0o777).toBe(0o600)
    expect((await loadHome(h)).privateKey.publicKey.equals(created.privateKey.publicKey)).toBe(true)
  })

  it('keeps the device key sealed on disk', async () => {
    const h = await home()
    const { privateKey } = await initHome(h, 'carol')
    const onDisk = await readFile(join(h, 'device.key'))
    const raw = Buffer.from(privateKeyToProtobuf(privateKey))
    expect(onDisk.includes(raw.subarray(4, 36))).toBe(false) // the seed
    expect(onDisk.equals(raw)).toBe(false)
  })
})
