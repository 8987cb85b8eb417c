import { LIMITS, PreKeyBundle } from '@kith/core'
import { createSignedPreKey, ed25519Sign, x25519Generate } from '@kith/crypto'
import type { X25519KeyPair, X3dhResponderKeys } from '@kith/crypto'
import type { KithStore, StoreOp } from '@kith/store'
import type { PrivateKey } from '@libp2p/interface'

/** One-time prekeys kept ready; more are made when fewer than half are left. */
const ONE_TIME_PREKEYS = 50
const DH_IDENTITY_CONTEXT = new TextEncoder().encode('kith/dh-identity/v1')

interface SignedPreKeyRecord { id: number, keyPair: X25519KeyPair, signature: Uint8Array }
interface PrekeyCounters { nextId: number, nextToGive: number }

/** The bytes a device key signs to vouch for its X25519 identity key. */
export function dhIdentityPayload (publicKey: Uint8Array): Uint8Array {
  return Buffer.concat([DH_IDENTITY_CONTEXT, publicKey])
}

/**
 * This device's X3DH keys, kept (sealed) in the store: the X25519 identity key, a signed
 * prekey, and a pool of one-time prekeys handed out one per bundle and deleted once used.
 */
export class DeviceKeys {
  identityDh!: X25519KeyPair
  /** The device key's signature over the identity DH key. */
  identityDhSignature!: Uint8Array
  private signedPreKey!: SignedPreKeyRecord
  private counters: PrekeyCounters = { nextId: 1, nextToGive: 1 }

  constructor (private readonly store: KithStore, private readonly deviceKey: PrivateKey, private readonly certificate: Uint8Array) {}

  /** Load the keys, creating what is missing (first start) in one batch. */
  async load (): Promise<void> {
    const ops: StoreOp[] = []
    let dh = await this.store.getSecret<X25519KeyPair>('e2ee/dh')
    if (dh == null) { dh = x25519Generate(); ops.push(this.store.putSecret('e2ee/dh', dh)) }
    this.identityDh = dh
    this.identityDhSignature = ed25519Sign(this.deviceKey, dhIdentityPayload(dh.publicKey))
    let spk = await this.store.getSecret<SignedPreKeyRecord>('e2ee/spk')
    if (spk == null) {
      const created = createSignedPreKey(this.deviceKey, dh.publicKey, 1)
      spk = { id: 1, keyPair: created.keyPair, signature: created.signedPreKey.signature }
      ops.push(this.store.putSecret('e2ee/spk', spk))
    }
    this.signedPreKey = spk
    this.counters = await this.store.getSecret<PrekeyCounters>('e2ee/counters') ?? this.counters
    ops.push(...await this.replenish())
    await this.store.commit(ops)
  }

  /**
   * A bundle to hand out, with the next one-time prekey (if any is left), and the writes that
   * record it as given.
   */
  /**
   * A bundle without a one-time prekey, for anyone to read (the presence record): X3DH
   * against it still works, with the forward secrecy of the signed prekey alone.
   */
  publicBundle (): Uint8Array {
    return PreKeyBundle.encode({
      certificate: new Uint8Array(this.certificate),
      identityDhKey: new Uint8Array(this.identityDh.publicKey),
      signedPrekeyId: this.signedPreKey.id,
      signedPrekey: new Uint8Array(this.signedPreKey.keyPair.publicKey),
      signedPrekeySignature: new Uint8Array(this.signedPreKey.signature),
      oneTimePrekeyId: 0,
      oneTimePrekey: new Uint8Array()
    })
  }

  async bundle (): Promise<{ bundle: Uint8Array, ops: StoreOp[] }> {
    const id = this.counters.nextToGive
    const opk = id < this.counters.nextId ? await this.store.getSecret<X25519KeyPair>(`e2ee/opk/${id}`) : undefined
    if (opk != null) this.counters = { ...this.counters, nextToGive: id + 1 }
    const ops = [this.store.putSecret('e2ee/counters', this.counters), ...await this.replenish()]
    const bundle = PreKeyBundle.encode({
      certificate: new Uint8Array(this.certificate),
      identityDhKey: new Uint8Array(this.identityDh.publicKey),
      signedPrekeyId: this.signedPreKey.id,
      signedPrekey: new Uint8Array(this.signedPreKey.keyPair.publicKey),
      signedPrekeySignature: new Uint8Array(this.signedPreKey.signature),
      oneTimePrekeyId: opk != null ? id : 0,
      oneTimePrekey: new Uint8Array(opk?.publicKey ?? [])
    })
    if (bundle.length > LIMITS.maxBundleBytes) throw new Error('bundle too large')
    return { bundle, ops }
  }

  /**
   * The private keys an initial message names, and the write that deletes its one-time prekey.
   * Undefined when they are unknown (an old signed prekey, a one-time prekey already used).
   */
  async responderKeys (signedPreKeyId: number, oneTimePreKeyId: number): Promise<{ keys: X3dhResponderKeys, ops: StoreOp[] } | undefined> {
    if (signedPreKeyId !== this.signedPreKey.id) return undefined
    const keys: X3dhResponderKeys = { identityDh: this.identityDh, signedPreKey: this.signedPreKey.keyPair }
    if (oneTimePreKeyId === 0) return { keys, ops: [] }
    const opk = await this.store.getSecret<X25519KeyPair>(`e2ee/opk/${oneTimePreKeyId}`)
    if (opk == null) return undefined
    return { keys: { ...keys, oneTimePreKey: opk }, ops: [this.store.delSecret(`e2ee/opk/${oneTimePreKeyId}`)] }
  }

  /** Top the pool of one-time prekeys up when fewer than half are left to give. */
  private async replenish (): Promise<StoreOp[]> {
    if (this.counters.nextId - this.counters.nextToGive >= ONE_TIME_PREKEYS / 2) return []
    const ops: StoreOp[] = []
    let nextId = this.counters.nextId
    while (nextId - this.counters.nextToGive < ONE_TIME_PREKEYS) {
      ops.push(this.store.putSecret(`e2ee/opk/${nextId}`, x25519Generate()))
      nextId++
    }
    this.counters = { ...this.counters, nextId }
    ops.push(this.store.putSecret('e2ee/counters', this.counters))
    return ops
  }
}
