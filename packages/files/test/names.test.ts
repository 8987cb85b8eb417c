import { mkdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { MAX_NAME_BYTES, safeFileName, uniquePath } from '../src/index.js'
import { cleanup, tempDir } from './helpers.js'

afterAll(cleanup)

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/** What every safe name must be. */
function assertSafe (name: string): void {
  expect(name.length).toBeGreaterThan(0)
  expect(name).not.toMatch(/[/\\\u0000-\u001f\u007f]/)
  expect(name).not.toMatch(/^[.\s]/)
  expect(name === '.' || name === '..').toBe(false)
  expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES)
  // Joined to a folder it names an entry of that folder, nothing else.
  expect(dirname(join('/base/dir', name))).toBe('/base/dir')
  expect(basename(join('/base/dir', name))).toBe(name)
}

describe('safeFileName', () => {
  it('keeps names inside the folder', () => {
    expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd')
    expect(safeFileName('/abs/x')).toBe('_abs_x')
    expect(safeFileName('a\\b')).toBe('a_b')
    expect(safeFileName('..')).toBe('file')
    expect(safeFileName('.')).toBe('file')
    expect(safeFileName('')).toBe('file')
    expect(safeFileName('....')).toBe('file')
    expect(safeFileName('.bashrc')).toBe('bashrc')
    expect(safeFileName('a\u0000b.txt')).toBe('a_b.txt')
    expect(safeFileName('photo\u202Egpj.exe')).toBe('photo_gpj.exe')
    expect(safeFileName('  report.pdf ')).toBe('report.pdf')
    expect(safeFileName('CON')).toBe('_CON')
    expect(safeFileName('holiday photo.jpg')).toBe('holiday photo.jpg')
    for (const name of ['../../etc/passwd', '/abs/x', 'a\\b', '..', '.', '', '\u0000', 'x\ny', '....', '. .']) assertSafe(safeFileName(name))
  })

  it('shortens long names to 200 UTF-8 bytes, keeping the extension and whole characters', () => {
    const long = safeFileName('a'.repeat(500) + '.tar.gz')
    expect(bytes(long)).toBe(MAX_NAME_BYTES)
    expect(long.endsWith('.gz')).toBe(true)
    const emoji = safeFileName('😀'.repeat(100) + '.png')
    expect(bytes(emoji)).toBeLessThanOrEqual(MAX_NAME_BYTES)
    expect(emoji.endsWith('.png')).toBe(true)
    expect(emoji).not.toContain('\uFFFD')
    expect(emoji.replace('.png', '')).toMatch(/^(😀)+$/u)
  })

  it('is safe for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (name) => { assertSafe(safeFileName(name)) }), { numRuns: 500 })
  })
})

describe('uniquePath', () => {
  it('numbers names that are taken, and stays in the folder', async () => {
    const dir = await tempDir()
    expect(await uniquePath(dir, 'a.txt')).toBe(join(dir, 'a.txt'))
    await writeFile(join(dir, 'a.txt'), '')
    expect(await uniquePath(dir, 'a.txt')).toBe(join(dir, 'a (1).txt'))
    await writeFile(join(dir, 'a (1).txt'), '')
    await mkdir(join(dir, 'a (2).txt'))
    expect(await uniquePath(dir, 'a.txt')).toBe(join(dir, 'a (3).txt'))
    expect(await uniquePath(dir, '../../etc/passwd')).toBe(join(dir, '_.._etc_passwd'))
    await writeFile(join(dir, 'file'), '')
    expect(await uniquePath(dir, '..')).toBe(join(dir, 'file (1)'))
    const long = 'b'.repeat(300) + '.txt'
    await writeFile(await uniquePath(dir, long), '')
    const second = await uniquePath(dir, long)
    expect(dirname(second)).toBe(dir)
    expect(basename(second).endsWith(' (1).txt')).toBe(true)
    expect(bytes(basename(second))).toBeLessThanOrEqual(MAX_NAME_BYTES)
  })
})
