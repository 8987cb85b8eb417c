// The second process of bench/groups.js: hosts its share of the group's members.
import '@kith/core/polyfill'
import { cpuSince, serveParent } from './lib.js'
import { Members } from './group-members.js'

if (process.send == null) {
  console.error('bench/groups-peer.js is started by bench/groups.js')
  process.exit(2)
}

const members = new Members()
let cpuMark = process.cpuUsage()
let stopping

const commands = {
  async start ({ count, firstIndex }) {
    await members.start(count, firstIndex)
    return { members: members.describe() }
  },
  async join ({ welcome, topicSecret }) {
    await members.join(Buffer.from(welcome, 'base64'), Buffer.from(topicSecret, 'base64'))
    return {}
  },
  async connect ({ targets }) {
    await members.connect(targets)
    return {}
  },
  async topicPeers () {
    return { peers: members.topicPeers() }
  },
  /** Start stamping these sides' arrivals, and the CPU clock. */
  async phase ({ sides }) {
    members.stamping = new Set(sides)
    for (const side of sides) members.stamps[side] = new Map()
    cpuMark = process.cpuUsage()
    return {}
  },
  async results ({ sides }) {
    return { stamps: Object.fromEntries(sides.map(side => [side, Object.fromEntries(members.stamps[side])])), cpuMicros: cpuSince(cpuMark), metrics: members.list.map(m => m.channel.metrics) }
  },
  async stop () {
    await shutdown()
    return {}
  }
}

async function shutdown () {
  stopping ??= members.stop()
  await stopping
}

serveParent(commands, shutdown)
