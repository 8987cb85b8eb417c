import { AckStatus, InvalidInviteError, LIMITS, toHex, utf8Length } from '@kith/core'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { MessagingEvents } from './index.js'
import type { MessagingMetrics } from './metrics.js'
import type { Message } from '@kith/core'
import type { VerifiedDeviceCertificate } from '@kith/crypto'
import type { ContactRecord, KithStore } from '@kith/store'
import type { IdentifyResult, Logger, PeerId, PeerStore } from '@libp2p/interface'

/** What the contact book needs from the messaging service. */
export interface ContactBookInit {
  store: KithStore
  peerStore: PeerStore
  metrics: MessagingMetrics
  log: Logger
  dispatch: <K extends keyof MessagingEvents>(type: K, detail: MessagingEvents[K]['detail']) => void
}

/**
 * Who may message us and how to reach them: introductions redeem our invite tokens, a changed
 * identity key is flagged, and contacts are kept in the peer store (keep-alive) with the
 * addresses they last announced.
 */
export class ContactBook {
  constructor (private readonly init: ContactBookInit) {}

  /** Put a contact's addresses in the peer store and keep a connection to it alive. */
  async remember (contact: ContactRecord): Promise<void> {
    const multiaddrs = contact.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    await this.init.peerStore.merge(peerIdFromString(contact.peerId), { multiaddrs, tags: { [KEEP_ALIVE]: { value: 1 } } })
  }

  /** Remember where a contact listens now, so the next dial after a restart finds it. */
  async updateAddrs ({ peerId, listenAddrs }: IdentifyResult): Promise<void> {
    try {
      const addrs = listenAddrs.slice(0, LIMITS.maxAddrs).map(String)
      if (addrs.length === 0) return
      await this.init.store.updateContact(peerId.toString(), contact => addrs.join() === contact.addrs.join() ? undefined : { ...contact, addrs })
    } catch (err) {
      this.init.log.error('could not update addresses of %p: %e', peerId, err)
    }
  }

  /** A contact's device now speaks for another identity key: hold sending until the user accepts it. */
  async checkIdentity (contact: ContactRecord, identity: string): Promise<void> {
    if (contact.identity === identity || contact.changedIdentity === identity) return
    let changed: ContactRecord | undefined
    await this.init.store.updateContact(contact.peerId, current => {
      if (current.identity === identity || current.changedIdentity === identity) return undefined
      changed = { ...current, changedIdentity: identity }
      return changed
    })
    if (changed != null) this.init.dispatch('contact:identity-changed', changed)
  }

  /** An introduction: whoever holds a valid invite token of ours becomes a contact. */
  async acceptIntro (sender: PeerId, identity: string, message: Message): Promise<AckStatus> {
    const from = sender.toString()
    const known = await this.init.store.getContact(from)
    if (known != null) {
      await this.checkIdentity(known, identity)
      return AckStatus.OK
    }
    const token = toHex(message.inviteToken)
    const invite = await this.init.store.getInvite(token)
    if (invite == null || invite.expires < Date.now()) { this.init.metrics.refusedNotContact++; return AckStatus.REFUSED }
    const added: ContactRecord = {
      peerId: from,
      name: await this.uniqueName(message.name),
      addrs: decodeAddrs(message.addrs),
      addedAt: Date.now(),
      identity
    }
    await this.init.store.redeemInvite(token, added)
    await this.remember(added)
    this.init.dispatch('contact', added)
    return AckStatus.OK
  }

  private async uniqueName (wanted: string): Promise<string> {
    let base: string
    try { base = checkAlias(wanted) } catch { base = 'friend' }
    const names = new Set((await this.init.store.listContacts()).map(c => c.name))
    let name = base
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`
    return name
  }
}

/** How a contact's identity key is stored: its libp2p protobuf encoding, base64. */
export function identityOf (certificate: VerifiedDeviceCertificate): string {
  return Buffer.from(publicKeyToProtobuf(certificate.identity)).toString('base64')
}

/** Multiaddrs from bytes a peer sent us; ones that do not parse are left out. */
export function decodeAddrs (addrs: Uint8Array[]): string[] {
  return addrs.flatMap(a => { try { return [multiaddr(a).toString()] } catch { return [] } })
}

/** A contact alias: trimmed, no control characters, not empty, not too long. */
export function checkAlias (alias: string): string {
  const name = alias.replace(/\p{Cc}/gu, '').trim()
  if (name.length === 0) throw new InvalidInviteError('a contact needs a name')
  if (utf8Length(name) > LIMITS.maxNameBytes) throw new InvalidInviteError(`a contact name is at most ${LIMITS.maxNameBytes} bytes`)
  return name
}
