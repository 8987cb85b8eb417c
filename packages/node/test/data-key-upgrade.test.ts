import { afterEach, describe, expect, it } from 'vitest'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SCRYPT_PARAMS, unwrapDataKey, wrapWithPassphrase } from '@kith/crypto'
import { initHome, loadHome } from '@kith/node'
import { scryptParams, upgradeDataKey } from '../src/data-key.js'
import { tempDir } from '../../../test/helpers/testnet.js'

const PASS = 'open sesame'
const OLD = { N: 2 ** 10, r: 8, p: 1 }
const cleanups: Array<() => Promise<void>> = []
const envBefore = process.env.KITH_TEST_SCRYPT_N
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
  if (envBefore == null) delete process.env.KITH_TEST_SCRYPT_N; else process.env.KITH_TEST_SCRYPT_N = envBefore
})

async function home (): Promise<string> {
  const dir = await tempDir('kith-upgrade-')
  cleanups.push(dir.cleanup)
  return join(dir.path, 'home')
}
const stored = async (h: string): Promise<any> => JSON.parse(await readFile(join(h, 'datakey.json'), 'utf8'))

describe('the passphrase wrapping of a home is upgraded at start', () => {
  it('a home made with the old cost opens, is rewrapped at the current cost, and opens again', async () => {
    process.env.KITH_TEST_SCRYPT_N = String(OLD.N)
    const h = await home()
    const created = await initHome(h, 'alice', { passphrase: PASS })
    expect(await stored(h)).toMatchObject({ N: OLD.N })

    process.env.KITH_TEST_SCRYPT_N = String(2 ** 11)
    const first = await loadHome(h, { passphrase: PASS })
    expect(first.dataKey).toEqual(created.dataKey)
    expect(await stored(h)).toMatchObject({ kdf: 'scrypt', N: 2 ** 11, r: 8, p: 1 })
    expect((await readdir(h)).filter(f => f.startsWith('datakey.json.'))).toEqual([])
    const again = await loadHome(h, { passphrase: PASS })
    expect(again.privateKey.publicKey.equals(created.privateKey.publicKey)).toBe(true)
    await expect(loadHome(h, { passphrase: 'open says me' })).rejects.toMatchObject({ name: 'WrongPassphraseError' })
  })

  it('a home wrapped with 2^15 (kith 0.1) is rewrapped with the default cost', async () => {
    delete process.env.KITH_TEST_SCRYPT_N
    expect(scryptParams()).toEqual(SCRYPT_PARAMS)
    process.env.KITH_TEST_SCRYPT_N = String(OLD.N)
    const h = await home()
    const created = await initHome(h, 'bob', { passphrase: PASS })
    // What kith 0.1 wrote.
    await writeFile(join(h, 'datakey.json'), JSON.stringify(await wrapWithPassphrase(created.dataKey, PASS, { N: 2 ** 15, r: 8, p: 1 })))
    delete process.env.KITH_TEST_SCRYPT_N
    expect((await loadHome(h, { passphrase: PASS })).dataKey).toEqual(created.dataKey)
    expect(await stored(h)).toMatchObject({ N: SCRYPT_PARAMS.N, r: SCRYPT_PARAMS.r, p: SCRYPT_PARAMS.p })
  })

  it('a stronger wrapping is left as it is', async () => {
    process.env.KITH_TEST_SCRYPT_N = String(2 ** 11)
    const h = await home()
    await initHome(h, 'carol', { passphrase: PASS })
    const before = await readFile(join(h, 'datakey.json'), 'utf8')
    process.env.KITH_TEST_SCRYPT_N = String(OLD.N)
    await loadHome(h, { passphrase: PASS })
    expect(await readFile(join(h, 'datakey.json'), 'utf8')).toBe(before)
  })

  it('is crash-safe: stopped after any step, the home opens with the passphrase, and is upgraded on the next start', async () => {
    for (const crashAfter of ['written', 'replaced', 'synced'] as const) {
      process.env.KITH_TEST_SCRYPT_N = String(OLD.N)
      const h = await home()
      const created = await initHome(h, 'dave', { passphrase: PASS })
      await expect(upgradeDataKey(h, created.dataKey, PASS, { ...OLD, N: 2 ** 11 }, {
        after: async (step) => { if (step === crashAfter) throw new Error('killed') }
      })).rejects.toThrow('killed')
      // Whatever is left, old wrapping or new, opens: kith start again (which finishes the upgrade).
      process.env.KITH_TEST_SCRYPT_N = String(2 ** 11)
      expect((await loadHome(h, { passphrase: PASS })).dataKey, `after ${crashAfter}`).toEqual(created.dataKey)
      expect(await stored(h)).toMatchObject({ N: 2 ** 11 })
      expect((await readdir(h)).filter(f => f.startsWith('datakey.json.')), `after ${crashAfter}`).toEqual([])
      expect((await loadHome(h, { passphrase: PASS })).dataKey).toEqual(created.dataKey)
    }
  })

  it('a wrapping left half-done is whole: the passphrase opens it too', async () => {
    process.env.KITH_TEST_SCRYPT_N = String(OLD.N)
    const h = await home()
    const created = await initHome(h, 'erin', { passphrase: PASS })
    const before = await readFile(join(h, 'datakey.json'), 'utf8')
    await expect(upgradeDataKey(h, created.dataKey, PASS, { ...OLD, N: 2 ** 11 }, {
      after: async (step) => { if (step === 'written') throw new Error('killed') }
    })).rejects.toThrow('killed')
    expect(await readFile(join(h, 'datakey.json'), 'utf8')).toBe(before)
    const left = (await readdir(h)).filter(f => f.startsWith('datakey.json.next-'))
    expect(left).toHaveLength(1)
    expect(await unwrapDataKey(JSON.parse(await readFile(join(h, left[0] as string), 'utf8')), PASS)).toEqual(created.dataKey)
  })
})
