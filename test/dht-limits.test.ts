import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { DHT_STORE_LIMITS, openPresence, presenceKey, signPresence } from '@kith/presence'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Level } from 'level'
import { Daemon, kithJson } from './helpers/cli.js'
import { KadSession, kadGet, kadPut } from './helpers/kad-raw.js'
import { tempDir } from './helpers/testnet.js'
import type { PresenceFields } from '@kith/presence'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * What DHT peers can make a real `kith start` node keep: records and their anti-rollback
 * memory survive a kill -9 (LevelDB in the home), and a flood of PUTs from fresh identities
 * leaves the store within its caps, the victim's RSS bounded, and a contact's updates taken.
 * The PUTs are kad-dht messages written by hand, as any peer can send them, over loopback TCP.
 */

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

/** More PUTs than the default cap on presence records (10,000 identities), so that it binds. `KITH_DHT_FLOOD=30000` for a longer run. */
const FLOOD = Number(process.env.KITH_DHT_FLOOD ?? 12_000)
const MiB = 1024 * 1024

/** A user of the DHT: an identity key with one certified device. */
interface Identity { key: PrivateKey, fields: Omit<PresenceFields, 'seq'> }

async function identity (device: PrivateKey): Promise<Identity> {
  const key = await generateIdentityKey()
  return { key, fields: { certificate: issueDeviceCertificate(key, device.publicKey), device: peerIdFromPrivateKey(device), addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] } }
}

const record = (who: Identity, seq: number): Uint8Array => signPresence(who.key, { ...who.fields, seq })
const seqOf = (value: Uint8Array | undefined): number | undefined => value != null ? openPresence(value).seq : undefined

/** A `kith start` process on a new home, and a stranger's libp2p node to talk kad-dht to it. */
async function victimAndStranger (): Promise<{ home: string, victim: Daemon, stranger: Libp2p, addr: () => Promise<Multiaddr> }> {
  const dir = await tempDir('kith-dht-')
  cleanups.push(dir.cleanup)
  const home = join(dir.path, 'victim')
  await kithJson(home, ['init', '--name', 'victim', '--no-passphrase'])
  const victim = new Daemon(home)
  await victim.start()
  cleanups.push(async () => { await victim.kill9() })
  const stranger = await createLibp2p({ privateKey: await generateDeviceKey(), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
  cleanups.push(async () => { await stranger.stop() })
  const peerId = (await kithJson(home, ['status'])).peerId as string
  return { home, victim, stranger, addr: async () => multiaddr(`/ip4/127.0.0.1/tcp/${await victim.port()}/p2p/${peerId}`) }
}

/** The victim process's resident set, in bytes (what its `process.memoryUsage().rss` says). */
function rss (victim: Daemon): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${victim.child?.pid}/status`, 'utf8'))?.[1]
  if (kb == null) throw new Error('no VmRSS for the victim')
  return Number(kb) * 1024
}

/** The DHT records in a stopped node's home: how many, and their bytes. */
async function storedRecords (home: string): Promise<{ count: number, bytes: number }> {
  const db = new Level<string, Uint8Array>(join(home, 'dht'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  let count = 0
  let bytes = 0
  for await (const [, value] of db.iterator({ gte: '/dht/record/', lt: '/dht/record0' })) {
    count++
    bytes += value.byteLength
  }
  await db.close()
  return { count, bytes }
}

describe('DHT records kept for others (real kith process, loopback TCP)', () => {
  it('survive a kill -9 with their seq: a rollback after the restart is refused', async () => {
    const { victim, stranger, addr } = await victimAndStranger()
    const contact = await identity(await generateDeviceKey())
    const key = presenceKey(contact.key.publicKey)
    const now = Date.now()
    expect(await kadPut(stranger, await addr(), key, record(contact, now))).toBe('stored')

    await victim.kill9()
    await victim.start()
    expect(seqOf(await kadGet(stranger, await addr(), key))).toBe(now)
    expect(await kadPut(stranger, await addr(), key, record(contact, now - 60_000))).toBe('refused')
    expect(seqOf(await kadGet(stranger, await addr(), key))).toBe(now)
    expect((await kithJson(victim.home, ['status'])).network.presenceRefused).toMatchObject({ 'dht-rollback': 1 })
  }, 180_000)

  it(`a flood of PUTs from ${FLOOD} fresh identities stays within the caps and bounded RSS; a contact still updates`, async () => {
    const { home, victim, stranger, addr } = await victimAndStranger()
    const target = await addr()
    const device = await generateDeviceKey()
    const contact = await identity(device)
    const contactKey = presenceKey(contact.key.publicKey)
    const now = Date.now()
    expect(await kadPut(stranger, target, contactKey, record(contact, now - 60_000))).toBe('stored')

    const size = record(contact, now).byteLength
    const rssBefore = rss(victim)
    const outcomes = { stored: 0, refused: 0 }
    const started = Date.now()
    const samples: number[] = []
    const sessions = Array.from({ length: 10 }, () => new KadSession(stranger, target))
    for (let sent = 0; sent < FLOOD; sent += sessions.length) {
      await Promise.all(sessions.map(async session => {
        const fresh = await identity(device)
        outcomes[await session.put(presenceKey(fresh.key.publicKey), record(fresh, now))]++
      }))
      if ((sent + sessions.length) % 1000 === 0) samples.push(Math.round(rss(victim) / MiB))
    }
    await Promise.all(sessions.map(async session => { await session.close() }))
    const rssAfter = rss(victim)
    console.log(`DHT flood: ${FLOOD} PUTs of ${size}-byte presence records from fresh identities in ${((Date.now() - started) / 1000).toFixed(0)} s: ` +
      `${outcomes.stored} kept, ${outcomes.refused} refused; victim RSS ${(rssBefore / MiB).toFixed(1)} -> ${(rssAfter / MiB).toFixed(1)} MiB ` +
      `(+${((rssAfter - rssBefore) / MiB).toFixed(1)}; every 1000 PUTs: ${samples.join(' ')})`)

    // The cap on identities binds (the contact's and the victim's own records count too).
    expect(outcomes.refused).toBeGreaterThanOrEqual(FLOOD - DHT_STORE_LIMITS.maxPresenceRecords)
    expect(outcomes.stored).toBeLessThan(DHT_STORE_LIMITS.maxPresenceRecords)
    // The records live on disk; what grows in memory is the store's index, LevelDB's buffers,
    // kad-dht's state for each stream (a refused PUT costs a stream) and V8's heap. A generous
    // bound from the cap: every byte the store may keep, held in memory twice over, plus 96 MiB.
    expect(rssAfter - rssBefore).toBeLessThan(2 * DHT_STORE_LIMITS.maxBytes + 96 * MiB)

    // The flood did not flush what the victim knows of the contact: a replay of an older record
    // is refused, the contact's newer one is taken; a fresh identity's is not.
    expect(await kadPut(stranger, target, contactKey, record(contact, now - 120_000))).toBe('refused')
    expect(await kadPut(stranger, target, contactKey, record(contact, now))).toBe('stored')
    const another = await identity(device)
    expect(await kadPut(stranger, target, presenceKey(another.key.publicKey), record(another, now))).toBe('refused')
    expect(seqOf(await kadGet(stranger, target, contactKey))).toBe(now)
    const refused = (await kithJson(home, ['status'])).network.presenceRefused
    expect(refused['dht-full']).toBe(outcomes.refused + 1)
    expect(refused['dht-rollback']).toBe(1)

    await victim.stop()
    const held = await storedRecords(home)
    console.log(`DHT flood: the victim's home holds ${held.count} DHT records, ${(held.bytes / MiB).toFixed(1)} MiB`)
    expect(held.count).toBeLessThanOrEqual(DHT_STORE_LIMITS.maxPresenceRecords)
    expect(held.bytes).toBeLessThanOrEqual(DHT_STORE_LIMITS.maxBytes)
    // The contact's record, the flood's that fit, and the victim's own when it published one.
    expect(held.count - outcomes.stored - 1).toBeGreaterThanOrEqual(0)
    expect(held.count - outcomes.stored - 1).toBeLessThanOrEqual(1)
  }, 600_000)
})
