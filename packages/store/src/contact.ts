import type { ContactRecord } from './types.js'

/**
 * The devices a contact has now: those of its latest signed device list, else the one device we
 * met it by (contacts of one device, and ones whose list has not arrived).
 */
export function contactDevices (contact: ContactRecord): string[] {
  return contact.devices != null && contact.devices.length > 0 ? contact.devices : [contact.peerId]
}
