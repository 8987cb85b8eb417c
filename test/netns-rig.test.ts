// The network-namespace rig (test/helpers/netns.ts) really behaves like the internet with home
// NATs: checked with real TCP sockets opened by `node -e` scripts inside the namespaces.
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRig, rigUnavailable } from './helpers/netns.js'
import type { ChildProcess } from 'node:child_process'
import type { Rig } from './helpers/netns.js'

const reason = await rigUnavailable()
if (reason != null) console.warn(`netns rig tests skipped: ${reason}`)

/** TCP server: greets each connection with the address it sees, then echoes. Args: host port. */
const SERVER = `
const net = require('node:net')
const [host, port] = process.argv.slice(1)
net.createServer(s => {
  s.on('error', () => {})
  console.log(JSON.stringify({ conn: s.remoteAddress, port: s.remotePort }))
  s.write(JSON.stringify({ remote: s.remoteAddress, remotePort: s.remotePort }) + '\\n')
  s.pipe(s)
}).listen(Number(port), host, () => console.log(JSON.stringify({ listening: Number(port) })))
`

/** TCP client: connect, read the greeting, check the echo. Prints one JSON line. Args: host port timeoutMs. */
const CLIENT = `
const net = require('node:net')
const [host, port, timeoutMs] = process.argv.slice(1)
const done = (r) => { console.log(JSON.stringify(r)); process.exit(0) }
setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), Number(timeoutMs))
const s = net.connect({ host, port: Number(port) })
let buf = ''
let seen
s.on('error', e => done({ ok: false, error: e.code }))
s.on('data', d => {
  buf += d
  const lines = buf.split('\\n')
  if (seen == null && lines.length > 1) { seen = JSON.parse(lines[0]); s.write('ping\\n') }
  if (seen != null && lines.length > 2 && lines[1] === 'ping') done({ ok: true, localPort: s.localPort, seen })
})
`

/** Simultaneous open: at time `at`, connect from local port P to host:P, say who we are. Args: host P at. */
const PUNCH = `
const net = require('node:net')
const [host, port, at] = process.argv.slice(1)
const done = (r) => { console.log(JSON.stringify(r)); process.exit(0) }
setTimeout(() => {
  setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), 8000)
  const s = net.connect({ host, port: Number(port), localPort: Number(port) })
  s.on('error', e => done({ ok: false, error: e.code }))
  s.on('connect', () => s.write('x'))
  s.on('data', () => done({ ok: true, got: s.remoteAddress + ':' + s.remotePort }))
}, Math.max(0, Number(at) - Date.now()))
`

interface Probe { ok: boolean, error?: string, localPort?: number, seen?: { remote: string, remotePort: number } }

const RELAY_PORT = 7000
const ALICE_PORT = 7001
const BOB_PORT = 7002
const FAIL_MS = 1500

describe.skipIf(reason != null)('netns rig', () => {
  let rig: Rig
  const servers: Record<string, { child: ChildProcess, lines: string[] }> = {}

  /** Connect from `from` to host:port inside the rig. */
  // Within the rig a connection takes milliseconds: a long timeout costs nothing when it works.
  // Unsolicited packets to a home router are dropped silently, so the probes that must fail
  // pass a short one.
  async function connect (from: string, host: string, port: number, timeoutMs = 10_000): Promise<Probe> {
    const r = await rig.exec(from, process.execPath, ['-e', CLIENT, host, String(port), String(timeoutMs)], { timeoutMs: timeoutMs + 5000 })
    if (r.code !== 0) throw new Error(`client in ${from} failed (${String(r.code)}): ${r.stderr}`)
    return JSON.parse(r.stdout)
  }

  async function serve (host: string, address: string, port: number): Promise<void> {
    const child = rig.spawn(host, process.execPath, ['-e', SERVER, address, String(port)])
    const lines: string[] = []
    servers[host] = { child, lines }
    let stderr = ''
    child.stderr?.on('data', d => { stderr += String(d) })
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      child.stdout?.on('data', d => {
        buf += String(d)
        const parts = buf.split('\n')
        buf = parts.pop() ?? ''
        for (const line of parts) {
          lines.push(line)
          if (line.includes('listening')) resolve()
        }
      })
      child.once('exit', code => reject(new Error(`server in ${host} exited ${String(code)}: ${stderr}`)))
    })
  }

  const connections = (host: string): string[] => servers[host].lines.filter(l => l.includes('"conn"'))

  beforeAll(async () => {
    rig = await createRig({ public: ['relay'], natted: ['alice', 'bob'] })
    // The relay listens on every address of its namespace so it survives renumbering;
    // alice and bob on their own private address. 0.0.0.0 here is inside the rig only.
    await Promise.all([
      serve('relay', '0.0.0.0', RELAY_PORT),
      serve('alice', rig.hosts.alice.ip, ALICE_PORT),
      serve('bob', rig.hosts.bob.ip, BOB_PORT)
    ])
  })

  afterAll(async () => { await rig?.destroy() })

  it('gives hosts public and private addresses', () => {
    const { relay, alice, bob } = rig.hosts
    expect(relay.ip).toMatch(/^10\.77\.0\.\d+$/)
    expect(relay.publicIp).toBe(relay.ip)
    expect(alice.ip).toBe('192.168.1.2')
    expect(bob.ip).toBe('192.168.1.2')
    expect(alice.publicIp).toMatch(/^10\.77\.0\.\d+$/)
    expect(new Set([relay.publicIp, alice.publicIp, bob.publicIp]).size).toBe(3)
  })

  it('lets natted hosts reach the relay, which sees their router\'s public address', async () => {
    const { relay, alice, bob } = rig.hosts
    const fromAlice = await connect('alice', relay.publicIp, RELAY_PORT)
    expect(fromAlice).toMatchObject({ ok: true, seen: { remote: alice.publicIp } })
    const fromBob = await connect('bob', relay.publicIp, RELAY_PORT)
    expect(fromBob).toMatchObject({ ok: true, seen: { remote: bob.publicIp } })
  })

  it('does not let the relay in to a natted host', async () => {
    const { alice } = rig.hosts
    const [toPrivate, toRouter] = await Promise.all([
      connect('relay', alice.ip, ALICE_PORT, FAIL_MS),
      // The router's own address: nothing is forwarded, the SYN is dropped.
      connect('relay', alice.publicIp, ALICE_PORT, FAIL_MS)
    ])
    expect(toPrivate.ok).toBe(false)
    expect(toRouter.ok).toBe(false)
    expect(connections('alice')).toEqual([])
  })

  it('does not let two natted hosts reach each other directly', async () => {
    const { alice, bob } = rig.hosts
    // bob's private address is alice's own (same subnet behind every router): it stays at home.
    const probes = await Promise.all([
      connect('alice', bob.ip, BOB_PORT, FAIL_MS),
      connect('alice', bob.publicIp, BOB_PORT, FAIL_MS),
      connect('bob', alice.ip, ALICE_PORT, FAIL_MS),
      connect('bob', alice.publicIp, ALICE_PORT, FAIL_MS)
    ])
    expect(probes[0]).toMatchObject({ ok: false, error: 'ECONNREFUSED' })
    expect(probes.map(p => p.ok)).toEqual([false, false, false, false])
    expect(connections('alice')).toEqual([])
    expect(connections('bob')).toEqual([])
  })

  it('renumbers the relay: the new address answers, the old one does not', async () => {
    const old = rig.hosts.relay.publicIp
    const fresh = await rig.renumber('relay')
    expect(fresh).not.toBe(old)
    expect(rig.hosts.relay.publicIp).toBe(fresh)
    expect(rig.hosts.relay.ip).toBe(fresh)
    expect(await connect('alice', fresh, RELAY_PORT)).toMatchObject({ ok: true, seen: { remote: rig.hosts.alice.publicIp } })
    expect((await connect('alice', old, RELAY_PORT, FAIL_MS)).ok).toBe(false)
  })

  it('takes a host offline and back', async () => {
    const { relay } = rig.hosts
    await rig.setOnline('alice', false)
    expect((await connect('alice', relay.publicIp, RELAY_PORT, FAIL_MS)).ok).toBe(false)
    await rig.setOnline('alice', true)
    expect((await connect('alice', relay.publicIp, RELAY_PORT)).ok).toBe(true)
  })

  it('lets natted hosts hole-punch: TCP simultaneous open through both NATs', async () => {
    // What DCUtR does: both dial each other's public address from the same local port at the
    // same moment. MASQUERADE keeps the source port when it can, and each router lets in the
    // other's SYN as the reply to its own host's outgoing one.
    const { alice, bob } = rig.hosts
    const at = String(Date.now() + 300)
    const [a, b] = await Promise.all([
      rig.exec('alice', process.execPath, ['-e', PUNCH, bob.publicIp, '6000', at]),
      rig.exec('bob', process.execPath, ['-e', PUNCH, alice.publicIp, '6000', at])
    ])
    expect(JSON.parse(a.stdout)).toEqual({ ok: true, got: `${bob.publicIp}:6000` })
    expect(JSON.parse(b.stdout)).toEqual({ ok: true, got: `${alice.publicIp}:6000` })
  })

  it('removes everything on destroy', async () => {
    const namespaces = [...rig.namespaces]
    expect(namespaces.length).toBe(6) // internet, relay, 2 × (router + host)
    await rig.destroy()
    const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`
    const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', env: { ...process.env, PATH } }).split('\n').map(l => l.split(' ')[0])
    expect(listed.filter(ns => namespaces.includes(ns))).toEqual([])
    for (const { child } of Object.values(servers)) {
      expect(child.exitCode != null || child.signalCode != null).toBe(true)
    }
  })
})
