// `npm run demo`: a small local network of real Kith nodes that chat, all through the `kith`
// CLI, each node its own process with its own home folder under .kith-demo/. Loopback only,
// mDNS off: nothing leaves this machine. Pass --keep to leave the nodes running afterwards.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'apps', 'cli', 'bin', 'kith.js')
const demo = join(root, '.kith-demo')
const keep = process.argv.includes('--keep')
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))
const say = (line) => console.log(`\x1b[1m${line}\x1b[0m`)

function kith (home, ...args) {
  return execFileSync(process.execPath, [bin, '--home', home, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}
const json = (home, ...args) => JSON.parse(kith(home, ...args, '--json'))
const show = (home, ...args) => { console.log(`$ kith --home ${relative(root, home)} ${args.join(' ')}`); console.log(kith(home, ...args).replace(/^/gm, '  ')) }

const nodes = {}
async function start (name, port = 0) {
  const home = join(demo, name)
  const child = spawn(process.execPath, [bin, '--home', home, 'start', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--no-mdns'], { stdio: 'ignore' })
  nodes[name] = { home, child }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try { return json(home, 'status') } catch { await sleep(100) }
  }
  throw new Error(`${name}'s node did not start`)
}
async function until (what, check) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) { if (check()) return; await sleep(100) }
  throw new Error(`timed out waiting for ${what}`)
}
const historyOf = (name, contact) => json(nodes[name].home, 'history', contact)
const mine = (name, contact) => historyOf(name, contact).filter(m => m.fromName === 'me')

try {
  rmSync(demo, { recursive: true, force: true })
  say('1. Three people each create an identity (kith init)')
  for (const name of ['alice', 'bob', 'carol']) console.log(`  ${name}: ${json(join(demo, name), 'init', '--name', name).peerId}`)

  say('\n2. Each runs a node (kith start): no server anywhere, just three processes on loopback')
  for (const name of ['alice', 'bob', 'carol']) {
    const status = await start(name)
    console.log(`  ${name} listens on ${status.addresses[0]}`)
  }

  say('\n3. Alice invites Bob and Carol; they accept (kith invite / kith accept)')
  for (const friend of ['bob', 'carol']) {
    const { code } = json(nodes.alice.home, 'invite')
    console.log(`  invite for ${friend}: ${code.slice(0, 48)}…`)
    json(nodes[friend].home, 'accept', code, '--name', 'alice')
  }
  await until('alice to meet both', () => json(nodes.alice.home, 'contacts').length === 2)
  show(nodes.alice.home, 'contacts')

  say('\n4. They chat (kith send)')
  kith(nodes.alice.home, 'send', 'bob', 'Hi Bob! No servers between us.')
  kith(nodes.bob.home, 'send', 'alice', 'Hi Alice! End-to-end encrypted: only you can read this.')
  kith(nodes.carol.home, 'send', 'alice', 'Carol here, hello!')
  await until('replies', () => historyOf('alice', 'bob').length === 2 && historyOf('alice', 'carol').length === 1)
  await until('delivery', () => mine('alice', 'bob').every(m => m.status === 'delivered'))
  show(nodes.alice.home, 'history', 'bob')

  say('\n5. Bob\'s node crashes (kill -9); Alice keeps writing; nothing is lost')
  const bobPort = Number(json(nodes.bob.home, 'status').addresses[0].split('/')[4])
  nodes.bob.child.kill('SIGKILL')
  await sleep(300)
  for (const text of ['Are you there?', 'I will wait: my outbox keeps these until you ack them.']) kith(nodes.alice.home, 'send', 'bob', text)
  show(nodes.alice.home, 'history', 'bob', '--limit', '2')
  await start('bob', bobPort)
  await until('bob to catch up', () => historyOf('bob', 'alice').length === 4)
  await until('delivery', () => mine('alice', 'bob').every(m => m.status === 'delivered'))
  console.log('  bob is back:')
  show(nodes.bob.home, 'history', 'alice')

  say('\nThat was Kith. Run your own node:')
  console.log('  npx kith init --name YOUR_NAME && npx kith start')
  console.log('  npx kith invite            # give the code to a friend')
  console.log('  npx kith chat FRIEND       # talk')
  if (keep) {
    console.log(`\nThe demo nodes keep running; try: npx kith --home ${relative(root, nodes.alice.home)} chat bob`)
    console.log(`Stop them with: for n in alice bob carol; do npx kith --home .kith-demo/$n stop; done`)
  }
} finally {
  if (!keep) {
    for (const { child } of Object.values(nodes)) if (child.exitCode == null) child.kill('SIGTERM')
    await sleep(500)
  }
}
