import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Daemon, KITH_BIN, kith, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'
import { filesContaining } from './helpers/grep.js'

// Two users, each a real `kith start` process with its own home, driven only through the CLI.
describe('kith CLI end to end (separate processes, real TCP, real LevelDB)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let aliceHome: string, bobHome: string
  let alice: Daemon, bob: Daemon
  let alicePeerId: string, bobPeerId: string

  beforeAll(async () => {
    dir = await tempDir('kith-e2e-')
    aliceHome = join(dir.path, 'alice')
    bobHome = join(dir.path, 'bob')
    alice = new Daemon(aliceHome)
    bob = new Daemon(bobHome)
  })
  afterAll(async () => {
    await alice?.kill9()
    await bob?.kill9()
    await dir?.cleanup()
  })

  const historyAtBob = async (): Promise<Array<{ id: string, from: string, text: string, ts: number, status: string }>> =>
    await kithJson(bobHome, ['history', 'alice', '--limit', '1000'])

  it('init creates an identity once, with a 0600 key', async () => {
    const a = await kithJson(aliceHome, ['init', '--name', 'alice'])
    expect(a).toEqual({ peerId: expect.stringMatching(/^12D3KooW/), name: 'alice' })
    alicePeerId = a.peerId
    bobPeerId = (await kithJson(bobHome, ['init', '--name', 'bob'])).peerId
    expect(statSync(join(aliceHome, 'device.key')).mode & 0o777).toBe(0o600)

    const again = await kith(aliceHome, ['init', '--name', 'alice'])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/already holds an identity/)
    expect(again.stderr.split('\n').filter(Boolean)).toHaveLength(1)
  })

  it('client commands fail clearly while no node runs', async () => {
    const result = await kith(aliceHome, ['status', '--json'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/^kith: no node is running/)
  })

  it('start, status, invite, accept, contacts', async () => {
    await alice.start()
    await bob.start()
    const status = await kithJson(aliceHome, ['status'])
    expect(status).toMatchObject({ peerId: alicePeerId, addresses: [expect.stringContaining('/ip4/127.0.0.1/tcp/')], connections: 0 })
    expect(statSync(join(aliceHome, 'api.token')).mode & 0o777).toBe(0o600)

    const { code } = await kithJson(aliceHome, ['invite'])
    expect(code).toMatch(/^kith1/)
    expect(await kithJson(bobHome, ['accept', code, '--name', 'alice'])).toEqual({ contact: 'alice', peerId: alicePeerId })

    const contacts = await eventually(async () => {
      const list = await kithJson(aliceHome, ['contacts'])
      return list.length === 1 && list[0].online === true ? list : undefined
    }, 20_000, 'alice to see bob')
    expect(contacts).toEqual([{ name: 'bob', peerId: bobPeerId, online: true, connection: 'direct', verified: false, identityChanged: false, groupReady: expect.any(Boolean), devices: 1, unread: 0 }])
    expect(await kithJson(bobHome, ['contacts'])).toEqual([{ name: 'alice', peerId: alicePeerId, online: true, connection: 'direct', verified: false, identityChanged: false, groupReady: expect.any(Boolean), devices: 1, unread: 0 }])
  })

  it('verify shows both people the same safety number, and --mark records it', async () => {
    const atAlice = await kithJson(aliceHome, ['verify', 'bob'])
    const atBob = await kithJson(bobHome, ['verify', 'alice'])
    expect(atAlice.safetyNumber).toMatch(/^(\d{5} ){11}\d{5}$/)
    expect(atAlice.safetyNumber).toBe(atBob.safetyNumber)
    expect(atAlice).toMatchObject({ contact: 'bob', verified: false, identityChanged: false })
    expect(await kithJson(aliceHome, ['verify', 'bob', '--mark'])).toMatchObject({ verified: true })
    expect((await kithJson(aliceHome, ['contacts']))[0]).toMatchObject({ name: 'bob', verified: true })
  })

  it('rejects bad input with one line and a non-zero exit', async () => {
    for (const args of [['send', 'nobody', 'hi'], ['send', 'bob', ''], ['accept', 'not-a-code', '--name', 'x'], ['history', 'nobody']]) {
      const result = await kith(aliceHome, args)
      expect(result.code, args.join(' ')).not.toBe(0)
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const tooLong = await kith(aliceHome, ['send', 'bob', 'x'.repeat(20_000)])
    expect(tooLong.stderr).toMatch(/longer than/)
  })

  it('sends, watches and keeps history', async () => {
    const watch = spawn(process.execPath, [KITH_BIN, '--home', bobHome, 'watch', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let watched = ''
    watch.stdout.on('data', d => { watched += String(d) })
    await new Promise(resolve => setTimeout(resolve, 1_000)) // let it subscribe

    const sent = []
    for (let i = 0; i < 5; i++) {
      const m = await kithJson(aliceHome, ['send', 'bob', `hello ${i}`])
      expect(m).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), status: 'queued' })
      sent.push(m.id)
    }
    const history = await eventually(async () => { const h = await historyAtBob(); return h.length === 5 ? h : undefined }, 20_000, 'bob to receive 5')
    expect(history.map(m => m.text)).toEqual(['hello 0', 'hello 1', 'hello 2', 'hello 3', 'hello 4'])
    expect(history[0]).toMatchObject({ id: sent[0], from: alicePeerId, status: 'received', ts: expect.any(Number) })

    await eventually(() => watched.split('\n').filter(l => l.includes('"type":"message"')).length === 5, 10_000, 'watch events')
    watch.kill()
    const event = JSON.parse(watched.split('\n').find(l => l.includes('"type":"message"')) ?? '{}')
    expect(event.message).toMatchObject({ text: 'hello 0', from: alicePeerId })

    await eventually(async () => (await kithJson(aliceHome, ['history', 'bob'])).every((m: any) => m.status === 'delivered'), 20_000, 'delivered')
  })

  it('kill -9 of the receiver loses nothing and duplicates nothing', async () => {
    const port = await bob.port()
    await bob.kill9()
    const lines = Array.from({ length: 10 }, (_, i) => `while bob was down ${i}`)
    const out = await kith(aliceHome, ['send', 'bob', '-', '--json'], lines.join('\n') + '\n')
    expect(out.code).toBe(0)
    expect(out.stdout.trim().split('\n').map(l => JSON.parse(l).status)).toEqual(Array(10).fill('queued'))

    await bob.start(port)
    const history = await eventually(async () => { const h = await historyAtBob(); return h.length >= 15 ? h : undefined }, 30_000, 'bob to catch up')
    expect(history.map(m => m.text)).toEqual([...Array.from({ length: 5 }, (_, i) => `hello ${i}`), ...lines])
    expect(new Set(history.map(m => m.id)).size).toBe(history.length)
  })

  it('kill -9 of the sender mid-stream loses nothing and duplicates nothing', async () => {
    const port = await alice.port()
    const lines = Array.from({ length: 40 }, (_, i) => `burst ${i}`)
    const sender = spawn(process.execPath, [KITH_BIN, '--home', aliceHome, 'send', 'bob', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let accepted = ''
    sender.stdout.on('data', d => { accepted += String(d) })
    sender.stdin.end(lines.join('\n') + '\n')
    // Kill the node while the sender is still handing it messages.
    await eventually(() => accepted.split('\n').filter(Boolean).length >= 10, 20_000, 'some messages accepted')
    await alice.kill9()
    await new Promise(resolve => sender.once('exit', resolve))
    const acceptedIds = accepted.split('\n').filter(Boolean).map(l => JSON.parse(l).id as string)
    expect(acceptedIds.length).toBeGreaterThanOrEqual(10)

    await alice.start(port)
    const history = await eventually(async () => {
      const h = await historyAtBob()
      return acceptedIds.every(id => h.some(m => m.id === id)) ? h : undefined
    }, 30_000, 'every accepted message at bob')
    const bursts = history.filter(m => m.text.startsWith('burst '))
    expect(new Set(bursts.map(m => m.id)).size).toBe(bursts.length)
    expect(bursts.map(m => m.text)).toEqual(lines.slice(0, bursts.length))
  })

  it('leaves no message text in any file of either home folder (encrypted at rest)', async () => {
    expect((await historyAtBob()).some(m => m.text === 'hello 0')).toBe(true)
    for (const home of [aliceHome, bobHome]) {
      const hits = await filesContaining(home, ['hello 0', 'while bob was down', 'burst 1'])
      expect(hits, home).toEqual([])
    }
  })

  it('stops gracefully on SIGTERM', async () => {
    expect(await alice.stop()).toBe(0)
    expect(await bob.stop()).toBe(0)
    expect(existsSync(join(aliceHome, 'api.json'))).toBe(false)
  })
})

describe('a passphrase-protected home', () => {
  it('is created with KITH_PASSPHRASE and will not start without it', async () => {
    const dir = await tempDir('kith-e2e-pass-')
    const home = join(dir.path, 'carol')
    const daemon = new Daemon(home)
    try {
      const init = await kith(home, ['init', '--name', 'carol', '--json'], undefined, { KITH_PASSPHRASE: 'correct horse battery' })
      expect(init.code).toBe(0)
      expect(existsSync(join(home, 'keyfile'))).toBe(false)

      const refused = await kith(home, ['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toMatch(/^kith: .*passphrase/)
      const wrong = await kith(home, ['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], undefined, { KITH_PASSPHRASE: 'wrong horse' })
      expect(wrong.stderr).toMatch(/^kith: wrong passphrase/)

      await daemon.start(0, { KITH_PASSPHRASE: 'correct horse battery' })
      expect((await kithJson(home, ['status'])).name).toBe('carol')
    } finally {
      await daemon.kill9()
      await dir.cleanup()
    }
  })
})
