import { KithError, UnknownContactError } from '@kith/core'
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
/** Our key packages' private parts, by init key (hex), until a Welcome uses one. */
const OWN = 'mls/key-package/'
/** Which of our key packages (init key, hex) each contact holds. */
const OFFERED = 'mls/offered/'
/** The key package each contact gave us (to add it with, even while it is offline). */
const HELD = 'mls/held/'

/** We hold no key package of that contact and could not fetch one. */
export class NoKeyPackageError extends KithError { static override name = 'NoKeyPackageError' }

/**
 * Key packages between contacts: each device hands every contact one of its own (so the
 * contact can add it to a group while it is offline), keeps the private parts (sealed) until a
 * Welcome names one, and keeps the latest each contact gave it.
 */
export class KeyPackages {
  private offering: Promise<void> = Promise.resolve()

  constructor (private readonly init: GroupServiceInit) {}

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

  /** A contact's key package arrived: kept to add it with (the latest replaces an older one). */
  take (from: string, payload: Uint8Array): { ops: StoreOp[] } {
    if (keyPackageDevice(decodeKeyPackage(payload)) !== from) throw new InvalidGroupMessageError('a key package for another device')
    return { ops: [this.store.putSecret(`${HELD}${from}`, payload)] }
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
    if (held != null) return { keyPackage: decodeKeyPackage(held), spent: [this.store.delSecret(`${HELD}${peer.toString()}`)] }
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

  /** Hand a contact that asks on {@link KEY_PACKAGE_PROTOCOL} a fresh key package. */
  async serve (stream: Stream, connection: Connection): Promise<void> {
    try {
      if (!await this.init.isContact(connection.remotePeer.toString())) throw new UnknownContactError('key packages are for contacts')
      const { publicPackage, ops } = await this.mint()
      await this.store.commit(ops)
      await lpStream(stream, { maxDataLength: MAX_KEY_PACKAGE_BYTES }).write(encodeKeyPackage(publicPackage))
      await stream.close()
    } catch (err: any) {
      stream.abort(err)
    }
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
      bytes = (await lpStream(stream, { maxDataLength: MAX_KEY_PACKAGE_BYTES }).read({ signal: AbortSignal.timeout(TIMEOUT_MS) })).subarray()
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
