// `npm run fuzz`: the fuzz tests (test/fuzz) with 100,000 cases per property instead of the
// 200 CI runs. Arguments go to vitest: `npm run fuzz -- test/fuzz/core.test.ts` runs one area.
// KITH_FUZZ_RUNS overrides the count; KITH_FUZZ_SEED replays a failure fast-check reported.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const runs = process.env.KITH_FUZZ_RUNS ?? '100000'
console.log(`kith: fuzzing with ${runs} cases per property${args.length > 0 ? ` (${args.join(' ')})` : ''}`)
const result = spawnSync(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...(args.some(a => a.startsWith('test/fuzz')) ? [] : ['test/fuzz']), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, KITH_FUZZ_RUNS: runs }
})
process.exit(result.status ?? 1)
