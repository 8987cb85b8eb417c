import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { MailboxStore } from '../src/index.js'
import { randomPeer } from './helpers.js'

const here = dirname(fileURLToPath(import.meta.url))
const WRITER = join(here, 'fixtures', 'crash-writer.mjs')
const TTL = 1500
const CYCLES = 6

type State = { state: 'present' | 'absent' | 'maybe', at: number, order: number }

/** Replay the writer's journal: what must be held, what must not, and in which order it was stored. */
function replay (journal: string): Map<string, State> {
  const keys = new Map<string, State>()
  const set = (key: string, state: State['state'], at?: number, order?: number): void => {
    const old = keys.get(key)
    keys.set(key, { state, at: at ?? old?.at ?? 0, order: order ?? old?.order ?? -1 })
  }
  const lines = journal.split('\n')
  for (const [n, line] of lines.entries()) {
    const [op, a, ...rest] = line.split(' ')
    if (op === undefined || a === undefined) continue
    const each = (fn: (key: string, s: State) => void): void => { for (const [key, s] of keys) if (key.startsWith(`${a}/`)) fn(key, s) }
    const older = (now: number, fn: (key: string, s: State) => void): void => { for (const [key, s] of keys) if (s.at <= now - TTL) fn(key, s) }
    switch (op) {
      case 'd': if (keys.get(`${a}/${rest[0]}`)?.state !== 'present') set(`${a}/${rest[0]}`, 'maybe'); break
      case 'S': set(`${a}/${rest[0]}`, 'present', Number(rest[1]), n); break
      case 'a': for (const id of rest) if (keys.get(`${a}/${id}`)?.state === 'present') set(`${a}/${id}`, 'maybe'); break
      case 'A': for (const id of rest) set(`${a}/${id}`, 'absent'); break
      case 'u': each((key, s) => { if (s.state === 'present') set(key, 'maybe') }); break
      case 'U': each((key) => { set(key, 'absent') }); break
      case 'x': older(Number(a), (key, s) => { if (s.state === 'present') set(key, 'maybe') }); break
      case 'X': older(Number(a), (key, s) => { if (s.state === 'present') set(key, 'absent') }); break
    }
  }
  return keys
}

/** Run the writer until it is ready, let it work for `ms`, then SIGKILL it. */
async function runAndKill (args: string[], ms: number): Promise<void> {
  const child = spawn(process.execPath, [WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += String(d) })
  const exited = new Promise<void>(resolve => child.on('exit', () => { resolve() }))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', d => { if (String(d).includes('ready')) resolve() })
    child.on('exit', (code) => { reject(new Error(`writer exited (${code}) before it was ready: ${stderr}`)) })
  })
  await new Promise(resolve => setTimeout(resolve, ms))
  child.kill('SIGKILL')
  await exited
  if (stderr !== '') throw new Error(`writer failed: ${stderr}`)
}

describe('crash safety (LevelDB, kill -9)', () => {
  it('loses nothing, duplicates nothing and keeps counters exact across repeated kill -9', async () => {
    if (!existsSync(join(here, '..', 'dist', 'index.js'))) throw new Error('build first: npx tsc -b packages/mailbox')
    const dir = await mkdtemp(join(tmpdir(), 'kith-mailbox-crash-'))
    try {
      const peers = [randomPeer(), randomPeer(), randomPeer()]
      const journal = join(dir, 'journal')
      const args = [join(dir, 'db'), journal, String(TTL), ...peers.map(p => `${p.id}:${Buffer.from(p.multihash).toString('hex')}`)]
      let checked = 0
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await runAndKill(args, 50 + Math.floor(Math.random() * 250))

        const store = new MailboxStore(new Level<string, any>(join(dir, 'db')), { ttlMs: TTL, perRecipient: { envelopes: 400 }, perDepositor: { envelopes: 600 } })
        await store.open()
        try {
          expect(await store.check()).toEqual([])
          const expected = replay(existsSync(journal) ? readFileSync(journal, 'utf8') : '')
          for (const [r, peer] of peers.entries()) {
            // now = 0: list everything held, expired or not.
            const held = (await store.fetch(peer.id, { limit: 1_000_000, now: 0 })).map(e => `${r}/${e.id}`)
            expect(new Set(held).size).toBe(held.length)
            for (const key of held) expect(expected.get(key)?.state, `held ${key}`).not.toBe('absent')
            for (const key of held) expect(expected.has(key), `held ${key} never deposited`).toBe(true)
            for (const [key, s] of expected) if (key.startsWith(`${r}/`) && s.state === 'present') { expect(held, `lost ${key}`).toContain(key); checked++ }
            // Deposit order: what the journal saw stored, in the order it was stored.
            const orders = held.map(key => expected.get(key)).filter(s => s?.state === 'present').map(s => s?.order as number)
            expect(orders).toEqual([...orders].sort((x, y) => x - y))
            expect(store.stats().byRecipient[peer.id]?.envelopes ?? 0).toBe(held.length)
          }
        } finally {
          await store.close()
        }
      }
      // The writer got real work done between kills.
      expect(checked).toBeGreaterThan(100)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
