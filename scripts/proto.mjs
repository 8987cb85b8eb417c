// Regenerate the TypeScript codecs of every .proto under packages/*/src/proto with protons.
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const protons = join(root, 'node_modules', '.bin', 'protons')
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'src', 'proto')
  let files = []
  try { files = readdirSync(dir).filter(f => f.endsWith('.proto')) } catch { continue }
  for (const file of files) {
    execFileSync(protons, [join(dir, file)], { stdio: 'inherit' })
    console.log(`generated ${join('packages', pkg, 'src', 'proto', file.replace(/\.proto$/, '.ts'))}`)
  }
}
