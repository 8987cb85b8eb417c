import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Daemon, KITH_BIN, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/**
 * Issue 15's fault "a file fetched by the recipient's second device and by our own second
 * device", with real `kith` processes: before the fix, the sender served only the device the
 * file was sent to, and both second devices got "no source will serve this file".
 */
describe('files on second devices (e2e, separate processes)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const homes: Record<string, string> = {}
  const daemons: Daemon[] = []
  // Nothing downloads by itself: each save below is the download being tested.
  const startArgs = ['--auto-download', '0']

  async function start (name: string): Promise<void> {
    const daemon = new Daemon(homes[name] as string)
    daemons.push(daemon)
    await daemon.start(0, {}, startArgs)
  }

  /**
   * Link a new device the way a script does: `kith init --link` shows the comparison code and
   * waits; `kith device confirm` on the identity device certifies it.
   */
  async function link (identityDevice: string, name: string): Promise<void> {
    const { code } = await kithJson(homes[identityDevice] as string, ['device', 'link'])
    const joining = spawn(process.execPath, [KITH_BIN, '--home', homes[name] as string, 'init', '--link', code, '--device-name', name, '--no-passphrase', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>(resolve => joining.once('exit', code => { resolve(code) }))
    let out = ''
    let err = ''
    joining.stdout.on('data', d => { out += String(d) })
    joining.stderr.on('data', d => { err += String(d) })
    const comparison = await eventually(() => /comparison code: (\d{3} \d{3})/.exec(err)?.[1], 60_000, `${name} to show its comparison code`)
    await kithJson(homes[identityDevice] as string, ['device', 'confirm', comparison.replace(' ', '')])
    expect(await exited, err).toBe(0)
    expect(JSON.parse(out)).toMatchObject({ comparison })
    await start(name)
  }

  beforeAll(async () => {
    dir = await tempDir('kith-e2e-files-devices-')
    for (const name of ['alice', 'alicePhone', 'bob', 'bobPhone']) homes[name] = join(dir.path, name)
    await mkdir(join(dir.path, 'out'))
    await kithJson(homes.alice!, ['init', '--name', 'alice', '--no-passphrase'])
    await kithJson(homes.bob!, ['init', '--name', 'bob', '--no-passphrase'])
    await start('alice')
    await start('bob')
    const { code } = await kithJson(homes.alice!, ['invite'])
    await kithJson(homes.bob!, ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson<any[]>(homes.alice!, ['contacts'])).length === 1, 30_000, 'alice to hear from bob')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(daemons.map(async d => { await d.kill9() }))
    await dir?.cleanup()
  })

  it('a file alice sends bob is saved on bob\'s phone and on alice\'s phone', { timeout: 300_000 }, async () => {
    await link('bob', 'bobPhone')
    await eventually(async () => (await kithJson<any[]>(homes.alice!, ['contacts']))[0]?.devices === 2, 60_000, 'alice to know bob\'s two devices')
    await link('alice', 'alicePhone')
    await eventually(async () => (await kithJson<any[]>(homes.alice!, ['devices'])).length === 2, 30_000, 'alice to have two devices')

    const content = randomBytes(2 * 1024 * 1024 + 777)
    const source = join(dir.path, 'slides.pdf')
    await writeFile(source, content)
    const sent = await kithJson(homes.alice!, ['send-file', 'bob', source])
    const offered = async (who: string, conversation: string): Promise<boolean> =>
      (await kithJson<any[]>(homes[who] as string, ['history', conversation, '--limit', '1000'])).some(m => m.id === sent.id && m.file?.hash === sent.hash)
    await eventually(async () => await offered('bobPhone', 'alice'), 60_000, 'bob\'s phone to see the file offered')
    await eventually(async () => await offered('alicePhone', 'bob'), 60_000, 'alice\'s phone to see its copy of the offer')

    for (const who of ['bobPhone', 'alicePhone']) {
      const dest = join(dir.path, 'out', `${who}.pdf`)
      const saved = await kith(homes[who] as string, ['save', sent.id, dest, '--json'], undefined, {}, 120_000)
      expect(saved.code, `${who}: ${saved.stderr}`).toBe(0)
      expect(JSON.parse(saved.stdout)).toEqual({ path: dest, size: content.length, hash: sent.hash })
      expect(sha256(await readFile(dest))).toBe(sha256(content))
    }
    // The sender counted no refusal: every device asked was one of the conversation's.
    const status = await kithJson(homes.alice!, ['status'])
    expect(status.files.refused['not-yours'] ?? 0).toBe(0)
  })
})
