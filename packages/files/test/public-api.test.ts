import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts: a change to the public API must change this list too.
const FILES_API = [
  'CHUNK_BYTES', 'CHUNK_STRIDE', 'TAG_BYTES', 'KEY_BYTES', 'HASH_BYTES', 'AAD_LABEL', 'FILES_LIMITS', 'FETCH_DEFAULTS', 'SERVING_DEFAULTS', 'FILES_PROTOCOL',
  'FileStore', 'prepareFile', 'safeFileName', 'uniquePath', 'MAX_NAME_BYTES',
  'MerkleBuilder', 'merkleRoot', 'leafHash', 'nodeHash', 'EMPTY_ROOT', 'chunkCount', 'sealChunk', 'openChunk', 'files'
]

describe('@kith/files public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('../src/index.js')
    expect(Object.keys(mod).sort()).toEqual([...FILES_API].sort())
    expect(mod.FILES_PROTOCOL).toBe('/kith/files/1.0.0')
    expect(mod.CHUNK_BYTES).toBe(1_048_576)
  })

  it('seals chunk i of n so that only chunk i of n opens it', async () => {
    const { sealChunk, openChunk } = await import('../src/index.js')
    const key = new Uint8Array(32).fill(9)
    const sealed = sealChunk(key, 3, 5, Buffer.from('hello'))
    expect(sealed.length).toBe(5 + 16)
    expect(openChunk(key, 3, 5, sealed).toString()).toBe('hello')
    expect(() => openChunk(key, 2, 5, sealed)).toThrow(expect.objectContaining({ name: 'FileCorruptError' }))
    expect(() => openChunk(key, 3, 6, sealed)).toThrow(expect.objectContaining({ name: 'FileCorruptError' }))
  })
})
