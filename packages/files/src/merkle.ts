import { createHash } from 'node:crypto'

const LEAF = Buffer.from([0x00])
const NODE = Buffer.from([0x01])

/** RFC 6962 leaf hash: SHA-256(0x00 || data); `data` may come in pieces (a frame as read off a stream). */
export function leafHash (data: Uint8Array | Iterable<Uint8Array>): Buffer {
  const hash = createHash('sha256').update(LEAF)
  if (data instanceof Uint8Array) hash.update(data)
  else for (const piece of data) hash.update(piece)
  return hash.digest()
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash (left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest()
}

/** Merkle Tree Hash of no leaves: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest()

/**
 * The RFC 6962 Merkle Tree Hash of a stream of leaf hashes, in O(log n) memory: it keeps the
 * roots of the complete subtrees seen so far (one per set bit of the count, largest first).
 * RFC 6962 splits n leaves at the largest power of two below n, so the tree is those perfect
 * subtrees, folded together from the right.
 */
export class MerkleBuilder {
  private readonly stack: Array<{ hash: Buffer, size: number }> = []
  private count = 0

  /** Add the next leaf hash (32 bytes). */
  push (leaf: Uint8Array): void {
    let top: { hash: Buffer, size: number } = { hash: Buffer.from(leaf), size: 1 }
    // Two subtrees of one size make a perfect subtree of twice that size.
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]?.size === top.size) {
      const left = this.stack.pop() as { hash: Buffer, size: number }
      top = { hash: nodeHash(left.hash, top.hash), size: left.size * 2 }
    }
    this.stack.push(top)
    this.count++
  }

  /** Leaves pushed so far. */
  get size (): number { return this.count }

  /** The Merkle Tree Hash of the leaves pushed so far. */
  root (): Buffer {
    if (this.stack.length === 0) return Buffer.from(EMPTY_ROOT)
    let acc: Buffer = (this.stack[this.stack.length - 1] as { hash: Buffer }).hash
    for (let k = this.stack.length - 2; k >= 0; k--) acc = nodeHash((this.stack[k] as { hash: Buffer }).hash, acc)
    return acc
  }
}

/** The Merkle Tree Hash of all these leaf hashes (streaming). */
export function merkleRoot (leaves: Iterable<Uint8Array>): Buffer {
  const builder = new MerkleBuilder()
  for (const leaf of leaves) builder.push(leaf)
  return builder.root()
}
