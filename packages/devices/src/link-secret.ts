import { createHmac } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

/** HMAC-SHA-256 under the link secret of a label and both devices' ids. */
function mac (secret: Uint8Array, label: string, identityDevice: PeerId, newDevice: PeerId): Buffer {
  return createHmac('sha256', secret).update(label).update(identityDevice.toMultihash().bytes).update(newDevice.toMultihash().bytes).digest()
}

/**
 * What the new device sends to show it holds the link code's secret. It names both devices, so
 * a proof seen on one link cannot be replayed by another device (Noise proves the device keys).
 */
export function linkProof (secret: Uint8Array, identityDevice: PeerId, newDevice: PeerId): Uint8Array {
  return new Uint8Array(mac(secret, 'kith/link-proof/v1', identityDevice, newDevice))
}

/**
 * The six digits both devices show once linked ("123 456"): equal on both screens only when
 * the device the user holds is the one the identity device certified.
 */
export function comparisonCode (secret: Uint8Array, identityDevice: PeerId, newDevice: PeerId): string {
  const digits = (mac(secret, 'kith/link-compare/v1', identityDevice, newDevice).readUInt32BE(0) % 1_000_000).toString().padStart(6, '0')
  return `${digits.slice(0, 3)} ${digits.slice(3)}`
}
