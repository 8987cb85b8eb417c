import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The home folder: `--home DIR`, else `$KITH_HOME`, else `~/.kith`. */
export function resolveHome (dir?: string): string {
  return resolve(dir ?? process.env.KITH_HOME ?? join(homedir(), '.kith'))
}
