import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KithClient } from '@kith/api'
import { Daemon, KITH_BIN, kith, kithJson } from './helpers/cli.js'
import { eventually } from './helpers/testnet.js'

/** A `kith` process whose output can be read while it runs, and answered on stdin. */
function running (home: string, args: string[]): { out: () => string, err: () => string, write: (line: string) => void, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [KITH_BIN, '--home', home, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += String(d) })
  child.stderr.on('data', d => { err += String(d) })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  return { out: () => out, err: () => err, write: (line) => { child.stdin.write(line) }, exited }
}

/** The comparison code a `kith init --link` shows while the identity device waits for its user. */
const shownCode = (text: string): string | undefined => /comparison code: (\d{3} \d{3})/.exec(text)?.[1]

/**
 * One account on three devices and a contact, each a real `kith` process on loopback: linking
 * (the user confirms the comparison code, by script and at the prompt; a declined device is not
 * linked), fan-out, history sync to new devices, and revocation.
 */
describe('kith on several devices (e2e, separate processes)', () => {
  let root: string
  const home: Record<string, string> = {}
  const daemons: Daemon[] = []
  const texts = async (who: string, contact: string): Promise<string[]> => (await kithJson<any[]>(home[who] as string, ['history', contact, '--limit', '1000'])).map(m => m.text).sort()

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kith-devices-'))
    for (const name of ['laptop', 'phone', 'tablet', 'stranger', 'bob']) home[name] = join(root, name)
  })
  afterAll(async () => {
    await Promise.all(daemons.map(async d => await d.stop()))
    await rm(root, { recursive: true, force: true })
  })

  async function start (name: string): Promise<void> {
    const daemon = new Daemon(home[name] as string)
    daemons.push(daemon)
    await daemon.start()
  }

  it('links two devices, chats from all of them, syncs history, and revokes one', async () => {
    await kithJson(home.laptop as string, ['init', '--name', 'alice', '--no-passphrase'])
    await kithJson(home.bob as string, ['init', '--name', 'bob', '--no-passphrase'])
    await start('laptop')
    await start('bob')
    const { code: invite } = await kithJson(home.laptop as string, ['invite'])
    const { peerId: aliceLaptop } = await kithJson(home.laptop as string, ['status'])
    await kithJson(home.bob as string, ['accept', invite, '--name', 'alice'])
    await eventually(async () => (await kithJson<any[]>(home.laptop as string, ['contacts'])).length === 1, 30_000, 'alice to hear from bob')
    // History from before the new devices existed: they get it by syncing with the laptop.
    for (let i = 0; i < 20; i++) await kithJson(home.laptop as string, ['send', 'bob', `before linking ${i}`])
    await kithJson(home.bob as string, ['send', 'alice', 'hello from bob, before linking'])
    await eventually(async () => (await texts('laptop', 'bob')).length === 21, 30_000, 'the first messages')

    // The phone links by script: a code printed as JSON; the phone shows its comparison code
    // (on stderr) while the laptop holds the link; the script confirms that code on the laptop.
    const { code } = await kithJson(home.laptop as string, ['device', 'link'])
    const joining = running(home.phone as string, ['init', '--link', code, '--device-name', 'phone', '--no-passphrase', '--json'])
    const phoneCode = await eventually(() => shownCode(joining.err()), 30_000, 'the phone to show its comparison code')
    const waitingOnLaptop = await kithJson<any[]>(home.laptop as string, ['devices'])
    expect(waitingOnLaptop).toHaveLength(1) // held, not linked
    expect(await (await KithClient.fromHome(home.laptop as string)).linkRequests()).toEqual([{ device: expect.any(String), name: 'phone', comparison: phoneCode, expires: expect.any(Number) }])
    expect(await kithJson(home.laptop as string, ['device', 'confirm', phoneCode.replace(' ', '')])).toMatchObject({ name: 'phone', comparison: phoneCode })
    expect(await joining.exited).toBe(0)
    const phone = JSON.parse(joining.out())
    expect(phone).toMatchObject({ name: 'alice', contacts: 1, comparison: phoneCode })
    // The same code again is refused by the laptop; a code from the phone is impossible.
    const reused = await kith(home.tablet as string, ['init', '--link', code, '--no-passphrase'])
    expect(reused.code).toBe(1)
    expect(reused.stderr).toMatch(/used already/)
    expect(reused.stderr).not.toMatch(/\n\s+at /) // one line, no stack trace

    // A device the user did not expect: `kith device link` asks, the user answers no, and the
    // device is not linked (its `init --link` fails with a clear error and leaves no home).
    const asking = running(home.laptop as string, ['device', 'link'])
    const strangerCode = await eventually(() => /^(kithlink1\S+)$/m.exec(asking.out())?.[1], 20_000, 'a link code')
    const stranger = running(home.stranger as string, ['init', '--link', strangerCode, '--device-name', 'stranger', '--no-passphrase'])
    const asked = await eventually(() => /stranger \(\S+\) asks to join your account\.\nDoes the new device show (\d{3} \d{3})\? \[y\/N\] $/.exec(asking.out())?.[1], 30_000, 'the laptop to ask')
    expect(asked).toBe(await eventually(() => shownCode(stranger.out()), 30_000, 'the stranger to show its code'))
    asking.write('n\n')
    expect(await asking.exited).toBe(1)
    expect(asking.out()).toMatch(/not linked/)
    expect(await stranger.exited).toBe(1)
    expect(stranger.err()).toMatch(/^kith: the other device did not confirm the comparison code \(the user declined\)/)
    expect(await readdir(home.stranger as string).catch(() => [])).toEqual([])
    expect(await kithJson<any[]>(home.laptop as string, ['devices'])).toHaveLength(2)

    // The tablet links the way a person does: `kith device link` waits, shows the comparison
    // code and asks; the person sees the same code on the tablet and answers y.
    const waiting = running(home.laptop as string, ['device', 'link'])
    const linkCode = await eventually(() => /^(kithlink1\S+)$/m.exec(waiting.out())?.[1], 20_000, 'a link code')
    const tabletJoining = running(home.tablet as string, ['init', '--link', linkCode, '--device-name', 'tablet', '--no-passphrase', '--json'])
    const prompted = await eventually(() => /Does the new device show (\d{3} \d{3})\? \[y\/N\] $/.exec(waiting.out())?.[1], 30_000, 'the laptop to ask')
    expect(prompted).toBe(await eventually(() => shownCode(tabletJoining.err()), 30_000, 'the tablet to show its code'))
    waiting.write('y\n')
    expect(await tabletJoining.exited).toBe(0)
    const tablet = JSON.parse(tabletJoining.out())
    expect(await waiting.exited).toBe(0)
    expect(waiting.out()).toContain(`linked tablet (${tablet.peerId as string})\ncomparison code: ${tablet.comparison as string}`)

    await start('phone')
    await start('tablet')
    const devices = await kithJson<any[]>(home.laptop as string, ['devices'])
    expect(devices.map(d => [d.name, d.self, d.identityDevice])).toEqual([['', true, true], ['phone', false, false], ['tablet', false, false]])
    expect(devices.map(d => d.device)).toEqual([aliceLaptop, phone.peerId, tablet.peerId])
    const notHere = await kith(home.phone as string, ['device', 'link'])
    expect(notHere.stderr).toMatch(/only the device holding your identity key/)

    // Everyone chats; every device shows the whole conversation, history included.
    await eventually(async () => (await kithJson<any[]>(home.phone as string, ['devices'])).length === 3, 30_000, 'the phone to know the tablet')
    await eventually(async () => (await kithJson<any[]>(home.bob as string, ['contacts']))[0]?.devices === 3, 30_000, 'bob to know all three')
    await kithJson(home.phone as string, ['send', 'bob', 'from the phone'])
    await kithJson(home.tablet as string, ['send', 'bob', 'from the tablet'])
    await kithJson(home.laptop as string, ['send', 'bob', 'from the laptop'])
    await kithJson(home.bob as string, ['send', 'alice', 'from bob'])
    const expected = await eventually(async () => { const t = await texts('bob', 'alice'); return t.length === 25 ? t : undefined }, 60_000, 'bob to have every message')
    for (const device of ['laptop', 'phone', 'tablet']) {
      await eventually(async () => (await texts(device, 'bob')).join('\n') === expected.join('\n'), 60_000, `the ${device} to show the whole conversation`)
    }

    // Reading on the laptop marks the conversation read on the phone too.
    const unread = async (who: string): Promise<number> => (await kithJson<any[]>(home[who] as string, ['contacts']))[0]?.unread
    expect(await unread('phone')).toBeGreaterThan(0)
    expect(await kithJson(home.laptop as string, ['read', 'bob'])).toMatchObject({ conversation: await kithJson(home.laptop as string, ['contacts']).then((c: any[]) => c[0].peerId) })
    expect(await unread('laptop')).toBe(0)
    await eventually(async () => await unread('phone') === 0, 30_000, 'the phone to show it read')

    // Revoking the tablet: it reads nothing sent afterwards.
    const left = await kithJson<any[]>(home.laptop as string, ['device', 'revoke', 'tablet'])
    expect(left.map(d => d.name)).toEqual(['', 'phone'])
    await eventually(async () => (await kithJson<any[]>(home.phone as string, ['devices'])).length === 2, 30_000, 'the phone to learn of it')
    await eventually(async () => (await kithJson<any[]>(home.bob as string, ['contacts']))[0]?.devices === 2, 30_000, 'bob to learn of it')
    await kithJson(home.bob as string, ['send', 'alice', 'after revoking the tablet'])
    await kithJson(home.laptop as string, ['send', 'bob', 'the laptop, after revoking'])
    await eventually(async () => (await texts('phone', 'bob')).length === 27, 60_000, 'the phone to get both')
    // Had anything gone to the tablet, it would have arrived with the phone's copies; give it as long again.
    await new Promise(resolve => setTimeout(resolve, 3000))
    const onTablet = await texts('tablet', 'bob')
    expect(onTablet).not.toContain('after revoking the tablet')
    expect(onTablet).not.toContain('the laptop, after revoking')
  }, 300_000)
})
