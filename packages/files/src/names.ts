import { lstat } from 'node:fs/promises'
import { join } from 'node:path'

/** Longest file name {@link safeFileName} returns, in UTF-8 bytes (most file systems allow 255). */
export const MAX_NAME_BYTES = 200
/** Longest extension kept whole when a name is shortened. */
const MAX_EXTENSION_BYTES = 32
// Control characters (C0, DEL, C1), bidirectional overrides (which make "photo\u202Egpj.exe"
// look like "photoexe.jpg"), path separators and what Windows forbids in names.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\<>:"|?*]/g
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/** The longest prefix of `s` within `max` UTF-8 bytes, never splitting a character. */
function truncateUtf8 (s: string, max: number): string {
  let out = ''
  let used = 0
  for (const ch of s) {
    const size = bytes(ch)
    if (used + size > max) break
    out += ch
    used += size
  }
  return out
}

/** `name` split before its last dot: ['report', '.pdf']; no extension for names without one. */
function splitExtension (name: string): [string, string] {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || bytes(name.slice(dot)) > MAX_EXTENSION_BYTES) return [name, '']
  return [name.slice(0, dot), name.slice(dot)]
}

/**
 * Turn a file name a peer sent into a safe single name in a folder: path separators, control
 * characters (NUL included) and characters Windows forbids become `_`; leading dots and spaces
 * (hidden files, `.`, `..`) and trailing dots and spaces go; device names get a `_` in front;
 * the result is at most 200 UTF-8 bytes, shortened before its extension; never empty (`file`).
 *
 * @example
 * ```ts
 * safeFileName('../../etc/passwd') // '_.._etc_passwd'
 * safeFileName('..')               // 'file'
 * ```
 */
export function safeFileName (name: string): string {
  let safe = String(name).normalize('NFC').replace(UNSAFE, '_')
  safe = safe.replace(/^[.\s]+/u, '').replace(/[.\s]+$/u, '')
  if (RESERVED.test(safe)) safe = `_${safe}`
  if (bytes(safe) > MAX_NAME_BYTES) {
    const [base, ext] = splitExtension(safe)
    safe = truncateUtf8(base, MAX_NAME_BYTES - bytes(ext)).replace(/[.\s]+$/u, '') + ext
  }
  return safe === '' ? 'file' : safe
}

/** Whether something (a file, a folder, a dangling link) has this path. */
export async function taken (path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (err: any) {
    if (err?.code === 'ENOENT') return false
    throw err
  }
}

/**
 * A free path for `name` in `dir`: `dir/name` after {@link safeFileName}, or
 * `name (1).ext`, `name (2).ext`, … when that is taken. Another writer may take the path
 * before it is used: save without overwriting, and ask again if that fails.
 */
export async function uniquePath (dir: string, name: string): Promise<string> {
  const safe = safeFileName(name)
  const first = join(dir, safe)
  if (!await taken(first)) return first
  const [base, ext] = splitExtension(safe)
  for (let k = 1; ; k++) {
    const suffix = ` (${k})`
    const candidate = join(dir, truncateUtf8(base, MAX_NAME_BYTES - bytes(ext) - bytes(suffix)) + suffix + ext)
    if (!await taken(candidate)) return candidate
  }
}
