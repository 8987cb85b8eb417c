import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DM_PROTOCOL, ENCRYPTION_SEALED, ENCRYPTION_SESSION_SEALED, ENVELOPE_VERSION, Envelope } from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Daemon, kithJson } from './helpers/cli.js'
import { eventually, tempDir } from './helpers/testnet.js'

/** Fresh identities the stranger makes, the frames each sends, and how many dial at once. */
const IDENTITIES = 60
const FRAMES_EACH = 100
const AT_ONCE = 10

/** Resident memory (bytes) and CPU time (ms) of a process, from /proc. */
async function usage (pid: number): Promise<{ rss: number, cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? []
  const ticks = Number(stat[11]) + Number(stat[12]) // utime + stime, in clock ticks (100 a second)
  return { rss, cpuMs: ticks * 10 }
}

/** Junk that costs the victim the most before it knows who sent it: ephemeral seals (an X25519 each) and session seals no session expects. */
function junk (recipient: Uint8Array, i: number): Uint8Array {
  return Envelope.encode({
    version: ENVELOPE_VERSION,
    id: randomBytes(16),
    recipient,
    timestamp: BigInt(Date.now()),
    encryption: i % 2 === 0 ? ENCRYPTION_SEALED : ENCRYPTION_SESSION_SEALED,
    body: randomBytes(560)
  })
}

// A stranger floods a `kith start` process on /kith/dm with fresh peer ids and junk sessions,
// bounded in count, on loopback; meanwhile a contact's messages still arrive.
describe('a stranger flooding /kith/dm (separate processes, loopback)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let alice: Daemon, bob: Daemon
  const home = (name: string): string => join(dir.path, name)

  beforeAll(async () => {
    dir = await tempDir('kith-abuse-')
    alice = new Daemon(home('alice'))
    bob = new Daemon(home('bob'))
    await kithJson(home('alice'), ['init', '--name', 'alice'])
    await kithJson(home('bob'), ['init', '--name', 'bob'])
    await alice.start()
    await bob.start()
    const { code } = await kithJson(home('alice'), ['invite'])
    await kithJson(home('bob'), ['accept', code, '--name', 'alice'])
    await eventually(async () => (await kithJson<any[]>(home('alice'), ['contacts'])).length === 1, 30_000, 'alice to know bob')
  })
  afterAll(async () => {
    await alice?.kill9()
    await bob?.kill9()
    await dir?.cleanup()
  })

  it('keeps the victim\'s memory bounded and still takes a contact\'s messages', async () => {
    const status = await kithJson(home('alice'), ['status'])
    const address = String(status.addresses[0])
    const target = multiaddr(address.includes('/p2p/') ? address : `${address}/p2p/${String(status.peerId)}`)
    const recipient = peerIdFromString(String(status.peerId)).toMultihash().bytes
    const before = await usage(status.pid)

    let accepted = 0
    let refused = 0
    const attack = async (): Promise<void> => {
      for (let wave = 0; wave < IDENTITIES / AT_ONCE; wave++) {
        await Promise.all(Array.from({ length: AT_ONCE }, async () => {
          const node = await createLibp2p({ privateKey: await generateDeviceKey(), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
          try {
            const stream = await node.dialProtocol(target, DM_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
            const lp = lpStream(stream)
            await lp.writeV(Array.from({ length: FRAMES_EACH }, (_, i) => junk(recipient, i)))
            for (let i = 0; i < FRAMES_EACH; i++) {
              const ack = await lp.read({ signal: AbortSignal.timeout(5_000) })
              if (ack.subarray().length > 0) accepted++
            }
          } catch {
            refused++ // refused, banned or dropped: what a flood should get
          } finally {
            await node.stop()
          }
        }))
      }
    }

    // A contact's messages during the flood, one a second.
    const latencies: number[] = []
    const contact = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now()
        const { id } = await kithJson<{ id: string }>(home('bob'), ['send', 'alice', `during the flood ${i}`])
        await eventually(async () => (await kithJson<any[]>(home('alice'), ['history', 'bob', '--limit', '50'])).some(m => m.id === id), 30_000, `message ${i} at alice`)
        latencies.push(Date.now() - t0)
      }
    }
    await Promise.all([attack(), contact()])
    const after = await usage(status.pid)
    const metrics = (await kithJson(home('alice'), ['status'])).metrics

    // What the stranger got and cost, for the README (not asserted: speed is the benchmarks' business).
    console.log(`flood: ${IDENTITIES} identities x ${FRAMES_EACH} junk frames; acked ${accepted}, streams refused ${refused}; ` +
      `victim RSS ${Math.round(before.rss / 2 ** 20)} -> ${Math.round(after.rss / 2 ** 20)} MiB, CPU ${after.cpuMs - before.cpuMs} ms; ` +
      `contact's messages arrived after ${latencies.join(', ')} ms (CLI round trips included); metrics ${JSON.stringify(metrics)}`)
    expect(latencies).toHaveLength(5)
    // Nothing the stranger sent was taken in; it was refused, counted, and it was cut off.
    expect((await kithJson<any[]>(home('alice'), ['history', 'bob', '--limit', '50'])).filter(m => m.text.startsWith('during the flood'))).toHaveLength(5)
    expect(metrics.received).toBeGreaterThanOrEqual(5)
    // Strangers share one budget whatever their peer ids: most of the junk was never even opened,
    // its senders cut off (counted) once the budget was spent.
    expect(metrics.rateLimited).toBeGreaterThan(0)
    expect(metrics.forged + metrics.noSession + metrics.invalid).toBeLessThan(IDENTITIES * FRAMES_EACH / 2)
    // Memory stays bounded: the inbound queue and the bans are capped (a generous bound, well
    // below what 6,000 queued frames and sessions per peer id would take).
    expect(after.rss - before.rss).toBeLessThan(150 * 2 ** 20)
  })
})
