import { open, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { memoryStore } from '@kith/store'
import { afterAll, describe, expect, it } from 'vitest'
import { CHUNK_BYTES, CHUNK_STRIDE, FileStore, prepareFile } from '../src/index.js'
import { MARKER, cleanup, digest, fileContains, tempDir, writeTestFile } from './helpers.js'

afterAll(cleanup)

async function setup (): Promise<{ files: FileStore, work: string }> {
  return { files: new FileStore({ dir: await tempDir(), store: await memoryStore() }), work: await tempDir() }
}

describe('prepareFile → export', () => {
  for (const size of [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, Math.round(5.5 * CHUNK_BYTES)]) {
    it(`gives back the same bytes for a ${size}-byte file, and the folder holds no plaintext`, async () => {
      const { files, work } = await setup()
      const source = join(work, 'source')
      await writeTestFile(source, size)
      const progress: number[] = []
      const ref = await prepareFile(files, source, { onProgress: (done) => progress.push(done) })
      expect(ref.root).toMatch(/^[0-9a-f]{64}$/)
      expect(ref.size).toBe(size)
      expect(progress.at(-1)).toBe(size)
      expect(await files.get(ref.root)).toEqual({ root: ref.root, size, complete: true, verifiedBytes: size, chunks: Math.ceil(size / CHUNK_BYTES), haveChunks: Math.ceil(size / CHUNK_BYTES) })

      const out = join(work, 'out')
      await files.export(ref, out)
      expect(await digest(out)).toBe(await digest(source))

      // Only the blob and the leaves: no temporary files left behind, nothing in the clear.
      expect((await readdir(files.dir)).sort()).toEqual([`${ref.root}.blob`, `${ref.root}.leaves`])
      if (size >= MARKER.length) expect(await fileContains(source, MARKER)).toBe(true)
      for (const name of await readdir(files.dir)) expect(await fileContains(join(files.dir, name), MARKER)).toBe(false)
    })
  }

  it('refuses a tampered blob with FileCorruptError and leaves no partial output', async () => {
    const { files, work } = await setup()
    const source = join(work, 'source')
    await writeTestFile(source, 3 * CHUNK_BYTES)
    const ref = await prepareFile(files, source)
    const blob = await open(files.blobPath(ref.root), 'r+')
    const byte = Buffer.alloc(1)
    await blob.read(byte, 0, 1, CHUNK_STRIDE + 100)
    byte[0] = (byte[0] as number) ^ 0x01
    await blob.write(byte, 0, 1, CHUNK_STRIDE + 100)
    await blob.close()
    await expect(files.export(ref, join(work, 'out'))).rejects.toMatchObject({ name: 'FileCorruptError' })
    expect(await readdir(work)).toEqual(['source'])
  })

  it('refuses to overwrite unless asked', async () => {
    const { files, work } = await setup()
    const source = join(work, 'source')
    await writeTestFile(source, 1000)
    const ref = await prepareFile(files, source)
    const out = join(work, 'out')
    await writeFile(out, 'keep me')
    await expect(files.export(ref, out)).rejects.toMatchObject({ name: 'FileExistsError' })
    expect(await digest(out)).not.toBe(await digest(source))
    await files.export(ref, out, { overwrite: true })
    expect(await digest(out)).toBe(await digest(source))
  })

  it('export with a wrong key fails authentication', async () => {
    const { files, work } = await setup()
    const source = join(work, 'source')
    await writeTestFile(source, 5000)
    const ref = await prepareFile(files, source)
    const wrong = { ...ref, key: new Uint8Array(32) }
    await expect(files.export(wrong, join(work, 'out'))).rejects.toMatchObject({ name: 'FileCorruptError' })
  })

  it('an aborted prepare leaves nothing behind', async () => {
    const { files, work } = await setup()
    const source = join(work, 'source')
    await writeTestFile(source, 4 * CHUNK_BYTES)
    const controller = new AbortController()
    await expect(prepareFile(files, source, { signal: controller.signal, onProgress: (done) => { if (done >= 2 * CHUNK_BYTES) controller.abort() } }))
      .rejects.toMatchObject({ name: 'AbortError' })
    expect(await readdir(files.dir)).toEqual([])
    expect(await files.list()).toEqual([])
  })

  it('expect() records a file not yet held, idempotently; delete() forgets it and its files', async () => {
    const { files, work } = await setup()
    const source = join(work, 'source')
    await writeTestFile(source, 2 * CHUNK_BYTES + 5)
    const ref = await prepareFile(files, source)
    const other = new FileStore({ dir: await tempDir(), store: await memoryStore() })
    await other.expect(ref)
    await other.expect(ref)
    expect(await other.get(ref.root)).toMatchObject({ complete: false, verifiedBytes: 0, chunks: 3, haveChunks: 0 })
    await expect(other.export(ref, join(work, 'x'))).rejects.toMatchObject({ name: 'FileUnavailableError' })
    await files.delete(ref.root)
    expect(await files.get(ref.root)).toBeUndefined()
    expect(await readdir(files.dir)).toEqual([])
    await expect(files.export(ref, join(work, 'y'))).rejects.toMatchObject({ name: 'UnknownFileError' })
  })

  it('refuses roots that are not 64 hex characters (they name files on disk)', async () => {
    const { files } = await setup()
    await expect(files.get('../../etc/passwd')).rejects.toMatchObject({ name: 'InvalidMessageError' })
    expect(() => files.blobPath('A'.repeat(64))).toThrow()
  })
})
