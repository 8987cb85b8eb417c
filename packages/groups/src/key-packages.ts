import { KithError, UnknownContactError, lengthPrefixed } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { InvalidGroupMessageError, decodeKeyPackage, encodeKeyPackage, keyPackageDevice } from './group.js'
import { deviceKeyPackage } from './mls.js'
import type { GroupServiceInit } from './service.js'
import type { KithStore, StoreOp } from '@kith/store'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { KeyPackage, PrivateKeyPackage } from 'ts-mls'

/** A contact that is online fetches a fresh key package of this device here, when it holds none of ours. */
export const KEY_PACKAGE_PROTOCOL = '/kith/keypackage/1.0.0'
/** Control topic (over the 1:1 E2EE channel) on which a device hands each contact a key package of its own. */
export const KEY_PACKAGE_TOPIC = 'groups/key-package'

const MAX_KEY_PACKAGE_BYTES = 64 * 1024
const TIMEOUT_MS = 10_000
/** Contact devices whose key packages we keep at most (one each, the latest): a contact can't fill our store with them. */
export const MAX_HELD_KEY_PACKAGES = 4096
/** Key packages of ours handed out on request that one contact may hold unspent (older ones are forgotten). */
export const MAX_SERVED_PER_CONTACT = 2
/** Our key packages' private parts, by init key (hex), until a Welcome uses one. */
const OWN = 'mls/key-package/'
/** Which of our key packages (init key, hex) each contact holds. */
const OFFERED = 'mls/offered/'
/** The key package each contact gave us (to add it with, even while it is offline). */
const HELD = 'mls/held/'
/** Which of our key packages (init keys, hex, oldest first) each contact fetched on KEY_PACKAGE_PROTOCOL. */
const SERVED = 'mls/served/'

/** What {@link KeyPackages} needs of the node (a part of the group service's). */
export type KeyPackagesInit = Pick<GroupServiceInit, 'deviceKey' | 'certificate' | 'store' | 'dial' | 'isContact' | 'contacts' | 'sendControl'>

/** We hold no key package of that contact and could not fetch one. */
export class NoKeyPackageError extends KithError { static override name = 'NoKeyPackageError' }

/** What {@link KeyPackages} refused or forgot to keep what contacts make us store bounded. */
export interface KeyPackageMetrics {
  /** Key packages from contacts not kept: too large, or too many contact devices hold one already. */
  dropped: number
  /** Key packages of ours handed out on request and forgotten because the contact asked for more. */
  evicted: number
}

/**
 * Key packages between contacts: each device hands every contact one of its own (so the
 * contact can add it to a group while it is offline), keeps the private parts (sealed) until a
 * Welcome names one, and keeps the latest each contact device gave it. What contacts can make
 * us store is bounded: one key package per contact device (the latest), at most
 * {@link MAX_HELD_KEY_PACKAGES} in all, and {@link MAX_SERVED_PER_CONTACT} of ours fetched
 * by each contact.
 */
export class KeyPackages {
  readonly metrics: KeyPackageMetrics = { dropped: 0, evicted: 0 }
  private offering: Promise<void> = Promise.resolve()
  private serving: Promise<unknown> = Promise.resolve()
  /** The contact devices whose key package we hold (read from the store once, then kept up to date). */
  private held: Promise<Set<string>> | undefined

  /** `limits` lowers the caps (tests). */
  constructor (private readonly init: KeyPackagesInit, private readonly limits: { held?: number, servedPerContact?: number } = {}) {}

  private get store (): KithStore { return this.init.store }

  /**
   * Hand every contact that holds no key package of ours a fresh one (queued while it is
   * offline). Called at start, for each new contact, and after a Welcome spent one.
   */
  async offer (): Promise<void> {
    const run = this.offering.then(async () => {
      for (const peer of await this.init.contacts()) {
        if (await this.store.getSecret(`${OFFERED}${peer}`) != null) continue
        const { publicPackage, ops } = await this.mint()
        // One contact that can't be sent to now (no session yet, a changed identity key) is tried again next time.
        await this.init.sendControl(peer, KEY_PACKAGE_TOPIC, encodeKeyPackage(publicPackage), [...ops, this.store.putSecret(`${OFFERED}${peer}`, hex(publicPackage.initKey))]).catch(() => {})
      }
    })
    this.offering = run.catch(() => {})
    await run
  }

  /**
   * A contact's key package arrived: kept to add it with (the latest replaces an older one).
   * One that is too large, or from a device new to us when we hold the most we keep, is
   * taken in (acknowledged) but not kept, and counted.
   *
   * @throws {InvalidGroupMessageError} when it is malformed or for another device
   */
  async take (from: string, payload: Uint8Array): Promise<{ ops: StoreOp[] }> {
    if (payload.length > MAX_KEY_PACKAGE_BYTES) {
      this.metrics.dropped++
      return { ops: [] }
    }
    if (keyPackageDevice(decodeKeyPackage(payload)) !== from) throw new InvalidGroupMessageError('a key package for another device')
    const held = await this.heldDevices()
    if (!held.has(from) && held.size >= (this.limits.held ?? MAX_HELD_KEY_PACKAGES)) {
      this.metrics.dropped++
      return { ops: [] }
    }
    held.add(from)
    return { ops: [this.store.putSecret(`${HELD}${from}`, payload)] }
  }

  private async heldDevices (): Promise<Set<string>> {
    this.held ??= this.store.listSecrets(HELD).then(entries => new Set(entries.map(([name]) => name.slice(HELD.length))))
    return await this.held
  }

  /** Whether we hold a key package the contact gave us. */
  async holds (peer: string): Promise<boolean> {
    return await this.store.getSecret(`${HELD}${peer}`) != null
  }

  /**
   * A key package of a contact to add it with, and the ops that mark it spent: the one it gave
   * us, else one it hands over now (online).
   *
   * @throws {NoKeyPackageError} when we hold none and the contact is offline
   */
  async of (peer: PeerId): Promise<{ keyPackage: KeyPackage, spent: StoreOp[] }> {
    const held = await this.store.getSecret<Uint8Array>(`${HELD}${peer.toString()}`)
    if (held != null) {
      (await this.heldDevices()).delete(peer.toString())
      return { keyPackage: decodeKeyPackage(held), spent: [this.store.delSecret(`${HELD}${peer.toString()}`)] }
    }
    return { keyPackage: await this.fetch(peer), spent: [] }
  }

  /**
   * Our key package a Welcome from `from` names, and the ops that spend it (so the contact gets
   * a fresh one at the next {@link offer}).
   *
   * @throws {InvalidGroupMessageError} when it names none of ours
   */
  async own (initKey: Uint8Array, from: string): Promise<{ publicPackage: KeyPackage, privatePackage: PrivateKeyPackage, spent: StoreOp[] }> {
    const id = hex(initKey)
    const stored = await this.store.getSecret<{ publicPackage: Uint8Array, privatePackage: PrivateKeyPackage }>(`${OWN}${id}`)
    if (stored == null) throw new InvalidGroupMessageError('the Welcome names no key package of ours')
    const spent = [this.store.delSecret(`${OWN}${id}`)]
    if (await this.store.getSecret(`${OFFERED}${from}`) === id) spent.push(this.store.delSecret(`${OFFERED}${from}`))
    return { publicPackage: decodeKeyPackage(stored.publicPackage), privatePackage: stored.privatePackage, spent }
  }

  /**
   * Hand a contact that asks on {@link KEY_PACKAGE_PROTOCOL} a fresh key package. It may hold
   * {@link MAX_SERVED_PER_CONTACT} of them unspent: asking for more makes us forget the oldest.
   */
  async serve (stream: Stream, connection: Connection): Promise<void> {
    try {
      const peer = connection.remotePeer.toString()
      if (!await this.init.isContact(peer)) throw new UnknownContactError('key packages are for contacts')
      const { publicPackage } = await this.serialize(async () => {
        const minted = await this.mint()
        const served = [...await this.store.getSecret<string[]>(`${SERVED}${peer}`) ?? [], hex(minted.publicPackage.initKey)]
        const forgotten = served.splice(0, Math.max(0, served.length - (this.limits.servedPerContact ?? MAX_SERVED_PER_CONTACT)))
        this.metrics.evicted += forgotten.length
        await this.store.commit([...minted.ops, this.store.putSecret(`${SERVED}${peer}`, served), ...forgotten.map(id => this.store.delSecret(`${OWN}${id}`))])
        return minted
      })
      await lpStream(stream, { maxDataLength: MAX_KEY_PACKAGE_BYTES }).write(encodeKeyPackage(publicPackage))
      await stream.close()
    } catch (err: any) {
      stream.abort(err)
    }
  }

  /** One change to the served lists at a time (requests can come in together). */
  private async serialize<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.serving.then(fn)
    this.serving = run.catch(() => {})
    return await run
  }

  /** A new key package of this device, and the op that keeps its private part (sealed) until a Welcome names it. */
  private async mint (): Promise<{ publicPackage: KeyPackage, ops: StoreOp[] }> {
    const { publicPackage, privatePackage } = await deviceKeyPackage(this.init.deviceKey, this.init.certificate)
    return { publicPackage, ops: [this.store.putSecret(`${OWN}${hex(publicPackage.initKey)}`, { publicPackage: encodeKeyPackage(publicPackage), privatePackage })] }
  }

  private async fetch (peer: PeerId): Promise<KeyPackage> {
    let bytes: Uint8Array
    try {
      const stream = await this.init.dial(peer, KEY_PACKAGE_PROTOCOL)
      bytes = (await lpStream(stream, lengthPrefixed(MAX_KEY_PACKAGE_BYTES)).read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray()
      await stream.close().catch(() => {})
    } catch {
      throw new NoKeyPackageError('this contact has not sent us a key package yet and is not online: add them once they have been online')
    }
    const keyPackage = decodeKeyPackage(bytes)
    if (keyPackageDevice(keyPackage) !== peer.toString()) throw new InvalidGroupMessageError('a key package for another device')
    return keyPackage
  }
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}
