// Install everything and build: what `npm run demo`, `npm test` and `npm run bench` do first.
// A fresh machine needs only Node 20+ and npm: pnpm is fetched by npx at a pinned version
// (corepack is not used: its registry signature check fails on some machines).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, npm_config_update_notifier: 'false' } })

/** A command on PATH or in the sbin folders (which a non-login root PATH may lack). */
const findBin = (name) => [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']
  .filter(dir => dir !== '').map(dir => join(dir, name)).find(path => existsSync(path))

/**
 * The network-namespace tests (test/helpers/netns.ts) need iptables for their home routers' NAT.
 * When it is missing and we are root with apt-get, install Debian's package (refreshing the
 * package lists only if the first try fails). Never fails: without iptables those tests skip.
 */
export function ensureIptables () {
  if (process.platform !== 'linux' || findBin('iptables') != null) return
  const aptGet = findBin('apt-get')
  if (process.getuid?.() !== 0 || aptGet == null) return
  console.log('kith: installing iptables (apt-get install iptables) for the network-namespace tests…')
  const apt = (args) => spawnSync(aptGet, ['-o', 'DPkg::Lock::Timeout=120', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  })
  const install = () => apt(['install', '-y', '--no-install-recommends', 'iptables'])
  let result = install()
  if (result.status !== 0) {
    apt(['update'])
    result = install()
  }
  if (result.status !== 0 || findBin('iptables') == null) {
    const why = String(result.error ?? result.stderr ?? '').trim().split('\n').pop() || `apt-get exited ${result.status}`
    console.log(`kith: could not install iptables (${why}); the network-namespace tests will be skipped`)
  }
}

// Run as a script (not when imported, e.g. to try ensureIptables alone).
if (process.argv[1] != null && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  // Only for test runs: `npm run demo` or `bench` should not install system packages.
  if (process.env.npm_lifecycle_event === 'test' || process.env.CI != null) ensureIptables()
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : []
  console.log('kith: installing dependencies (pnpm 12.4.2)…')
  run('npx', ['-y', 'pnpm@12.4.2', 'install', ...frozen])
  console.log('kith: building…')
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-b'])
}
