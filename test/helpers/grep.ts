import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Every file under `dir` (recursively) that contains any of `needles`, as "file: needle". */
export async function filesContaining (dir: string, needles: string[]): Promise<string[]> {
  const hits: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const bytes = await readFile(path)
    for (const needle of needles) {
      if (bytes.includes(Buffer.from(needle))) hits.push(`${path}: ${needle}`)
    }
  }
  return hits
}
