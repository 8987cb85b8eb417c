import { spawn } from 'node:child_process'
import { open } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openStore } from '@kith/store'
import { afterAll, describe, expect, it } from 'vitest'
import { CHUNK_BYTES, CHUNK_STRIDE, leafHash, prepareFile } from '../src/index.js'
import { cleanup, connectAll, digest, startNode, tempDir, writeTestFile } from './helpers.js'
import type { FileRecord } from '../src/index.js'

afterAll(cleanup)

const FETCHER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-fetcher.mjs')
const CHUNKS = 160

describe('a fetch killed with SIGKILL', () => {
  it('claims only chunks that are on disk and verify, and resumes from them', async () => {
    const sender = await startNode()
    const db = join(await tempDir(), 'db')
    const dir = await tempDir()
    try {
      const source = join(await tempDir(), 'source')
      await writeTestFile(source, CHUNKS * CHUNK_BYTES)
      const ref = await prepareFile(sender.files.store, source)

      const child = spawn(process.execPath, [FETCHER, db, dir, sender.node.getMultiaddrs()[0]?.toString() as string, ref.root, Buffer.from(ref.key).toString('hex'), String(ref.size)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', d => { stderr += String(d) })
      const exited = new Promise<void>(resolve => child.on('exit', () => { resolve() }))
      // Kill it once it has verified about a third: mid-write, mid-commit or in between.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', d => {
          const last = String(d).trim().split('\n').at(-1) ?? ''
          if (Number(last.split(' ')[1]) >= ref.size / 3 || last === 'done') resolve()
        })
        child.on('exit', (code) => { reject(new Error(`fetcher exited (${code}) early: ${stderr}`)) })
      })
      child.kill('SIGKILL')
      await exited

      const store = await openStore(db)
      const record = await store.getSecret<FileRecord>(`file/${ref.root}`)
      expect(record?.complete).toBe(false)
      // Every chunk the state says is here is on disk and matches its leaf.
      const blob = await open(join(dir, `${ref.root}.blob`), 'r')
      const leaves = await open(join(dir, `${ref.root}.leaves`), 'r')
      let claimed = 0
      for (let i = 0; i < CHUNKS; i++) {
        if (((record?.have?.[i >> 3] ?? 0) & (1 << (i & 7))) === 0) continue
        claimed++
        const chunk = Buffer.alloc(CHUNK_STRIDE)
        const leaf = Buffer.alloc(32)
        await blob.read(chunk, 0, CHUNK_STRIDE, i * CHUNK_STRIDE)
        await leaves.read(leaf, 0, 32, i * 32)
        expect(leafHash(chunk).equals(leaf)).toBe(true)
      }
      await blob.close()
      await leaves.close()
      expect(claimed).toBeGreaterThan(0)
      expect(claimed).toBeLessThan(CHUNKS)

      const resumed = await startNode({ store, dir })
      try {
        await connectAll([sender, resumed])
        await resumed.files.fetch(ref, () => [sender.id])
        expect(resumed.files.metrics.fetchedBytes).toBe((CHUNKS - claimed) * CHUNK_STRIDE)
        const out = join(await tempDir(), 'out')
        await resumed.files.store.export(ref, out)
        expect(await digest(out)).toBe(await digest(source))
      } finally {
        await resumed.node.stop()
        await store.close()
      }
    } finally {
      await sender.node.stop()
    }
  })
})
