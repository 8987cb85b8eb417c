import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Daemon, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'
import { CLEAN, ledger } from './helpers/ledger.js'

interface Line { id: string, fromName: string, text: string, status: string, pending?: string }

// Homes restored from an older copy (a backup, a VM snapshot), with real `kith` processes: the
// restored side reuses session state it had already used. Every scenario ends with a ledger.
describe('kith with a home restored from an older copy (separate processes, real TCP, real LevelDB)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  const home = (name: string): string => join(dir.path, name)
  const daemons = new Map<string, Daemon>()
  const ports = new Map<string, number>()

  beforeAll(async () => { dir = await tempDir('kith-faults-') })
  afterAll(async () => {
    for (const d of daemons.values()) await d.kill9()
    await dir?.cleanup()
  })

  async function start (name: string): Promise<void> {
    const daemon = new Daemon(home(name))
    daemons.set(name, daemon)
    await daemon.start(ports.get(name) ?? 0)
    ports.set(name, await daemon.port())
  }
  async function stop (name: string): Promise<void> { expect(await daemons.get(name)?.stop()).toBe(0) }
  async function history (name: string, contact: string): Promise<Line[]> {
    return await kithJson<Line[]>(home(name), ['history', contact, '--limit', '1000'])
  }
  async function send (name: string, contact: string, texts: string[]): Promise<Array<{ id: string }>> {
    const sent = []
    for (const text of texts) sent.push(await kithJson<{ id: string }>(home(name), ['send', contact, text]))
    return sent
  }
  async function delivered (name: string, contact: string, ids: string[]): Promise<void> {
    await eventually(async () => {
      const lines = await history(name, contact)
      return ids.every(id => lines.find(l => l.id === id)?.status === 'delivered')
    }, 60_000, `${name}'s messages to ${contact} delivered`)
  }
  async function backup (name: string): Promise<void> {
    await cp(home(name), join(dir.path, `${name}-backup`), { recursive: true })
  }
  async function restore (name: string): Promise<void> {
    await rm(home(name), { recursive: true })
    await cp(join(dir.path, `${name}-backup`), home(name), { recursive: true })
  }
  /** What `from` sent to `to`, against what `to` holds from `from`. */
  async function ledgerOf (from: string, to: string): Promise<ReturnType<typeof ledger>> {
    const sent = (await history(from, to)).filter(l => l.fromName === 'me')
    return ledger(sent, (await history(to, from)).filter(l => l.fromName !== 'me'))
  }

  it('sets up alice and bob, who chat', async () => {
    await kithJson(home('alice'), ['init', '--name', 'alice'])
    await kithJson(home('bob'), ['init', '--name', 'bob'])
    await start('alice')
    await start('bob')
    const { code } = await kithJson(home('alice'), ['invite'])
    await kithJson(home('bob'), ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson<any[]>(home('alice'), ['contacts'])).length === 1, 30_000, 'alice to know bob')
    await delivered('alice', 'bob', (await send('alice', 'bob', ['hello bob', 'how are you'])).map(m => m.id))
    await delivered('bob', 'alice', (await send('bob', 'alice', ['fine, you?'])).map(m => m.id))
  })

  it('delivers what a sender restored from an older copy sends next: none refused, none lost, none twice', async () => {
    await stop('alice')
    await backup('alice')
    await start('alice')
    const firstLife = await send('alice', 'bob', ['after the backup 1', 'after the backup 2', 'after the backup 3'])
    await delivered('alice', 'bob', firstLife.map(m => m.id))
    await stop('alice')
    await restore('alice')
    await start('alice')
    const secondLife = await send('alice', 'bob', ['after the restore 1', 'after the restore 2', 'after the restore 3'])
    await delivered('alice', 'bob', secondLife.map(m => m.id))
    expect(await ledgerOf('alice', 'bob')).toEqual(CLEAN)
    // Bob keeps what alice's first life sent, once each (her restored home lost it, he did not).
    const atBob = await history('bob', 'alice')
    expect(ledger(firstLife.map(m => ({ id: m.id, status: 'delivered' })), atBob)).toEqual(CLEAN)
    expect(atBob.filter(l => l.text.startsWith('after the')).map(l => l.text)).toEqual([
      'after the backup 1', 'after the backup 2', 'after the backup 3', 'after the restore 1', 'after the restore 2', 'after the restore 3'
    ])
    // And bob's replies open in the renewed session.
    await delivered('bob', 'alice', (await send('bob', 'alice', ['welcome back'])).map(m => m.id))
    expect(await ledgerOf('bob', 'alice')).toEqual(CLEAN)
    const status = await kithJson(home('alice'), ['status'])
    expect(status.metrics.resets).toBeGreaterThanOrEqual(1)
  })

  it('delivers both ways after a receiver is restored from an older copy', async () => {
    await stop('bob')
    await backup('bob')
    await start('bob')
    await delivered('alice', 'bob', (await send('alice', 'bob', ['bob, before your restore'])).map(m => m.id))
    await delivered('bob', 'alice', (await send('bob', 'alice', ['alice, before my restore'])).map(m => m.id))
    await stop('bob')
    await restore('bob')
    await start('bob')
    // Bob's sending chain is back where it was: alice has spent those keys, asks for a new session.
    const fromBob = await send('bob', 'alice', ['restored 1', 'restored 2'])
    const fromAlice = await send('alice', 'bob', ['and to you 1', 'and to you 2'])
    await delivered('bob', 'alice', fromBob.map(m => m.id))
    await delivered('alice', 'bob', fromAlice.map(m => m.id))
    expect(await ledgerOf('bob', 'alice')).toEqual(CLEAN)
    const atBob = await history('bob', 'alice')
    expect(ledger(fromAlice.map(m => ({ id: m.id, status: 'delivered' })), atBob)).toEqual(CLEAN)
    for (const name of ['alice', 'bob']) {
      const status = await kithJson(home(name), ['status'])
      expect(status.metrics.refusedNotContact).toBe(0)
    }
  })
})
