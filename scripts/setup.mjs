// Install everything and build: what `npm run demo`, `npm test` and `npm run bench` do first.
// A fresh machine needs only Node 20+ and npm: pnpm is fetched by npx at a pinned version
// (corepack is not used: its registry signature check fails on some machines).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } })
const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : []

console.log('kith: installing dependencies (pnpm 12.4.2)…')
run('npx', ['-y', 'pnpm@12.4.2', 'install', ...frozen])
console.log('kith: building…')
run(join(root, 'node_modules', '.bin', 'tsc'), ['-b'])
