import { afterEach, describe, expect, it, vi } from 'vitest'
import { Message, MessageKind, PreKeyBundle } from '@kith/core'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { memoryStore } from '@kith/store'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { DeviceKeys, MAX_HANDED_OUT, SIGNED_PREKEY_GRACE_MS, SIGNED_PREKEY_ROTATE_MS } from '../src/e2ee/device-keys.js'
import { EndToEnd } from '../src/e2ee/end-to-end.js'
import type { KithStore } from '@kith/store'

const DAY = 24 * 60 * 60 * 1000
const AAD = new Uint8Array([7])
const text = (t: string): Uint8Array => Message.encode({ kind: MessageKind.TEXT, text: t, name: '', inviteToken: new Uint8Array(), addrs: [], certificate: new Uint8Array(), topic: '', payload: new Uint8Array(), file: new Uint8Array(), sentTo: '' })

async function deviceKeys (options: { store?: KithStore, now?: () => number } = {}): Promise<{ keys: DeviceKeys, store: KithStore }> {
  const key = await generateDeviceKey()
  const store = options.store ?? await memoryStore()
  const keys = new DeviceKeys(store, key, issueDeviceCertificate(await generateIdentityKey(), key.publicKey), { checkEveryMs: 0, ...(options.now != null ? { now: options.now } : {}) })
  await keys.load()
  return { keys, store }
}

const oneTimeId = (bundle: Uint8Array): number => PreKeyBundle.decode(bundle).oneTimePrekeyId
const signedId = (bundle: Uint8Array): number => PreKeyBundle.decode(bundle).signedPrekeyId

afterEach(() => { vi.useRealTimers() })

describe('one-time prekeys are handed out once', () => {
  it('50 concurrent requests and an invite made meanwhile get 51 distinct one-time prekeys', async () => {
    const { keys } = await deviceKeys()
    const fetches = Array.from({ length: 50 }, async () => await keys.handOut())
    const invite = keys.handOut({ inviteExpires: Date.now() + DAY })
    const ids = (await Promise.all([...fetches, invite])).map(oneTimeId)
    expect(ids.every(id => id > 0)).toBe(true) // the pool was refilled on the way: none went without
    expect(new Set(ids).size).toBe(51)
  })

  it('records a hand-out before the bundle leaves: a restart does not give the same one again', async () => {
    const store = await memoryStore()
    const key = await generateDeviceKey()
    const certificate = issueDeviceCertificate(await generateIdentityKey(), key.publicKey)
    const before = new DeviceKeys(store, key, certificate, { checkEveryMs: 0 })
    await before.load()
    const given = [await before.handOut(), await before.handOut()].map(oneTimeId)
    // A crash right after the bundles left: a new process loads the same store.
    const after = new DeviceKeys(store, key, certificate, { checkEveryMs: 0 })
    await after.load()
    expect(given).not.toContain(oneTimeId(await after.handOut()))
  })

  it('a used one-time prekey is gone; one still unused opens', async () => {
    const { keys, store } = await deviceKeys()
    const id = oneTimeId(await keys.handOut())
    const spk = keys.signedPreKeyId
    const first = await keys.responderKeys(spk, id)
    expect(first?.keys.oneTimePreKey).toBeDefined()
    await store.commit(first?.ops ?? [])
    expect(await keys.responderKeys(spk, id)).toBeUndefined()
  })

  it(`keeps at most ${MAX_HANDED_OUT} unused handed-out one-time prekeys, but an invite's until it expires`, async () => {
    const { keys, store } = await deviceKeys()
    const invite = oneTimeId(await keys.handOut({ inviteExpires: Date.now() + DAY }))
    const first = oneTimeId(await keys.handOut())
    for (let i = 0; i < MAX_HANDED_OUT + 100; i++) await keys.handOut()
    const stored = (await store.listSecrets('e2ee/opk/')).length
    // Handed out and unused, plus the pool not yet handed out (at most 50), plus the invite's.
    expect(stored).toBeLessThanOrEqual(MAX_HANDED_OUT + 50 + 1)
    expect(await keys.responderKeys(keys.signedPreKeyId, first)).toBeUndefined()
    expect(await keys.responderKeys(keys.signedPreKeyId, invite)).toBeDefined()
  })
})

describe('the signed prekey rotates weekly, the old one answers for a grace period', () => {
  it('a new bundle after a week has a new signed prekey; the old one opens until grace ends', async () => {
    let now = Date.UTC(2030, 0, 1)
    const { keys } = await deviceKeys({ now: () => now })
    const old = signedId(await keys.handOut())

    now += SIGNED_PREKEY_ROTATE_MS - 1
    expect(signedId(await keys.handOut())).toBe(old)
    now += 1
    const fresh = signedId(await keys.handOut())
    expect(fresh).not.toBe(old)
    expect(signedId(keys.publicBundle())).toBe(fresh)

    expect(await keys.responderKeys(old, 0)).toBeDefined()
    now += SIGNED_PREKEY_GRACE_MS - 1
    expect(await keys.responderKeys(old, 0)).toBeDefined()
    now += 1
    expect(await keys.responderKeys(old, 0)).toBeUndefined()
  })

  it('rotates at start when the stored signed prekey is due, and drops the private key after grace', async () => {
    let now = Date.UTC(2030, 0, 1)
    const store = await memoryStore()
    const { keys } = await deviceKeys({ store, now: () => now })
    const old = keys.signedPreKeyId
    now += 8 * DAY
    const { keys: restarted } = await deviceKeys({ store, now: () => now })
    expect(restarted.signedPreKeyId).not.toBe(old)
    expect(await restarted.responderKeys(old, 0)).toBeDefined()
    now += SIGNED_PREKEY_GRACE_MS
    await restarted.rotateIfDue()
    const kept = await store.getSecret<Array<{ id: number }>>('e2ee/spk-retired')
    expect(kept?.map(r => r.id)).not.toContain(old)
  })

  it('an X3DH initiation made from last week\'s bundle still opens a session; after grace it is "prekeys gone"', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.UTC(2030, 0, 1))
    const device = async (): Promise<{ e2e: EndToEnd, peerId: ReturnType<typeof peerIdFromPrivateKey> }> => {
      const key = await generateDeviceKey()
      const e2e = new EndToEnd(await memoryStore(), key, issueDeviceCertificate(await generateIdentityKey(), key.publicKey))
      await e2e.start()
      e2e.keys.stop()
      return { e2e, peerId: peerIdFromPrivateKey(key) }
    }
    const alice = await device()
    const bob = await device()
    const carol = await device()
    // An invite code Bob made, before his signed prekey rotated.
    const invite = await bob.e2e.keys.handOut({ inviteExpires: Date.now() + 7 * DAY })
    vi.setSystemTime(Date.now() + 8 * DAY)
    await bob.e2e.keys.rotateIfDue()
    expect(signedId(await bob.e2e.keys.handOut())).not.toBe(signedId(invite))

    const fromAlice = alice.e2e.encrypt(alice.e2e.initiate(bob.peerId, invite).session, text('still works'), AAD)
    const opened = await bob.e2e.decrypt(bob.e2e.open(fromAlice.body, AAD), undefined)
    expect(opened.message.text).toBe('still works')

    // Carol holds the same old bundle (say a presence record) and initiates after the grace period.
    const stale = PreKeyBundle.encode({ ...PreKeyBundle.decode(invite), oneTimePrekeyId: 0, oneTimePrekey: new Uint8Array() })
    vi.setSystemTime(Date.now() + SIGNED_PREKEY_GRACE_MS)
    await bob.e2e.keys.rotateIfDue()
    const fromCarol = carol.e2e.encrypt(carol.e2e.initiate(bob.peerId, stale).session, text('too late'), AAD)
    await expect(bob.e2e.decrypt(bob.e2e.open(fromCarol.body, AAD), undefined)).rejects.toMatchObject({ reason: 'noSession', message: expect.stringMatching(/prekeys .* gone/) })
  })
})
