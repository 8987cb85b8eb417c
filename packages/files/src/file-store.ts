import { randomBytes } from 'node:crypto'
import { link, mkdir, open, rename } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { FileExistsError, FileUnavailableError, InvalidMessageError, UnknownFileError } from '@kith/core'
import { blobOffset, chunkCount, countBits, openChunk, sealedLength, verifiedBytes } from './format.js'
import { readFully, syncDir, unlinkQuietly } from './io.js'
import { taken } from './names.js'
import type { FileRef, FileRecord, FileState, ProgressOptions } from './types.js'
import type { KithStore } from '@kith/store'
import type { FileHandle } from 'node:fs/promises'

const ROOT = /^[0-9a-f]{64}$/

/** Check a root is 32 bytes of lower-case hex: it names files on disk. */
export function checkRoot (root: string): void {
  if (typeof root !== 'string' || !ROOT.test(root)) throw new InvalidMessageError('a file root is 64 lower-case hex characters')
}

const stateName = (root: string): string => `file/${root}`

/** What {@link FileStore.export} takes. */
export interface ExportOptions extends ProgressOptions {
  /** Replace `dest` if it exists (default: refuse with FileExistsError). */
  overwrite?: boolean
}

/**
 * The files of one node: ciphertext blobs and leaf hashes in a folder (`<root>.blob`,
 * `<root>.leaves`), and each file's state (key, size, which chunks are verified) in the node's
 * encrypted {@link KithStore} as `file/<root>`. The folder never holds plaintext.
 */
export class FileStore {
  readonly dir: string
  readonly store: KithStore
  private made: Promise<void> | undefined

  constructor (init: { dir: string, store: KithStore }) {
    this.dir = init.dir
    this.store = init.store
  }

  /** Create the folder (once). */
  async ready (): Promise<void> {
    this.made ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => {})
    await this.made
  }

  /** Path of a file's ciphertext. */
  blobPath (root: string): string {
    checkRoot(root)
    return join(this.dir, `${root}.blob`)
  }

  /** Path of a file's leaf hashes. */
  leavesPath (root: string): string {
    checkRoot(root)
    return join(this.dir, `${root}.leaves`)
  }

  /** A temporary path in the folder, for writing a file before it is renamed into place. */
  tempPath (what: string): string {
    return join(this.dir, `.${randomBytes(8).toString('hex')}.${what}.tmp`)
  }

  /** The stored state of a file (key included), or undefined. */
  async record (root: string): Promise<FileRecord | undefined> {
    checkRoot(root)
    return await this.store.getSecret<FileRecord>(stateName(root))
  }

  /** Write a file's state in one batch. */
  async save (record: FileRecord): Promise<void> {
    checkRoot(record.root)
    const { have, ...rest } = record
    await this.store.commit([this.store.putSecret(stateName(record.root), record.complete || have === undefined ? rest : { ...rest, have })])
  }

  /** A file's progress, without its key. */
  async get (root: string): Promise<FileState | undefined> {
    const record = await this.record(root)
    return record === undefined ? undefined : stateOf(record)
  }

  /** Every file this node knows, with progress. */
  async list (): Promise<FileState[]> {
    const entries = await this.store.listSecrets<FileRecord>('file/')
    return entries.map(([, record]) => stateOf(record))
  }

  /**
   * Remember a file we were sent (not yet fetched): state partial, nothing held. Idempotent: a
   * file already known keeps its state.
   *
   * @throws {InvalidMessageError} when the ref is malformed or disagrees with what is known
   */
  async expect (ref: FileRef): Promise<void> {
    checkRef(ref)
    const known = await this.record(ref.root)
    if (known !== undefined) {
      if (known.size !== ref.size) throw new InvalidMessageError('file size disagrees with the file already known by that root')
      return
    }
    await this.save({ root: ref.root, size: ref.size, key: new Uint8Array(ref.key), complete: false, leaves: false })
  }

  /** Forget a file: its state, then its blob and leaves. */
  async delete (root: string): Promise<void> {
    checkRoot(root)
    await this.store.commit([this.store.delSecret(stateName(root))])
    await unlinkQuietly(this.blobPath(root))
    await unlinkQuietly(this.leavesPath(root))
  }

  /**
   * Decrypt a complete file to `dest`: written to a temporary file beside it, synced, then
   * renamed into place, so `dest` is either absent or whole. Each chunk's GCM tag is checked.
   *
   * @throws {UnknownFileError} when the file is not known
   * @throws {FileUnavailableError} when it is not complete here
   * @throws {FileExistsError} when `dest` exists and `overwrite` is not set
   * @throws {FileCorruptError} when a chunk fails authentication
   */
  async export (ref: FileRef, dest: string, opts: ExportOptions = {}): Promise<void> {
    checkRef(ref)
    const record = await this.record(ref.root)
    if (record === undefined) throw new UnknownFileError(`no file ${ref.root.slice(0, 12)}…`)
    if (!record.complete) throw new FileUnavailableError('the file is not downloaded yet')
    if (opts.overwrite !== true && await taken(dest)) throw new FileExistsError(`${basename(dest)} exists`)
    const n = chunkCount(record.size)
    const temp = join(dirname(dest), `.${basename(dest).slice(0, 100)}.${randomBytes(6).toString('hex')}.part`)
    let blob: FileHandle | undefined
    let out: FileHandle | undefined
    try {
      blob = await open(this.blobPath(ref.root), 'r')
      out = await open(temp, 'wx')
      let done = 0
      // One buffer each way for the whole file: chunks are opened one after another.
      const buffer = Buffer.allocUnsafe(sealedLength(0, record.size))
      const output = Buffer.allocUnsafe(buffer.length)
      for (let i = 0; i < n; i++) {
        opts.signal?.throwIfAborted()
        const sealed = buffer.subarray(0, sealedLength(i, record.size))
        await readFully(blob, sealed, blobOffset(i))
        const plain = openChunk(ref.key, i, n, sealed, output)
        await out.write(plain)
        done += plain.length
        opts.onProgress?.(done, record.size)
      }
      if (n === 0) opts.onProgress?.(0, 0)
      await out.sync()
      await out.close()
      out = undefined
      if (opts.overwrite === true) {
        await rename(temp, dest)
      } else {
        // link() never replaces: a file that appeared meanwhile is not clobbered.
        await link(temp, dest).catch((err: any) => {
          throw err?.code === 'EEXIST' ? new FileExistsError(`${basename(dest)} exists`) : err
        })
        await unlinkQuietly(temp)
      }
      await syncDir(dirname(dest))
    } finally {
      await out?.close()
      await blob?.close()
      await unlinkQuietly(temp)
    }
  }
}

function stateOf (record: FileRecord): FileState {
  const chunks = chunkCount(record.size)
  return {
    root: record.root,
    size: record.size,
    complete: record.complete,
    verifiedBytes: verifiedBytes(record.have, record.size, record.complete),
    chunks,
    haveChunks: record.complete ? chunks : record.have === undefined ? 0 : countBits(record.have, chunks)
  }
}

/** @throws {InvalidMessageError} */
export function checkRef (ref: FileRef): void {
  checkRoot(ref.root)
  if (!(ref.key instanceof Uint8Array) || ref.key.length !== 32) throw new InvalidMessageError('a file key is 32 bytes')
  try {
    chunkCount(ref.size)
  } catch (err) {
    throw new InvalidMessageError('bad file size', { cause: err })
  }
}
