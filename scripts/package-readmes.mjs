// Each package's README.md is its src/index.ts package comment: what it is and its example.
// `node scripts/package-readmes.mjs` writes them; `--check` fails when one is out of date, so
// a README can't drift from the code's own documentation.
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
let stale = 0

for (const dir of ['packages', 'apps'].flatMap(top => readdirSync(join(root, top)).map(name => join(top, name)))) {
  const index = join(root, dir, 'src', 'index.ts')
  if (!existsSync(index)) continue
  const { name, private: isPrivate } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
  const doc = readFileSync(index, 'utf8').match(/\/\*\*\s*\n\s*\* @packageDocumentation\s*\n([\s\S]*?)\*\//)
  if (doc == null) { console.error(`${dir}/src/index.ts has no @packageDocumentation comment`); stale++; continue }
  const body = doc[1].split('\n').map(line => line.replace(/^\s*\* ?/, '')).join('\n')
    .replace('@example\n', '## Example\n\n')
    .replace(/\{@link ([^}]+)\}/g, '`$1`')
    .trim()
  const readme = `<!-- Generated from src/index.ts by scripts/package-readmes.mjs: edit the package comment there. -->\n# ${name}\n\n${body}\n\n${isPrivate === true ? 'Private to this workspace. ' : ''}Part of [Kith](../../README.md), a messenger with no servers; see [docs/architecture.md](../../docs/architecture.md) for how the packages fit together.\n`
  const path = join(root, dir, 'README.md')
  const current = existsSync(path) ? readFileSync(path, 'utf8') : ''
  if (current === readme) continue
  if (check) { console.error(`${dir}/README.md is out of date: run node scripts/package-readmes.mjs`); stale++; continue }
  writeFileSync(path, readme)
  console.log(`wrote ${dir}/README.md`)
}
if (stale > 0) process.exit(1)
