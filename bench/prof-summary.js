// Summarize a V8 .cpuprofile (from `bench/dm.js --profile` or `node --cpu-prof`): where the
// time goes by package, the top functions by self time, and the inclusive (synchronous) time of
// the functions whose names match --focus.
//
//   node bench/prof-summary.js FILE.cpuprofile [--top 30] [--focus 'regex']
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '30' },
    focus: { type: 'string' }
  }
})
if (positionals.length === 0) {
  console.error('usage: node bench/prof-summary.js FILE.cpuprofile [--top N] [--focus REGEX]')
  process.exit(2)
}

for (const file of positionals) summarize(JSON.parse(await readFile(file, 'utf8')), file)

/** Which package a script URL belongs to. */
function packageOf (url) {
  if (url === '') return '(v8/native)'
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0]
  const kith = /\/packages\/([^/]+)\/dist\//.exec(url)
  if (kith != null) return `@kith/${kith[1]}`
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  if (url.includes('/bench/')) return 'bench'
  return url
}

function shortUrl (url) {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) return url.slice(nm + 14)
  const p = url.indexOf('/packages/')
  if (p >= 0) return url.slice(p + 1)
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/')
}

function summarize (profile, file) {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  // Self time per node from samples and their time deltas (µs).
  const self = new Map()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt)
    total += dt
  }
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0)
  const busy = total - idle

  const fnKey = (cf) => `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}`
  const isNative = (cf) => cf.url === '' && !/^\((garbage collector|program|idle|root)\)$/.test(cf.functionName)
  const byFn = new Map()
  const folded = new Map()
  const byPkg = new Map()
  const inclusive = new Map()
  const focus = flags.focus != null ? new RegExp(flags.focus) : null
  for (const [id, t] of self) {
    const cf = byId.get(id).callFrame
    if (cf.functionName === '(idle)') continue
    const key = fnKey(cf)
    byFn.set(key, (byFn.get(key) ?? 0) + t)
    // Native code (bindings, crypto, syscalls) shows up as nameless frames: charge it to the
    // nearest JavaScript caller instead.
    let owner = id
    while (isNative(byId.get(owner).callFrame) && parent.get(owner) != null && byId.get(parent.get(owner)).callFrame.functionName !== '(root)') owner = parent.get(owner)
    const ownerKey = owner === id ? key : `${fnKey(byId.get(owner).callFrame)}  [native]`
    folded.set(ownerKey, (folded.get(ownerKey) ?? 0) + t)
    const pkg = cf.url === '' && cf.functionName.startsWith('(') ? cf.functionName : packageOf(cf.url)
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + t)
    if (focus != null) {
      // Inclusive: count this sample once for every distinct matching function on its stack.
      const seen = new Set()
      for (let at = id; at != null; at = parent.get(at)) {
        const f = byId.get(at).callFrame
        const k = fnKey(f)
        if (!seen.has(k) && focus.test(k)) { seen.add(k); inclusive.set(k, (inclusive.get(k) ?? 0) + t) }
      }
    }
  }

  const pct = t => `${(100 * t / busy).toFixed(1).padStart(5)}%`
  const ms = t => `${(t / 1000).toFixed(0).padStart(6)} ms`
  console.log(`\n${file}`)
  console.log(`sampled ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (${(100 * busy / total).toFixed(0)}%); shares below are of busy time`)
  console.log('\nby package (self time):')
  for (const [k, t] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(t)} ${ms(t)}  ${k}`)
  console.log(`\ntop ${flags.top} functions (self time):`)
  for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) console.log(`  ${pct(t)} ${ms(t)}  ${k}`)
  console.log(`\ntop ${flags.top} functions (self time, native code charged to its JavaScript caller):`)
  for (const [k, t] of [...folded].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) console.log(`  ${pct(t)} ${ms(t)}  ${k}`)
  if (focus != null) {
    console.log(`\ninclusive time (synchronous stacks only) of functions matching ${focus}:`)
    for (const [k, t] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) console.log(`  ${pct(t)} ${ms(t)}  ${k}`)
  }
}
