import { InvalidMessageError } from '@kith/core'
import { KITH_GROUP_EXTENSION } from './mls.js'
import type { Extension } from 'ts-mls'

/** What every member agrees on besides the MLS tree: kept in a group context extension, so it changes only by commit. */
export interface GroupMeta {
  /** Shown to members; 1 to MAX_NAME_BYTES bytes of UTF-8. */
  name: string
  /** Identity fingerprints of the users who may add, remove, rename and promote (all their devices). */
  admins: string[]
}

export const MAX_NAME_BYTES = 64
export const MAX_ADMINS = 64
const MAX_META_BYTES = 8 * 1024

/**
 * Check a name a user typed for a group.
 *
 * @throws {InvalidMessageError}
 */
export function checkGroupName (name: string): string {
  const trimmed = name.trim()
  const bytes = Buffer.byteLength(trimmed)
  if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new InvalidMessageError(`a group name is 1 to ${MAX_NAME_BYTES} bytes`)
  return trimmed
}

export function encodeGroupMeta (meta: GroupMeta): Extension {
  return { extensionType: KITH_GROUP_EXTENSION, extensionData: new TextEncoder().encode(JSON.stringify({ name: meta.name, admins: meta.admins })) }
}

/**
 * The group's metadata from its context extensions.
 *
 * @throws {InvalidMessageError} when it is missing, oversized or malformed
 */
export function decodeGroupMeta (extensions: Extension[]): GroupMeta {
  const extension = extensions.find(e => e.extensionType === KITH_GROUP_EXTENSION)
  if (extension == null) throw new InvalidMessageError('not a Kith group: no group metadata')
  if (extension.extensionData.length > MAX_META_BYTES) throw new InvalidMessageError('group metadata is too large')
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(extension.extensionData))
  } catch {
    throw new InvalidMessageError('group metadata is malformed')
  }
  const { name, admins } = (value ?? {}) as Record<string, unknown>
  if (typeof name !== 'string' || !Array.isArray(admins) || admins.length === 0 || admins.length > MAX_ADMINS || !admins.every(a => typeof a === 'string' && a.length > 0 && a.length <= 128)) {
    throw new InvalidMessageError('group metadata is malformed')
  }
  return { name: checkGroupName(name), admins: admins as string[] }
}
