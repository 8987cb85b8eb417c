// What adding and removing a member costs in a Kith group of 10, 100 and 1000 devices: MLS
// state operations in one process (ts-mls, Kith credentials), no network. The committer's
// cost (createCommit) and one other member's (processing the commit) are timed separately.
//
//   node --import @kith/core/polyfill bench/group-ops.js [--sizes 10,100,1000] [--repeat 5]
import { parseArgs } from 'node:util'
import { generateDeviceKey, generateIdentityKey, issueDeviceCertificate } from '@kith/crypto'
import { KithGroup, deviceKeyPackage } from '@kith/groups'
import { summarize } from './lib.js'

const { values: flags } = parseArgs({ options: { sizes: { type: 'string', default: '10,100,1000' }, repeat: { type: 'string', default: '5' } } })
const sizes = flags.sizes.split(',').map(Number)
const repeat = Number(flags.repeat)

async function device () {
  const key = await generateDeviceKey()
  return await deviceKeyPackage(key, issueDeviceCertificate(await generateIdentityKey(), key.publicKey))
}

/** A group of `size` devices: the creator's state and one other member's. */
async function groupOf (size) {
  const creator = await device()
  const others = []
  for (let i = 1; i < size; i++) others.push(await device())
  const added = await (await KithGroup.create('bench', creator.publicPackage, creator.privatePackage)).add(others.map(o => o.publicPackage))
  const member = await KithGroup.join(added.welcome, others[0].publicPackage, others[0].privatePackage)
  return { admin: added.group, member }
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
console.log(`Kith group operations (MLS, in process): ${sizes.join(', ')} members, ${repeat} repeats each`)
const rows = []
for (const size of sizes) {
  const setupStart = process.hrtime.bigint()
  let { admin, member } = await groupOf(size)
  const setup = ms(setupStart)
  const times = { addCommit: [], addProcess: [], removeCommit: [], removeProcess: [] }
  for (let r = 0; r < repeat; r++) {
    const joiner = await device()
    let t0 = process.hrtime.bigint()
    const added = await admin.add([joiner.publicPackage])
    times.addCommit.push(ms(t0))
    t0 = process.hrtime.bigint()
    member = (await member.process(added.commit)).group
    times.addProcess.push(ms(t0))
    admin = added.group
    const last = admin.members().at(-1)
    t0 = process.hrtime.bigint()
    const removed = await admin.remove([last.device])
    times.removeCommit.push(ms(t0))
    t0 = process.hrtime.bigint()
    member = (await member.process(removed.commit)).group
    times.removeProcess.push(ms(t0))
    admin = removed.group
  }
  const p50 = (list) => summarize(list).p50
  rows.push({ size, setupMs: setup, addCommitMs: p50(times.addCommit), addProcessMs: p50(times.addProcess), removeCommitMs: p50(times.removeCommit), removeProcessMs: p50(times.removeProcess) })
  const row = rows.at(-1)
  console.log(`  ${String(size).padStart(5)} members: add ${row.addCommitMs.toFixed(1)} ms to commit, ${row.addProcessMs.toFixed(1)} ms to process; remove ${row.removeCommitMs.toFixed(1)} ms to commit, ${row.removeProcessMs.toFixed(1)} ms to process (p50; building the group took ${(setup / 1000).toFixed(1)} s)`)
}
