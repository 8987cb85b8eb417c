import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeInvite, toHex } from '@kith/core'
import { loadHome } from '@kith/node'
import { Daemon, KITH_BIN, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'
import { filesContaining } from './helpers/grep.js'

// Real `kith` processes and real home folders: what a copy of the disk shows, and what a start does to it.
const PASS = 'correct horse battery'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function newHome (name: string): Promise<string> {
  const dir = await tempDir(`kith-at-rest-${name}-`)
  cleanups.push(dir.cleanup)
  return join(dir.path, name)
}
function daemon (home: string): Daemon {
  const d = new Daemon(home)
  cleanups.push(async () => { await d.kill9() })
  return d
}
/** Open `home` in this process without upgrading it (a cost no higher than any the tests store). */
async function openOnly (home: string): Promise<Uint8Array> {
  const before = process.env.KITH_TEST_SCRYPT_N
  process.env.KITH_TEST_SCRYPT_N = '1024'
  try {
    return (await loadHome(home, { passphrase: PASS })).dataKey
  } finally {
    if (before == null) delete process.env.KITH_TEST_SCRYPT_N; else process.env.KITH_TEST_SCRYPT_N = before
  }
}
const storedN = async (home: string): Promise<number> => JSON.parse(await readFile(join(home, 'datakey.json'), 'utf8')).N

describe('invite tokens at rest', () => {
  it('no file of either home holds the token, before or after it is redeemed, and redeeming works', async () => {
    const aliceHome = await newHome('alice')
    const bobHome = await newHome('bob')
    await kithJson(aliceHome, ['init', '--name', 'alice', '--no-passphrase'])
    await kithJson(bobHome, ['init', '--name', 'bob', '--no-passphrase'])
    const alice = daemon(aliceHome)
    const bob = daemon(bobHome)
    await alice.start()
    await bob.start()

    const { code } = await kithJson(aliceHome, ['invite'])
    const token = decodeInvite(code).token
    const needles = [toHex(token), toHex(token).toUpperCase(), Buffer.from(token).toString('latin1'), Buffer.from(token).toString('base64')]
    expect(await filesContaining(aliceHome, needles)).toEqual([])

    await kithJson(bobHome, ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson(aliceHome, ['contacts'])).some((c: any) => c.name === 'bob'), 30_000, 'alice to add bob by the invite')
    expect(await filesContaining(aliceHome, needles)).toEqual([])
    expect(await filesContaining(bobHome, needles)).toEqual([])
  })
})

describe('a passphrase home made with a lower scrypt cost', () => {
  it('starts, is rewrapped at the current cost by kith start, and starts again', async () => {
    const home = await newHome('carol')
    const init = await kith(home, ['init', '--name', 'carol', '--json'], undefined, { KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: '1024' })
    expect(init.code, init.stderr).toBe(0)
    expect(await storedN(home)).toBe(1024)

    const carol = daemon(home)
    await carol.start(0, { KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: '2048' })
    expect(await storedN(home)).toBe(2048)
    expect(await carol.stop()).toBe(0)
    await carol.start(0, { KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: '2048' })
    expect((await kithJson(home, ['status'])).name).toBe('carol')
    expect(await carol.stop()).toBe(0)
    const wrong = await kith(home, ['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], undefined, { KITH_PASSPHRASE: 'wrong horse', KITH_TEST_SCRYPT_N: '2048' })
    expect(wrong.stderr).toMatch(/^kith: wrong passphrase/)
  })

  it('killed (-9) the moment the new wrapping appears on disk, it still opens with the passphrase', async () => {
    const home = await newHome('dave')
    const init = await kith(home, ['init', '--name', 'dave', '--json'], undefined, { KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: '1024' })
    expect(init.code, init.stderr).toBe(0)
    const dataKey = await openOnly(home)

    const child = spawn(process.execPath, [KITH_BIN, '--home', home, 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], { stdio: 'ignore', env: { ...process.env, KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: String(2 ** 14) } })
    const exited = new Promise(resolve => child.once('exit', resolve))
    let landed = false
    const watcher = watch(home, (_event, name) => {
      if (landed || name?.startsWith('datakey.json.next-') !== true) return
      landed = true
      child.kill('SIGKILL')
    })
    cleanups.push(async () => { watcher.close(); child.kill('SIGKILL') })
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 30_000))])
    watcher.close()
    expect(landed, 'the upgrade wrote its new file before the process was killed').toBe(true)

    // Whichever wrapping the kill left (old, or new already renamed), the passphrase opens it...
    expect(await openOnly(home)).toEqual(dataKey)
    // ...and the next start finishes the upgrade.
    const dave = daemon(home)
    await dave.start(0, { KITH_PASSPHRASE: PASS, KITH_TEST_SCRYPT_N: String(2 ** 14) })
    expect(await storedN(home)).toBe(2 ** 14)
    expect((await kithJson(home, ['status'])).name).toBe('dave')
  })
})
