/**
 * A real multi-host network for tests, built from Linux network namespaces.
 *
 * One "internet" namespace holds a bridge on 10.77.0.0/24 (10.77.0.1 is the bridge itself,
 * every host's default gateway). Each public host is a namespace with a veth into that bridge
 * and an address 10.77.0.N (N from 10 up). Each natted host sits behind its own home router:
 * the router is a namespace with a public 10.77.0.N address on `wan0`, 192.168.1.1 on `lan0`,
 * IP forwarding on, `MASQUERADE` out of `wan0` and a stateful firewall that forwards inbound
 * traffic only for connections opened from inside (no port forwarding); the host is a
 * namespace behind it at 192.168.1.2 (the same private subnet behind every router, as in real
 * homes) with its default route via the router.
 *
 * Nothing here touches the root namespace's interfaces, routes or iptables: every interface is
 * created directly inside the namespace it belongs to (`ip -n NS link add ... peer ... netns
 * OTHER`), so interface names only need to be unique within one namespace and may repeat across
 * rigs; namespace names carry the creating process id and a random per-rig id, so concurrent
 * vitest workers never collide. IPv6 is off on the rig's links (loopback keeps ::1) and the
 * bridge floods no multicast, so hosts cannot find each other by mDNS or link-local addresses.
 */
import { execFileSync, spawn as spawnChild } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'

/** Every namespace a rig creates is named `kithrig-<pid>-<rigid>-...`. */
const PREFIX = 'kithrig'
const STALE = new RegExp(`^${PREFIX}-(\\d+)-`)
const PUBLIC_NET = '10.77.0'
const INTERNET_GW = `${PUBLIC_NET}.1`
const LAN_GW = '192.168.1.1'
const LAN_HOST = '192.168.1.2'

/** One host of a rig. */
export interface RigHost {
  /** The name it was given in {@link createRig}. */
  name: string
  /** Its network namespace (for `ip netns exec`). */
  ns: string
  /** Its own address: public (10.77.0.N) for a public host, 192.168.1.2 behind a NAT. */
  ip: string
  /** The address others see: its own if public, its router's if natted. Updated by {@link Rig.renumber}. */
  publicIp: string
}

/** The hosts to build, by name (letters, digits and `-`; unique across both lists). */
export interface RigTopology {
  /** Hosts directly on the "internet". */
  public?: string[]
  /** Hosts each behind its own home router doing NAT. */
  natted?: string[]
}

/** What {@link Rig.exec} returns. `code` is null when the command was killed (timeout or signal). */
export interface RigExecResult { code: number | null, stdout: string, stderr: string }

/** Options of {@link Rig.exec}. */
export interface RigExecOptions {
  /** Merged over `process.env` (a key set to undefined is removed). */
  env?: NodeJS.ProcessEnv
  /** Kill the command's process group after this long (default 30 s). */
  timeoutMs?: number
  /** Written to its standard input, which is then closed (closed at once without it). */
  input?: string
}

/** Options of {@link Rig.spawn}. */
export interface RigSpawnOptions {
  /** Merged over `process.env` (a key set to undefined is removed). */
  env?: NodeJS.ProcessEnv
}

/** A running rig. Call {@link Rig.destroy} when done (in `afterAll`, so it runs after a failed test too). */
export interface Rig {
  /** The hosts by name. The objects are updated in place by {@link Rig.renumber}. */
  hosts: Record<string, RigHost>
  /** Every namespace this rig created (hosts, routers and the internet). */
  namespaces: readonly string[]
  /** Run a command to completion inside a host's namespace: `ip netns exec NS cmd ...args`. */
  exec: (host: string, cmd: string, args: string[], opts?: RigExecOptions) => Promise<RigExecResult>
  /**
   * Start a long-running process inside a host's namespace, in its own process group, with
   * piped stdio. {@link Rig.destroy} kills it (and anything it started) if it is still running.
   */
  spawn: (host: string, cmd: string, args: string[], opts?: RigSpawnOptions) => ChildProcess
  /**
   * Give a public host (or a natted host's router) a new, never used public address and return
   * it. The old address is gone at once: connections through a NAT are reset on their next
   * packet (MASQUERADE forgets them), connections to a renumbered public host hang until they
   * time out, as on the real internet.
   */
  renumber: (host: string) => Promise<string>
  /**
   * Cut or restore a host's link (`ip link set down/up` on its own side) to simulate going
   * offline without killing processes. Restoring also restores its default route.
   */
  setOnline: (host: string, online: boolean) => Promise<void>
  /**
   * Kill spawned processes (SIGKILL to their process groups, then anything left inside the
   * rig's namespaces) and delete every namespace. Safe to call more than once.
   */
  destroy: () => Promise<void>
}

interface Tools { ip: string, iptables: string }

interface Member {
  host: RigHost
  /** Where its public address lives: its own namespace, or its router's. */
  wanNs: string
  wanDev: string
  /** Where its own default route points (restored by setOnline, which cuts its eth0). */
  gateway: string
}

/** Find a command in PATH or the sbin folders (which a non-login PATH may lack). */
function findBin (name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return undefined
}

function mergedEnv (env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env == null ? process.env : { ...process.env, ...env }
}

/** Run to completion in its own process group; on timeout the whole group is killed. */
async function run (cmd: string, args: string[], opts: RigExecOptions = {}): Promise<RigExecResult> {
  return await new Promise((resolve) => {
    const child = spawnChild(cmd, args, { env: mergedEnv(opts.env), detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
    const timer = setTimeout(() => { timedOut = true; killGroup(child) }, opts.timeoutMs ?? 30_000)
    child.once('error', (err) => { clearTimeout(timer); resolve({ code: null, stdout, stderr: stderr + String(err) }) })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr: timedOut ? `${stderr}[timed out after ${opts.timeoutMs ?? 30_000} ms]` : stderr })
    })
  })
}

function killGroup (child: ChildProcess): void {
  if (child.pid == null || child.exitCode != null || child.signalCode != null) return
  try { process.kill(-child.pid, 'SIGKILL') } catch {}
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

async function ipOk (tools: Tools, args: string[]): Promise<void> {
  const r = await run(tools.ip, args, { timeoutMs: 10_000 })
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${String(r.code)}): ${r.stderr.trim()}`)
}

/** Kill whatever still runs inside a namespace and delete it; errors are returned, not thrown. */
async function removeNamespace (ip: string, ns: string): Promise<string | null> {
  const pids = await run(ip, ['netns', 'pids', ns], { timeoutMs: 10_000 })
  for (const pid of pids.stdout.split(/\s+/).filter(p => /^\d+$/.test(p))) {
    try { process.kill(Number(pid), 'SIGKILL') } catch {}
  }
  const del = await run(ip, ['netns', 'del', ns], { timeoutMs: 10_000 })
  if (del.code === 0 || /No such file/i.test(del.stderr)) return null
  return `ip netns del ${ns}: ${del.stderr.trim()}`
}

async function listNamespaces (ip: string): Promise<string[]> {
  const r = await run(ip, ['netns', 'list'], { timeoutMs: 10_000 })
  return r.stdout.split('\n').map(line => line.split(' ')[0]).filter(name => name !== '')
}

/** Remove namespaces left by a rig whose process is gone (a killed earlier run). */
async function removeStale (ip: string): Promise<void> {
  for (const ns of await listNamespaces(ip)) {
    const m = STALE.exec(ns)
    if (m != null && !pidAlive(Number(m[1]))) await removeNamespace(ip, ns)
  }
}

let probed: Promise<{ reason: string | null, tools?: Tools }> | undefined

async function probe (): Promise<{ reason: string | null, tools?: Tools }> {
  if (process.platform !== 'linux') return { reason: `network namespaces need Linux, this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { reason: 'network namespaces need root' }
  const ip = findBin('ip')
  if (ip == null) return { reason: 'no `ip` command (Debian package iproute2)' }
  const candidates = ['iptables', 'iptables-legacy'].map(findBin).filter((p): p is string => p != null)
  if (candidates.length === 0) return { reason: 'no `iptables` command (Debian package iptables; `npm test` installs it when run as root)' }
  const ns = `${PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}-probe`
  const add = await run(ip, ['netns', 'add', ns], { timeoutMs: 10_000 })
  if (add.code !== 0) return { reason: `cannot create a network namespace: ${add.stderr.trim()}` }
  try {
    const tools = { ip, iptables: '' }
    try {
      await ipOk(tools, ['-n', ns, 'link', 'add', 'name', 'br0', 'type', 'bridge'])
      await ipOk(tools, ['-n', ns, 'link', 'add', 'name', 'a', 'type', 'veth', 'peer', 'name', 'b'])
    } catch (err: any) {
      return { reason: `cannot create a bridge or veth pair in a namespace: ${String(err.message)}` }
    }
    let failure = ''
    for (const iptables of candidates) {
      const nat = await run(ip, ['netns', 'exec', ns, iptables, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'a', '-j', 'MASQUERADE'], { timeoutMs: 10_000 })
      const filter = await run(ip, ['netns', 'exec', ns, iptables, '-A', 'FORWARD', '-i', 'a', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'], { timeoutMs: 10_000 })
      if (nat.code === 0 && filter.code === 0) return { reason: null, tools: { ip, iptables } }
      failure += `${iptables}: ${nat.stderr.trim()} ${filter.stderr.trim()} `
    }
    return { reason: `iptables cannot NAT inside a namespace: ${failure.trim()}` }
  } finally {
    await removeNamespace(ip, ns)
  }
}

/** Null when the rig can run here; otherwise why not (not root, no `ip`, no `iptables`, netns not permitted). */
export async function rigUnavailable (): Promise<string | null> {
  probed ??= probe()
  return (await probed).reason
}

/** Rigs not destroyed yet: torn down synchronously if the process exits without destroy(). */
const live = new Set<NetnsRig>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const rig of live) rig.destroySync()
  })
}

class NetnsRig implements Rig {
  readonly hosts: Record<string, RigHost> = {}
  readonly namespaces: string[] = []
  private readonly members = new Map<string, Member>()
  private readonly children = new Set<ChildProcess>()
  private readonly base = `${PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`
  private readonly internet = `${this.base}-net`
  private nextAddress = 10
  private ports = 0
  private destroying?: Promise<void>

  constructor (private readonly tools: Tools) {}

  private async ip (...args: string[]): Promise<void> {
    await ipOk(this.tools, args)
  }

  /**
   * Write sysctls inside a namespace (/proc/sys/net shows the writer's namespace). Keys starting
   * with `?` are skipped when the kernel lacks them (IPv6 may be compiled out or disabled).
   */
  private async sysctl (ns: string, settings: Record<string, string>): Promise<void> {
    const script = Object.entries(settings).map(([key, v]) => {
      const path = `/proc/sys/${key.replace(/^\?/, '').replaceAll('.', '/')}`
      return key.startsWith('?') ? `{ [ ! -e ${path} ] || echo ${v} > ${path}; }` : `echo ${v} > ${path}`
    }).join(' && ')
    const r = await run(this.tools.ip, ['netns', 'exec', ns, 'sh', '-c', script], { timeoutMs: 10_000 })
    if (r.code !== 0) throw new Error(`sysctl in ${ns} failed: ${r.stderr.trim()}`)
  }

  private async iptables (ns: string, ...args: string[]): Promise<void> {
    await this.ip('netns', 'exec', ns, this.tools.iptables, ...args)
  }

  private async addNamespace (ns: string): Promise<void> {
    await this.ip('netns', 'add', ns)
    this.namespaces.push(ns)
    await this.ip('-n', ns, 'link', 'set', 'lo', 'up')
    // Links created from now on get no IPv6 (no link-local shortcuts); loopback keeps ::1.
    await this.sysctl(ns, { '?net.ipv6.conf.default.disable_ipv6': '1' })
  }

  private allocate (): string {
    if (this.nextAddress > 254) throw new Error('rig: out of public addresses')
    return `${PUBLIC_NET}.${this.nextAddress++}`
  }

  /** A veth from the bridge into `ns` as `dev`, addressed `ip`, default route via the bridge. */
  private async attach (ns: string, dev: string, ip: string, label: string): Promise<void> {
    const port = `v${this.ports++}-${label}`.slice(0, 15)
    await this.ip('-n', this.internet, 'link', 'add', 'name', port, 'type', 'veth', 'peer', 'name', dev, 'netns', ns)
    await this.ip('-n', this.internet, 'link', 'set', port, 'master', 'br0')
    // The internet carries no multicast: no mDNS between hosts (broadcast, so ARP, still floods).
    await this.ip('-n', this.internet, 'link', 'set', port, 'type', 'bridge_slave', 'mcast_flood', 'off')
    await this.ip('-n', this.internet, 'link', 'set', port, 'up')
    await this.ip('-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev)
    await this.ip('-n', ns, 'link', 'set', dev, 'up')
    await this.ip('-n', ns, 'route', 'add', 'default', 'via', INTERNET_GW)
  }

  async build (topology: RigTopology): Promise<void> {
    const pub = topology.public ?? []
    const nat = topology.natted ?? []
    const names = [...pub, ...nat]
    for (const name of names) {
      if (!/^[a-z][a-z0-9-]{0,31}$/i.test(name)) throw new Error(`rig: bad host name ${JSON.stringify(name)}`)
    }
    if (new Set(names).size !== names.length) throw new Error('rig: host names must be unique')

    await this.addNamespace(this.internet)
    await this.ip('-n', this.internet, 'link', 'add', 'name', 'br0', 'type', 'bridge', 'forward_delay', '0', 'mcast_snooping', '0')
    await this.ip('-n', this.internet, 'addr', 'add', `${INTERNET_GW}/24`, 'dev', 'br0')
    await this.ip('-n', this.internet, 'link', 'set', 'br0', 'up')

    for (const name of pub) {
      const ns = `${this.base}-h-${name}`
      const ip = this.allocate()
      await this.addNamespace(ns)
      await this.attach(ns, 'eth0', ip, name)
      this.add({ host: { name, ns, ip, publicIp: ip }, wanNs: ns, wanDev: 'eth0', gateway: INTERNET_GW })
    }

    for (const name of nat) {
      const ns = `${this.base}-h-${name}`
      const router = `${this.base}-gw-${name}`
      const publicIp = this.allocate()
      await this.addNamespace(router)
      await this.attach(router, 'wan0', publicIp, name)
      await this.addNamespace(ns)
      await this.ip('-n', router, 'link', 'add', 'name', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
      await this.ip('-n', router, 'addr', 'add', `${LAN_GW}/24`, 'dev', 'lan0')
      await this.ip('-n', router, 'link', 'set', 'lan0', 'up')
      await this.sysctl(router, { 'net.ipv4.ip_forward': '1' })
      await this.iptables(router, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE')
      // A home router's firewall: from outside, only replies to what the inside opened; the rest
      // is dropped silently. Dropping (not just refusing) unsolicited packets to the router itself
      // matters for hole punching: an accepted one leaves a conntrack entry for that port pair,
      // so the host's own punch packet out would then be MASQUERADEd to another port.
      for (const chain of ['INPUT', 'FORWARD']) {
        await this.iptables(router, '-A', chain, '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
        await this.iptables(router, '-A', chain, '-i', 'wan0', '-j', 'DROP')
      }
      await this.ip('-n', ns, 'addr', 'add', `${LAN_HOST}/24`, 'dev', 'eth0')
      await this.ip('-n', ns, 'link', 'set', 'eth0', 'up')
      await this.ip('-n', ns, 'route', 'add', 'default', 'via', LAN_GW)
      this.add({ host: { name, ns, ip: LAN_HOST, publicIp }, wanNs: router, wanDev: 'wan0', gateway: LAN_GW })
    }
  }

  private add (member: Member): void {
    this.members.set(member.host.name, member)
    this.hosts[member.host.name] = member.host
  }

  private member (name: string): Member {
    const member = this.members.get(name)
    if (member == null) throw new Error(`rig: no host ${JSON.stringify(name)}`)
    if (this.destroying != null) throw new Error('rig: destroyed')
    return member
  }

  async exec (host: string, cmd: string, args: string[], opts: RigExecOptions = {}): Promise<RigExecResult> {
    const { ns } = this.member(host).host
    return await run(this.tools.ip, ['netns', 'exec', ns, cmd, ...args], opts)
  }

  spawn (host: string, cmd: string, args: string[], opts: RigSpawnOptions = {}): ChildProcess {
    const { ns } = this.member(host).host
    const child = spawnChild(this.tools.ip, ['netns', 'exec', ns, cmd, ...args], { env: mergedEnv(opts.env), detached: true, stdio: 'pipe' })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    child.once('error', () => this.children.delete(child))
    return child
  }

  async renumber (host: string): Promise<string> {
    const member = this.member(host)
    const old = member.host.publicIp
    const fresh = this.allocate()
    // Delete first: deleting a primary address would also delete a secondary added before it.
    await this.ip('-n', member.wanNs, 'addr', 'del', `${old}/24`, 'dev', member.wanDev)
    await this.ip('-n', member.wanNs, 'addr', 'add', `${fresh}/24`, 'dev', member.wanDev)
    await this.ip('-n', member.wanNs, 'route', 'replace', 'default', 'via', INTERNET_GW)
    member.host.publicIp = fresh
    if (member.wanNs === member.host.ns) member.host.ip = fresh
    return fresh
  }

  async setOnline (host: string, online: boolean): Promise<void> {
    const member = this.member(host)
    const { ns } = member.host
    await this.ip('-n', ns, 'link', 'set', 'eth0', online ? 'up' : 'down')
    // Link down drops the routes through it; the kernel brings back only the subnet's own.
    if (online) await this.ip('-n', ns, 'route', 'replace', 'default', 'via', member.gateway)
  }

  async destroy (): Promise<void> {
    this.destroying ??= this.teardown()
    await this.destroying
  }

  private async teardown (): Promise<void> {
    const exits = [...this.children].map(async child => await new Promise<void>(resolve => {
      if (child.exitCode != null || child.signalCode != null) { resolve(); return }
      const timer = setTimeout(resolve, 5_000)
      child.once('exit', () => { clearTimeout(timer); resolve() })
      killGroup(child)
    }))
    await Promise.all(exits)
    const errors: string[] = []
    for (const ns of [...this.namespaces].reverse()) {
      const error = await removeNamespace(this.tools.ip, ns)
      if (error != null) errors.push(error)
    }
    live.delete(this)
    const left = (await listNamespaces(this.tools.ip)).filter(ns => this.namespaces.includes(ns))
    if (errors.length > 0 || left.length > 0) throw new Error(`rig teardown incomplete: ${[...errors, ...left].join('; ')}`)
  }

  /** Last-resort teardown from a process 'exit' handler, where nothing async runs. */
  destroySync (): void {
    for (const child of this.children) killGroup(child)
    for (const ns of this.namespaces) {
      try {
        const pids = execFileSync(this.tools.ip, ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        for (const pid of pids.split(/\s+/).filter(p => /^\d+$/.test(p))) {
          try { process.kill(Number(pid), 'SIGKILL') } catch {}
        }
      } catch {}
      try { execFileSync(this.tools.ip, ['netns', 'del', ns], { stdio: 'ignore' }) } catch {}
    }
    live.delete(this)
  }
}

/**
 * Build a rig: an internet, the public hosts on it and the natted hosts each behind its own
 * router (see the module comment). Removes stale namespaces of killed earlier runs first.
 * Throws when {@link rigUnavailable} gives a reason; on any failure removes what it created.
 */
export async function createRig (topology: RigTopology): Promise<Rig> {
  const reason = await rigUnavailable()
  const tools = (await probed)?.tools
  if (reason != null || tools == null) throw new Error(`network namespace rig unavailable: ${reason ?? 'unknown'}`)
  await removeStale(tools.ip)
  const rig = new NetnsRig(tools)
  installExitHook()
  live.add(rig)
  try {
    await rig.build(topology)
  } catch (err) {
    await rig.destroy().catch(() => {})
    throw err
  }
  return rig
}
