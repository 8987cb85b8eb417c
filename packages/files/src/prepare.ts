import { randomBytes } from 'node:crypto'
import { open, rename } from 'node:fs/promises'
import { toHex } from '@kith/core'
import { CHUNK_BYTES, CHUNK_STRIDE, FILES_LIMITS, HASH_BYTES, KEY_BYTES } from './constants.js'
import { chunkCount, plainLength, sealChunk } from './format.js'
import { readFully, syncDir, unlinkQuietly } from './io.js'
import { MerkleBuilder, leafHash } from './merkle.js'
import type { FileStore } from './file-store.js'
import type { FileRef, ProgressOptions } from './types.js'
import type { FileHandle } from 'node:fs/promises'

const LEAVES_BATCH = FILES_LIMITS.maxLeavesFrameBytes / HASH_BYTES

/**
 * Encrypt a source file into the store's folder, 1 MiB at a time, under a fresh random key:
 * the ciphertext chunks go to `<root>.blob`, their leaf hashes to `<root>.leaves`, and the state
 * (complete) to the store. Both files are written under temporary names, synced and renamed,
 * so an interrupted prepare leaves nothing half-made. Progress is in plaintext bytes.
 *
 * @example
 * ```ts
 * const ref = await prepareFile(files.store, '/home/me/holiday.mp4', { onProgress: (done, total) => bar.update(done / total) })
 * // send { ...ref, name: 'holiday.mp4', type: 'video/mp4' } inside an end-to-end encrypted message
 * ```
 */
export async function prepareFile (files: FileStore, sourcePath: string, opts: ProgressOptions = {}): Promise<FileRef> {
  await files.ready()
  const key = new Uint8Array(randomBytes(KEY_BYTES))
  const blobTemp = files.tempPath('blob')
  const leavesTemp = files.tempPath('leaves')
  let source: FileHandle | undefined
  let blob: FileHandle | undefined
  let leaves: FileHandle | undefined
  let renamed = false
  try {
    source = await open(sourcePath, 'r')
    const size = (await source.stat()).size
    const n = chunkCount(size)
    blob = await open(blobTemp, 'wx', 0o600)
    leaves = await open(leavesTemp, 'wx', 0o600)
    const tree = new MerkleBuilder()
    // One buffer each way for the whole file: chunks are sealed one after another.
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES)
    const output = Buffer.allocUnsafe(CHUNK_STRIDE)
    let batch: Buffer[] = []
    for (let i = 0; i < n; i++) {
      opts.signal?.throwIfAborted()
      const plain = buffer.subarray(0, plainLength(i, size))
      await readFully(source, plain, i * CHUNK_BYTES)
      const sealed = sealChunk(key, i, n, plain, output)
      await blob.write(sealed)
      const leaf = leafHash(sealed)
      tree.push(leaf)
      batch.push(leaf)
      if (batch.length === LEAVES_BATCH) {
        await leaves.write(Buffer.concat(batch))
        batch = []
      }
      opts.onProgress?.(i * CHUNK_BYTES + plain.length, size)
    }
    if (batch.length > 0) await leaves.write(Buffer.concat(batch))
    if (n === 0) opts.onProgress?.(0, 0)
    // A source that grew meanwhile would give a file that ends where the size said.
    if ((await source.stat()).size !== size) throw new Error('the source file changed while it was read')
    await blob.sync()
    await leaves.sync()
    const root = toHex(tree.root())
    await rename(blobTemp, files.blobPath(root))
    await rename(leavesTemp, files.leavesPath(root))
    renamed = true
    await syncDir(files.dir)
    await files.save({ root, size, key, complete: true, leaves: true })
    return { root, key, size }
  } finally {
    await source?.close()
    await blob?.close()
    await leaves?.close()
    if (!renamed) {
      await unlinkQuietly(blobTemp)
      await unlinkQuietly(leavesTemp)
    }
  }
}
