import { LIMITS, PreKeyBundle } from '@kith/core'
import { createSignedPreKey, ed25519Sign, x25519Generate } from '@kith/crypto'
import type { X25519KeyPair, X3dhResponderKeys } from '@kith/crypto'
import type { KithStore, StoreOp } from '@kith/store'
import type { PrivateKey } from '@libp2p/interface'

const DAY_MS = 24 * 60 * 60 * 1000
/** One-time prekeys kept ready to hand out; more are made when fewer than half are left. */
export const ONE_TIME_PREKEYS = 50
/**
 * One-time prekeys handed out and not used yet, kept at most: each hand-out past this drops
 * the oldest unused one, so a contact fetching bundles in a loop can't grow our store. An
 * initiator holding a dropped one gets "prekeys gone" and starts again from a fresh bundle.
 */
export const MAX_HANDED_OUT = 200
/** Invites whose one-time prekey is kept past {@link MAX_HANDED_OUT} until the invite expires. */
export const MAX_INVITES_KEPT = 100
/** A signed prekey is replaced when it is this old. */
export const SIGNED_PREKEY_ROTATE_MS = 7 * DAY_MS
/**
 * A replaced signed prekey still answers X3DH this long: an invite code (valid 7 days) or a
 * presence record made with it still opens a session.
 */
export const SIGNED_PREKEY_GRACE_MS = 14 * DAY_MS
/** Replaced signed prekeys kept at most (a node that rotates on schedule holds two). */
const MAX_RETIRED = 4
const ROTATION_CHECK_MS = 60 * 60 * 1000
const DH_IDENTITY_CONTEXT = new TextEncoder().encode('kith/dh-identity/v1')

interface SignedPreKeyRecord {
  id: number
  keyPair: X25519KeyPair
  signature: Uint8Array
  /** ms since the epoch; missing in records made before rotation (those rotate at once). */
  createdAt?: number
}
interface RetiredPreKey extends SignedPreKeyRecord { retiredAt: number }
interface PrekeyCounters {
  /** The next one-time prekey id to create. */
  nextId: number
  /** The next one-time prekey id to hand out. */
  nextToGive: number
  /** One-time prekeys handed out in invites, as [id, expires]: not dropped before the invite expires. */
  invites?: Array<[number, number]>
}

/** Options of {@link DeviceKeys}: defaults for a real node; tests pass a clock. */
export interface DeviceKeysOptions {
  /** The time, ms since the epoch (default `Date.now`). */
  now?: () => number
  /** How often to check whether the signed prekey is due (default hourly; 0: never, only on use). */
  checkEveryMs?: number
}

/** How a bundle is handed out. */
export interface HandOutOptions {
  /** For an invite code that expires then: its one-time prekey is kept until that time. */
  inviteExpires?: number
}

/** The bytes a device key signs to vouch for its X25519 identity key. */
export function dhIdentityPayload (publicKey: Uint8Array): Uint8Array {
  return Buffer.concat([DH_IDENTITY_CONTEXT, publicKey])
}

/**
 * This device's X3DH keys, kept (sealed) in the store: the X25519 identity key, a signed
 * prekey that is replaced weekly (the replaced ones still answer for a grace period), and a
 * pool of one-time prekeys handed out one per bundle and deleted once used.
 *
 * Every change of these keys runs in one queue, and each is committed (one batch) before its
 * result is used: two bundles never carry the same one-time prekey, however many are asked for
 * at once, and none is handed out twice after a crash.
 */
export class DeviceKeys {
  identityDh!: X25519KeyPair
  /** The device key's signature over the identity DH key. */
  identityDhSignature!: Uint8Array
  private signedPreKey!: SignedPreKeyRecord
  private retired: RetiredPreKey[] = []
  private counters: PrekeyCounters = { nextId: 1, nextToGive: 1 }
  private queue: Promise<unknown> = Promise.resolve()
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly now: () => number

  constructor (private readonly store: KithStore, private readonly deviceKey: PrivateKey, private readonly certificate: Uint8Array, private readonly options: DeviceKeysOptions = {}) {
    this.now = options.now ?? Date.now
  }

  /** Load the keys, creating what is missing (first start) and rotating what is due, in one batch. */
  async load (): Promise<void> {
    await this.serial(async () => {
      const ops: StoreOp[] = []
      let dh = await this.store.getSecret<X25519KeyPair>('e2ee/dh')
      if (dh == null) { dh = x25519Generate(); ops.push(this.store.putSecret('e2ee/dh', dh)) }
      const spk = await this.store.getSecret<SignedPreKeyRecord>('e2ee/spk')
      const retired = await this.store.getSecret<RetiredPreKey[]>('e2ee/spk-retired') ?? []
      const counters = await this.store.getSecret<PrekeyCounters>('e2ee/counters') ?? { nextId: 1, nextToGive: 1 }
      const next = spk == null ? this.signedState(dh.publicKey, 1, []) : this.rotation(dh.publicKey, spk, retired)
      if (next != null) ops.push(...next.ops)
      const refill = this.replenish(counters)
      if (refill.ops.length > 0) ops.push(...refill.ops, this.store.putSecret('e2ee/counters', refill.counters))
      await this.store.commit(ops)
      this.identityDh = dh
      this.identityDhSignature = ed25519Sign(this.deviceKey, dhIdentityPayload(dh.publicKey))
      this.signedPreKey = next?.current ?? spk as SignedPreKeyRecord
      this.retired = next?.retired ?? retired
      this.counters = refill.counters
    })
    const every = this.options.checkEveryMs ?? ROTATION_CHECK_MS
    if (every > 0 && this.timer == null) {
      // A node left running for weeks rotates too; unref'd, so it never holds a process open.
      this.timer = setInterval(() => { this.rotateIfDue().catch(() => {}) }, every)
      this.timer.unref?.()
    }
  }

  /** Stop the rotation timer. */
  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The signed prekey's id in bundles made now. */
  get signedPreKeyId (): number { return this.signedPreKey.id }

  /** Replace the signed prekey if it is due, and forget replaced ones past their grace period. */
  async rotateIfDue (): Promise<void> {
    await this.serial(async () => {
      const next = this.rotation(this.identityDh.publicKey, this.signedPreKey, this.retired)
      if (next == null) return
      await this.store.commit(next.ops)
      this.signedPreKey = next.current
      this.retired = next.retired
    })
  }

  /**
   * A bundle without a one-time prekey, for anyone to read (the presence record): X3DH
   * against it still works, with the forward secrecy of the signed prekey alone.
   */
  publicBundle (): Uint8Array {
    // Presence records are made on a schedule: a good moment to notice the signed prekey is due.
    if (this.due(this.signedPreKey)) this.rotateIfDue().catch(() => {})
    return this.encode()
  }

  /**
   * Hand out a bundle with the next one-time prekey (none when the pool is empty). The prekey
   * is recorded as given, and the pool refilled, in one batch committed before this returns;
   * calls run one at a time, so concurrent calls get distinct one-time prekeys.
   */
  async handOut (options: HandOutOptions = {}): Promise<Uint8Array> {
    return await this.serial(async () => {
      const ops: StoreOp[] = []
      const rotated = this.rotation(this.identityDh.publicKey, this.signedPreKey, this.retired)
      if (rotated != null) ops.push(...rotated.ops)
      let { nextId, nextToGive, invites = [] } = this.counters
      let given: { id: number, key: X25519KeyPair } | undefined
      while (given == null && nextToGive < nextId) {
        const id = nextToGive++
        const key = await this.store.getSecret<X25519KeyPair>(`e2ee/opk/${id}`)
        if (key != null) given = { id, key }
      }
      const now = this.now()
      const horizon = nextToGive - MAX_HANDED_OUT
      const keep = new Set(invites.filter(([, expires]) => expires > now).map(([id]) => id))
      // The hand-out that moves the horizon past an unused one-time prekey drops it, unless an invite still holds it.
      for (let id = Math.max(1, this.counters.nextToGive - MAX_HANDED_OUT); id < horizon; id++) if (!keep.has(id)) ops.push(this.store.delSecret(`e2ee/opk/${id}`))
      if (given != null && options.inviteExpires != null) invites.push([given.id, options.inviteExpires])
      const kept = invites.filter(([, expires]) => expires > now)
      // Invites that expired, or that are too many, no longer hold their prekey once it is past the horizon.
      const dropped = [...invites.filter(([, expires]) => expires <= now), ...kept.splice(0, Math.max(0, kept.length - MAX_INVITES_KEPT))]
      for (const [id] of dropped) if (id < horizon) ops.push(this.store.delSecret(`e2ee/opk/${id}`))
      invites = kept
      const refill = this.replenish({ nextId, nextToGive, ...(invites.length > 0 ? { invites } : {}) })
      ops.push(...refill.ops, this.store.putSecret('e2ee/counters', refill.counters))
      const bundle = this.encode(rotated?.current, given)
      if (bundle.length > LIMITS.maxBundleBytes) throw new Error('bundle too large')
      await this.store.commit(ops)
      if (rotated != null) { this.signedPreKey = rotated.current; this.retired = rotated.retired }
      this.counters = refill.counters
      return bundle
    })
  }

  /**
   * A bundle to hand out and no writes left to commit: {@link handOut} commits them itself.
   *
   * @deprecated use {@link handOut}
   */
  async bundle (options: HandOutOptions = {}): Promise<{ bundle: Uint8Array, ops: StoreOp[] }> {
    return { bundle: await this.handOut(options), ops: [] }
  }

  /**
   * The private keys an initial message names, and the write that deletes its one-time prekey.
   * Undefined when they are gone: a signed prekey replaced more than the grace period ago (or
   * never ours), a one-time prekey already used or dropped.
   */
  async responderKeys (signedPreKeyId: number, oneTimePreKeyId: number): Promise<{ keys: X3dhResponderKeys, ops: StoreOp[] } | undefined> {
    const now = this.now()
    const spk = signedPreKeyId === this.signedPreKey.id
      ? this.signedPreKey
      : this.retired.find(r => r.id === signedPreKeyId && now - r.retiredAt < SIGNED_PREKEY_GRACE_MS)
    if (spk == null) return undefined
    const keys: X3dhResponderKeys = { identityDh: this.identityDh, signedPreKey: spk.keyPair }
    if (oneTimePreKeyId === 0) return { keys, ops: [] }
    const opk = await this.store.getSecret<X25519KeyPair>(`e2ee/opk/${oneTimePreKeyId}`)
    if (opk == null) return undefined
    return { keys: { ...keys, oneTimePreKey: opk }, ops: [this.store.delSecret(`e2ee/opk/${oneTimePreKeyId}`)] }
  }

  /** Run `fn` after every change queued before it. */
  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }

  private due (spk: SignedPreKeyRecord): boolean {
    return spk.createdAt == null || this.now() - spk.createdAt >= SIGNED_PREKEY_ROTATE_MS
  }

  /** The state after replacing `spk` if it is due and dropping replaced keys past grace; undefined when nothing changes. */
  private rotation (identityDh: Uint8Array, spk: SignedPreKeyRecord, retired: RetiredPreKey[]): { current: SignedPreKeyRecord, retired: RetiredPreKey[], ops: StoreOp[] } | undefined {
    const now = this.now()
    const live = retired.filter(r => now - r.retiredAt < SIGNED_PREKEY_GRACE_MS)
    if (!this.due(spk)) {
      if (live.length === retired.length) return undefined
      return { current: spk, retired: live, ops: [this.store.putSecret('e2ee/spk-retired', live)] }
    }
    return this.signedState(identityDh, (spk.id % 0xffff_ffff) + 1, [{ ...spk, retiredAt: now }, ...live].slice(0, MAX_RETIRED))
  }

  private signedState (identityDh: Uint8Array, id: number, retired: RetiredPreKey[]): { current: SignedPreKeyRecord, retired: RetiredPreKey[], ops: StoreOp[] } {
    const created = createSignedPreKey(this.deviceKey, identityDh, id)
    const current = { id, keyPair: created.keyPair, signature: created.signedPreKey.signature, createdAt: this.now() }
    return { current, retired, ops: [this.store.putSecret('e2ee/spk', current), this.store.putSecret('e2ee/spk-retired', retired)] }
  }

  private encode (spk: SignedPreKeyRecord = this.signedPreKey, opk?: { id: number, key: X25519KeyPair }): Uint8Array {
    return PreKeyBundle.encode({
      certificate: new Uint8Array(this.certificate),
      identityDhKey: new Uint8Array(this.identityDh.publicKey),
      signedPrekeyId: spk.id,
      signedPrekey: new Uint8Array(spk.keyPair.publicKey),
      signedPrekeySignature: new Uint8Array(spk.signature),
      oneTimePrekeyId: opk?.id ?? 0,
      oneTimePrekey: new Uint8Array(opk?.key.publicKey ?? [])
    })
  }

  /** Top the pool of one-time prekeys up when fewer than half are left to give: the new keys' writes (the counters are the caller's to write). */
  private replenish (counters: PrekeyCounters): { counters: PrekeyCounters, ops: StoreOp[] } {
    if (counters.nextId - counters.nextToGive >= ONE_TIME_PREKEYS / 2) return { counters, ops: [] }
    const ops: StoreOp[] = []
    let nextId = counters.nextId
    while (nextId - counters.nextToGive < ONE_TIME_PREKEYS) {
      ops.push(this.store.putSecret(`e2ee/opk/${nextId}`, x25519Generate()))
      nextId++
    }
    return { counters: { ...counters, nextId }, ops }
  }
}
