// Reaching anyone, on a real network: hosts in Linux network namespaces (test/helpers/netns.ts),
// alice and bob each behind their own home NAT, a friend's relay, a bootstrap node and a
// stranger on the public side, every one a real `kith` process with its own LevelDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KITH_BIN } from './helpers/cli.js'
import { createRig, rigUnavailable } from './helpers/netns.js'
import type { ChildProcess } from 'node:child_process'
import type { Rig } from './helpers/netns.js'

const reason = await rigUnavailable()
if (reason != null) console.warn(`reach-anyone rig tests skipped: ${reason}`)

const STRANGER = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'stranger.mjs')
const PORT = 4001
/** Mailbox quotas of the relay: a stranger's flood hits the sender quota, friends still fit. */
const SENDER_QUOTA = 300

describe.skipIf(reason != null)('reach anyone: NAT, a friend\'s relay, mailboxes, the DHT (network namespaces, real kith processes)', () => {
  let rig: Rig
  let root: string
  const ids: Record<string, string> = {}
  const daemons: Record<string, { child: ChildProcess, output: string }> = {}
  const home = (name: string): string => join(root, name)

  /** `kith --home HOME ...args` inside the host's namespace (the API listens on its loopback). */
  async function kith (name: string, args: string[], input?: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
    return await rig.exec(name, process.execPath, [KITH_BIN, '--home', home(name), ...args], { timeoutMs: 60_000, ...(input != null ? { input } : {}) })
  }
  async function kithJson<T = any> (name: string, args: string[], input?: string): Promise<T> {
    const result = await kith(name, [...args, '--json'], input)
    if (result.code !== 0) throw new Error(`${name}: kith ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
    return JSON.parse(result.stdout)
  }
  const bootstrap = (): string => `/ip4/${rig.hosts.boot?.ip}/tcp/${PORT}/p2p/${ids.boot}`

  async function start (name: string, extra: string[] = []): Promise<void> {
    const child = rig.spawn(name, process.execPath, [KITH_BIN, '--home', home(name), 'start', '--listen', `/ip4/0.0.0.0/tcp/${PORT}`, '--no-mdns', ...(name === 'boot' ? [] : ['--bootstrap', bootstrap()]), ...extra])
    const daemon = { child, output: '' }
    daemons[name] = daemon
    child.stdout?.on('data', d => { daemon.output += String(d) })
    child.stderr?.on('data', d => { daemon.output += String(d) })
    await waitUntil(async () => {
      if (child.exitCode != null) throw new Fatal(`${name} exited ${child.exitCode}: ${daemon.output}`)
      return (await kith(name, ['status'])).code === 0
    }, 30_000, `${name} to start`)
  }
  async function stop (name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = daemons[name]?.child
    if (child == null || child.exitCode != null || child.signalCode != null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    // `ip netns exec` runs kith as its child: signal the whole process group.
    process.kill(-(child.pid as number), signal)
    await exited
  }
  async function befriend (inviter: string, invitee: string, alias: string): Promise<void> {
    const { code } = await kithJson(inviter, ['invite'])
    await kithJson(invitee, ['accept', code, '--name', alias])
    await waitUntil(async () => (await kithJson<any[]>(inviter, ['contacts'])).some(c => c.peerId === ids[invitee]), 60_000, `${inviter} to hear from ${invitee}`)
  }
  async function history (name: string, contact: string): Promise<any[]> {
    return await kithJson<any[]>(name, ['history', contact, '--limit', '1000'])
  }
  async function status (name: string): Promise<any> { return await kithJson(name, ['status']) }

  beforeAll(async () => {
    rig = await createRig({ public: ['boot', 'relay', 'dave', 'mallory'], natted: ['alice', 'bob'] })
    root = await mkdtemp(join(tmpdir(), 'kith-rig-'))
    for (const name of ['boot', 'relay', 'dave', 'alice', 'bob']) {
      ids[name] = (await kithJson(name, ['init', '--name', name, '--no-passphrase'])).peerId
    }
    await start('boot', ['--public'])
    await start('relay', ['--public', '--relay', '--mailbox-sender-quota', String(SENDER_QUOTA)])
    await start('dave', ['--public'])
    await start('alice')
    await start('bob')
    for (const name of ['alice', 'bob', 'dave']) await befriend('relay', name, 'relay')
    // Behind their NATs, alice and bob take reservations on their friend's relay.
    for (const name of ['alice', 'bob']) {
      await waitUntil(async () => (await status(name)).network.reachability === 'relayed', 60_000, `${name} to hold a reservation on the relay`)
    }
    // Alice's invite now carries her relayed address: bob and dave reach her through the relay.
    await befriend('alice', 'bob', 'alice')
    await befriend('alice', 'dave', 'alice')
  }, 300_000)

  afterAll(async () => {
    if (process.env.KITH_RIG_LOGS != null) for (const [name, d] of Object.entries(daemons)) console.log(`--- ${name}\n${d.output}`)
    for (const name of Object.keys(daemons)) await stop(name).catch(() => {})
    await rig?.destroy()
    if (root != null) await rm(root, { recursive: true, force: true })
  })

  it('(a) alice and bob, each behind a NAT, chat through their friend\'s relay; DCUtR\'s outcome is reported', async () => {
    const alice = await status('alice')
    expect(alice.network.relays).toEqual([ids.relay])
    expect(alice.network.relayAddresses.every((a: string) => a.includes(`/p2p/${ids.relay}/p2p-circuit`))).toBe(true)

    const sent = await kithJson('alice', ['send', 'bob', 'hello from behind a NAT'])
    await waitUntil(async () => (await history('bob', 'alice')).some(m => m.id === sent.id), 60_000, 'bob to get it')
    const reply = await kithJson('bob', ['send', 'alice', 'hello back'])
    await waitUntil(async () => (await history('alice', 'bob')).some(m => m.id === reply.id && m.status === 'received'), 60_000, 'alice to get the reply')
    await waitUntil(async () => (await history('alice', 'bob')).find(m => m.id === sent.id)?.status === 'delivered', 60_000, 'alice to see delivered')

    // DCUtR tries to upgrade the relayed connection to a direct one through both NATs.
    const connection = async (): Promise<string> => (await kithJson<any[]>('alice', ['contacts'])).find(c => c.peerId === ids.bob)?.connection
    const upgraded = await waitUntil(async () => await connection() === 'direct', 15_000, 'a direct connection').then(() => true, () => false)
    console.log(`DCUtR: the connection between alice and bob is ${upgraded ? 'direct (hole punched through both NATs)' : `still ${await connection()} (no hole punch)`}`)
    expect(['direct', 'relayed']).toContain(await connection())
  })

  it('(d) the relay refuses a stranger a reservation and a mailbox slot, bounds its mail, and keeps serving its friends', { timeout: 240_000 }, async () => {
    const relayAddr = `/ip4/${rig.hosts.relay?.ip}/tcp/${PORT}/p2p/${ids.relay}`
    const run = await rig.exec('mallory', process.execPath, [STRANGER, relayAddr, ids.bob as string, String(SENDER_QUOTA + 100)], { timeoutMs: 60_000 })
    expect(run.code, run.stderr).toBe(0)
    const answers = JSON.parse(run.stdout.trim().split('\n').pop() as string)
    expect(answers.reservation).toBe(202) // PERMISSION_DENIED
    expect(answers.register).toBe('not-a-friend')
    expect(answers.unknownRecipient).toBe('unknown-recipient')
    expect(answers.oversized).toBe('oversized')
    // Bob has no mailbox there yet: the flood is refused outright.
    expect(answers.flood).toEqual({ 'unknown-recipient': SENDER_QUOTA + 100 })

    // Bob takes the relay as his mailbox; the stranger floods again, past its sender quota.
    expect((await kithJson<any[]>('bob', ['mailbox', 'add', 'relay'])).map(m => m.peerId)).toEqual([ids.relay])
    const again = JSON.parse((await rig.exec('mallory', process.execPath, [STRANGER, relayAddr, ids.bob as string, String(SENDER_QUOTA + 100)], { timeoutMs: 60_000 })).stdout.trim().split('\n').pop() as string)
    expect(again.flood).toEqual({ stored: SENDER_QUOTA, quota: 100 })
    const relay = await status('relay')
    expect(relay.network.holding.refused).toMatchObject({ quota: 100, 'not-a-friend': 2 })
    // The reservations it asked for, once per run, were refused by the relay's gate.
    expect(relay.network.relaying.refused['not-a-friend']).toBeGreaterThanOrEqual(2)

    // Bob drains the junk (it opens nothing: counted as invalid), and friends still chat.
    await waitUntil(async () => (await status('relay')).network.holding.envelopes === 0, 90_000, 'bob to drain the junk')
    expect((await status('bob')).metrics.drained).toBeGreaterThanOrEqual(SENDER_QUOTA)
    const sent = await kithJson('alice', ['send', 'bob', 'still here'])
    await waitUntil(async () => (await history('bob', 'alice')).some(m => m.id === sent.id), 60_000, 'bob to get it')
  })

  it('(c) the relay is killed mid-transfer and restarted: nothing is lost, nothing duplicated', { timeout: 240_000 }, async () => {
    const lines = Array.from({ length: 600 }, (_, i) => `through the relay ${i}`)
    const sending = kith('alice', ['send', 'bob', '-'], lines.join('\n') + '\n')
    await waitUntil(async () => (await history('bob', 'alice')).filter(m => m.text.startsWith('through the relay')).length >= 20, 60_000, 'the transfer to be under way')
    const path = (await kithJson<any[]>('alice', ['contacts'])).find(c => c.peerId === ids.bob)?.connection
    console.log(`(c) killing the relay while alice sends to bob over a ${path} connection`)
    await stop('relay', 'SIGKILL')
    expect((await sending).code).toBe(0)
    await start('relay', ['--public', '--relay', '--mailbox-sender-quota', String(SENDER_QUOTA)])
    const got = await waitUntil(async () => {
      const texts = (await history('bob', 'alice')).map(m => m.text).filter(t => t.startsWith('through the relay'))
      return texts.length >= lines.length ? texts : undefined
    }, 120_000, 'every message to arrive')
    expect(got).toEqual(lines)
  })

  it('(b) bob is offline; alice sends 100 and leaves; bob comes back and gets all 100 from his mailbox, in order, once', { timeout: 300_000 }, async () => {
    expect((await kithJson<any[]>('bob', ['mailbox', 'list'])).map(m => m.peerId)).toEqual([ids.relay])
    // Copies alice deposited while the relay was down in (c) count against her sender quota
    // (small here) until bob drains them (at once, or within 30 s): start from an empty mailbox.
    await waitUntil(async () => (await status('relay')).network.holding.envelopes === 0, 60_000, 'bob to drain what (c) left in his mailbox')
    await stop('bob')
    const lines = Array.from({ length: 100 }, (_, i) => `while you were away ${i}`)
    expect((await kith('alice', ['send', 'bob', '-'], lines.join('\n') + '\n')).code).toBe(0)
    const stored = await waitUntil(async () => {
      const mine = (await history('alice', 'bob')).filter(m => m.text.startsWith('while you were away'))
      return mine.length === 100 && mine.every(m => m.status === 'stored') ? mine : undefined
    }, 120_000, 'alice to see all 100 stored at bob\'s mailbox')
    expect(stored.every(m => m.mailboxes === 1 && /held at 1 mailbox/.test(m.pending))).toBe(true)
    expect((await status('relay')).network.holding.envelopes).toBeGreaterThanOrEqual(100)
    await stop('alice')

    await start('bob')
    const got = await waitUntil(async () => {
      const texts = (await history('bob', 'alice')).map(m => m.text).filter(t => t.startsWith('while you were away'))
      return texts.length >= 100 ? texts : undefined
    }, 120_000, 'bob to drain his mailbox')
    expect(got).toEqual(lines)

    // Alice comes back: bob's end-to-end receipts (or direct retries) mark all 100 delivered.
    await start('alice')
    await waitUntil(async () => (await history('alice', 'bob')).filter(m => m.text.startsWith('while you were away')).every(m => m.status === 'delivered'), 120_000, 'alice to see them delivered')
  })

  it('a node that knows only a bootstrap address reaches a contact whose IP address changed', { timeout: 240_000 }, async () => {
    await stop('alice')
    await stop('dave')
    const before = rig.hosts.dave?.ip
    const after = await rig.renumber('dave')
    expect(after).not.toBe(before)
    await start('dave', ['--public'])
    await waitUntil(async () => (await status('dave')).network.presencePublishedAt != null, 60_000, 'dave to publish his new address')
    await start('alice')
    const sent = await kithJson('alice', ['send', 'dave', 'found you at your new address'])
    await waitUntil(async () => (await history('dave', 'alice')).some(m => m.id === sent.id), 120_000, 'dave to get it')
  })
})

/** An error that ends a wait at once (others, like a command failing while a node starts, are retried). */
class Fatal extends Error {}

/** Poll until `check` returns something truthy; fail after `timeoutMs`. */
async function waitUntil<T> (check: () => Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: any
  while (true) {
    const value = await check().catch(err => { if (err instanceof Fatal) throw err; last = err; return undefined })
    if (value != null && value !== false) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last != null ? ` (last error: ${last.message})` : ''}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}
