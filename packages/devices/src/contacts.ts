import { InvalidMessageError, LIMITS } from '@kith/core'
import { LinkContact } from './proto/link.js'
import type { ContactRecord } from '@kith/store'

/** Largest encoded contact accepted from another of our devices. */
const MAX_CONTACT_BYTES = 24 * 1024

/** A contact as our devices hand it to each other (at linking, and when one changes). */
export function encodeContact (contact: ContactRecord): Uint8Array {
  return LinkContact.encode({
    peerId: contact.peerId,
    name: contact.name,
    addrs: contact.addrs.slice(0, LIMITS.maxAddrs),
    identity: contact.identity ?? '',
    verified: contact.verified === true,
    addedAt: BigInt(contact.addedAt),
    deviceList: contact.deviceList != null ? Buffer.from(contact.deviceList, 'base64') : new Uint8Array()
  })
}

/** @throws {InvalidMessageError} when it is oversized or malformed */
export function decodeContact (bytes: Uint8Array): ContactRecord {
  if (bytes.length > MAX_CONTACT_BYTES) throw new InvalidMessageError('contact record is too large')
  let c: LinkContact
  try {
    c = LinkContact.decode(bytes, { limits: { addrs: LIMITS.maxAddrs } })
  } catch (err) {
    throw new InvalidMessageError('malformed contact record', { cause: err })
  }
  if (c.peerId.length === 0 || c.peerId.length > 128 || c.name.length === 0) throw new InvalidMessageError('malformed contact record')
  return {
    peerId: c.peerId,
    name: c.name,
    addrs: c.addrs,
    addedAt: Number(c.addedAt),
    ...(c.identity !== '' ? { identity: c.identity } : {}),
    ...(c.verified ? { verified: true } : {}),
    ...(c.deviceList.length > 0 ? { deviceList: Buffer.from(c.deviceList).toString('base64') } : {})
  }
}
