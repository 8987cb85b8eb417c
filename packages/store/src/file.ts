import { fromHex, toHex } from '@kith/core'
import type { FileOffer } from '@kith/core'
import type { MessageFile } from './types.js'

/** How a file offer is kept in history. */
export function messageFileOf (offer: FileOffer): MessageFile {
  return { hash: toHex(offer.root), key: toHex(offer.key), size: offer.size, name: offer.name, type: offer.type }
}

/** The file offer a history record keeps (encoding it gives the bytes that were sent). */
export function fileOfferOf (file: MessageFile): FileOffer {
  return { root: fromHex(file.hash), key: fromHex(file.key), size: file.size, name: file.name, type: file.type }
}
