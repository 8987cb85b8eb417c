import { open, unlink } from 'node:fs/promises'
import { FileCorruptError } from '@kith/core'
import type { FileHandle } from 'node:fs/promises'

/** Fill `buf` from `fh` at `position` (positional reads), or throw FileCorruptError if the file ends first. */
export async function readFully (fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done)
    if (bytesRead === 0) throw new FileCorruptError('file data is truncated')
    done += bytesRead
  }
}

/** Write every byte of `pieces` to `fh` at `position` (positional writes, no copying). */
export async function writeFully (fh: FileHandle, pieces: Uint8Array[], position: number): Promise<void> {
  let rest = pieces.filter(p => p.length > 0)
  while (rest.length > 0) {
    let { bytesWritten } = await fh.writev(rest, position)
    position += bytesWritten
    // A short write: drop what was written and go on with the rest.
    while (bytesWritten > 0 && rest.length > 0) {
      const first = rest[0] as Uint8Array
      if (bytesWritten >= first.length) {
        bytesWritten -= first.length
        rest = rest.slice(1)
      } else {
        rest = [first.subarray(bytesWritten), ...rest.slice(1)]
        bytesWritten = 0
      }
    }
  }
}

/** Make a rename or a new file in `dir` durable (its directory entry). Best effort where directories can't be synced. */
export async function syncDir (dir: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(dir, 'r')
    await fh.sync()
  } catch {
    // Some platforms and file systems refuse to sync a directory; the data itself was synced.
  } finally {
    await fh?.close()
  }
}

/** Whether an error means the disk (or the user's quota) is full. */
export const isDiskFull = (err: any): boolean => err?.code === 'ENOSPC' || err?.code === 'EDQUOT'

export async function unlinkQuietly (path: string): Promise<void> {
  await unlink(path).catch(() => {})
}
