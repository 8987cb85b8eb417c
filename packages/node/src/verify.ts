import { KithError } from '@kith/core'
import { identityFingerprint, safetyNumber } from '@kith/crypto'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import type { ContactRecord, KithStore } from '@kith/store'
import type { PublicKey } from '@libp2p/interface'

/** The contact has no identity key on record (added before identities existed). */
export class NoIdentityKnownError extends KithError { static override name = 'NoIdentityKnownError' }

/** What `kith verify CONTACT` shows. */
export interface Verification {
  contact: string
  peerId: string
  /** 60 digits in 12 groups: the same on both sides when no one is in the middle. */
  safetyNumber: string
  /** The contact's identity fingerprint (hex SHA-256 of its identity key). */
  fingerprint: string
  /** The user compared safety numbers and marked them so. */
  verified: boolean
  /** The contact's device presented another identity key; sending waits until it is accepted. */
  identityChanged: boolean
  /** With `identityChanged`: the safety number under the new key, to compare before accepting. */
  newSafetyNumber?: string
}

function keyOf (encoded: string): PublicKey {
  return publicKeyFromProtobuf(Buffer.from(encoded, 'base64'))
}

/** The safety number and verification state of a contact. */
export function verification (ours: PublicKey, contact: ContactRecord): Verification {
  if (contact.identity == null) throw new NoIdentityKnownError(`no identity key is known for ${contact.name}`)
  const theirs = keyOf(contact.identity)
  return {
    contact: contact.name,
    peerId: contact.peerId,
    safetyNumber: safetyNumber(ours, theirs),
    fingerprint: identityFingerprint(theirs),
    verified: contact.verified === true,
    identityChanged: contact.changedIdentity != null,
    ...(contact.changedIdentity != null ? { newSafetyNumber: safetyNumber(ours, keyOf(contact.changedIdentity)) } : {})
  }
}

/** Record that the user compared safety numbers with this contact. */
export async function markVerified (store: KithStore, contact: ContactRecord): Promise<ContactRecord> {
  if (contact.identity == null) throw new NoIdentityKnownError(`no identity key is known for ${contact.name}`)
  if (contact.changedIdentity != null) throw new KithError(`${contact.name}'s identity key changed: accept the new key first (kith verify ${contact.name} --accept)`)
  return await store.updateContact(contact.peerId, current => ({ ...current, verified: true })) ?? contact
}

/** Accept a contact's new identity key: sending resumes; it is no longer marked verified. */
export async function acceptIdentity (store: KithStore, contact: ContactRecord): Promise<ContactRecord> {
  if (contact.changedIdentity == null) return contact
  return await store.updateContact(contact.peerId, current => {
    if (current.changedIdentity == null) return undefined
    const { changedIdentity, ...rest } = current
    return { ...rest, identity: changedIdentity, verified: false }
  }) ?? contact
}
