import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Daemon, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'

const run = promisify(execFile)
const MB = 1024 * 1024

/** Why this machine can't give a node a disk of its own that fills up (a small tmpfs), or undefined. */
async function noSmallDisk (): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'a small disk is a tmpfs mount: Linux only'
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root (CI runs the suite as root)'
  return undefined
}

const reason = await noSmallDisk()
if (reason != null) console.warn(`full-disk test skipped: ${reason}`)

// The receiver's home folder is on a 48 MiB disk of its own (a tmpfs): a 64 MiB file fills it.
describe.skipIf(reason != null)('a full disk (a real tmpfs that fills up, real kith processes)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let disk: string
  let mounted = false
  let alice: Daemon
  let bob: Daemon
  let aliceHome: string
  let bobHome: string

  beforeAll(async () => {
    dir = await tempDir('kith-e2e-disk-')
    disk = join(dir.path, 'disk')
    await mkdir(disk)
    await run('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', disk])
    mounted = true
    aliceHome = join(dir.path, 'alice')
    bobHome = join(disk, 'bob')
    alice = new Daemon(aliceHome)
    bob = new Daemon(bobHome)
    for (const [home, daemon] of [[aliceHome, alice], [bobHome, bob]] as const) {
      await kithJson(home, ['init', '--name', home === aliceHome ? 'alice' : 'bob', '--no-passphrase'])
      await daemon.start(0, {}, ['--auto-download', '0'])
    }
    const { code } = await kithJson(aliceHome, ['invite'])
    await kithJson(bobHome, ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson(aliceHome, ['contacts'])).length === 1, 20_000, 'alice to know bob')
  }, 60_000)
  afterAll(async () => {
    await alice?.kill9()
    await bob?.kill9()
    if (mounted) await run('umount', [disk]).catch(() => {})
    await dir?.cleanup()
  })

  it('stops with a clear error, keeps what it verified, and resumes once there is room', { timeout: 180_000 }, async () => {
    const source = join(dir.path, 'video.bin')
    const content = randomBytes(64 * MB)
    await writeFile(source, content)
    const sent = await kithJson(aliceHome, ['send-file', 'bob', source])
    const fileOf = async (): Promise<any> => (await kithJson<any[]>(bobHome, ['history', 'alice'])).find(m => m.id === sent.id)?.file
    await eventually(async () => await fileOf() != null, 30_000, 'bob to see the file')

    const dest = join(dir.path, 'video-copy.bin')
    const full = await kith(bobHome, ['save', sent.id, dest])
    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(/^kith: .*disk is full/i)
    const stopped = await fileOf()
    expect(stopped).toMatchObject({ state: 'failed', error: expect.stringMatching(/disk full/i) })
    expect(stopped.received).toBeGreaterThan(0)
    const fetchedBefore = (await kithJson(bobHome, ['status'])).files.fetchedBytes
    // The node keeps serving: bob still chats while his disk is full.
    expect((await kith(aliceHome, ['send', 'bob', 'still there?'])).code).toBe(0)

    await run('mount', ['-o', 'remount,size=256m', disk])
    const saved = await kith(bobHome, ['save', sent.id, dest, '--json'])
    expect(saved.code, saved.stderr).toBe(0)
    expect(createHash('sha256').update(await readFile(dest)).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'))
    // It went on from what it had, not from the start (chunks carry a 16-byte tag each).
    const fetchedAfter = (await kithJson(bobHome, ['status'])).files.fetchedBytes - fetchedBefore
    expect(fetchedAfter).toBeLessThanOrEqual(64 * MB - stopped.received + 64 * 16)
  })
})
