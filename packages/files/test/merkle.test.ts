import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EMPTY_ROOT, MerkleBuilder, leafHash, merkleRoot, nodeHash } from '../src/index.js'

// The reference Merkle tree test data of Certificate Transparency (RFC 6962): the eight inputs
// and the tree heads of their first 1..8 leaves, as published in transparency-dev/merkle,
// proof/verify_test.go (`leaves` and `roots`; commit 02194e9afb6c1d95b5381350007963aa70fff472),
// the same values as google/certificate-transparency's merkle tree tests.
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f']
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
]
// Same source: the first element of the inclusion proof of leaf 0 in the 8-leaf tree is the leaf hash of 0x00.
const LEAF_00 = '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'

/** RFC 6962 section 2.1, written as the recursion: split at the largest power of two below n. */
function mth (leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest()
  if (leaves.length === 1) return leaves[0] as Buffer
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}

describe('RFC 6962 Merkle tree hash', () => {
  it('matches the published roots for 1..8 leaves', () => {
    const leaves = INPUTS.map(hex => leafHash(Buffer.from(hex, 'hex')))
    for (let n = 1; n <= 8; n++) expect(merkleRoot(leaves.slice(0, n)).toString('hex')).toBe(ROOTS[n - 1])
    expect(leafHash(Buffer.from('00', 'hex')).toString('hex')).toBe(LEAF_00)
  })

  it('hashes the empty tree to SHA-256 of nothing', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(new MerkleBuilder().root().toString('hex')).toBe(EMPTY_ROOT.toString('hex'))
  })

  it('hashes a leaf given in pieces as one', () => {
    expect(leafHash([Buffer.from('2021', 'hex').subarray(0, 1), Buffer.from('21', 'hex')]).equals(leafHash(Buffer.from('2021', 'hex')))).toBe(true)
  })

  it('gives the recursive tree hash from streamed leaves for every n from 0 to 70', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70 }), fc.integer(), (n, seed) => {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${seed}/${i}`)))
      const builder = new MerkleBuilder()
      for (const leaf of leaves) builder.push(leaf)
      expect(builder.root().equals(mth(leaves))).toBe(true)
    }), { numRuns: 200 })
    for (let n = 0; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from([i])))
      expect(merkleRoot(leaves).equals(mth(leaves))).toBe(true)
    }
  })
})
