import { describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openStore } from '@kith/store'
import type { KithStore, MessageRecord } from '@kith/store'

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-writer.mjs')
const CONVERSATIONS = ['peer0', 'peer1', 'peer2']

/** Run the writer until it has confirmed some writes, then kill -9 it at a random moment. */
async function writeThenKill (path: string, round: number): Promise<string[]> {
  const child = spawn(process.execPath, [WRITER, path, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', d => { out += String(d) })
  child.stderr.on('data', d => { err += String(d) })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const deadline = Date.now() + 20_000
  while (out.split('\n').length < 50) {
    if (child.exitCode != null || Date.now() > deadline) throw new Error(`writer did not get going: ${err}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  await new Promise(resolve => setTimeout(resolve, Math.random() * 300))
  child.kill('SIGKILL')
  await exited
  // Only whole lines were confirmed; a torn last line was not.
  return out.split('\n').slice(0, -1)
}

/** A whole conversation, oldest first, read page by page. */
async function conversation (store: KithStore, c: string): Promise<MessageRecord[]> {
  const all: MessageRecord[] = []
  let before: number | undefined
  while (true) {
    const page = await store.history(c, { limit: 1000, ...(before != null ? { before } : {}) })
    all.unshift(...page)
    if (page.length < 1000) return all
    before = page[0]?.seq
  }
}

async function everything (store: KithStore): Promise<MessageRecord[]> {
  const all = []
  for (const c of CONVERSATIONS) all.push(...await conversation(store, c))
  return all
}

describe('kill -9 during writes (real LevelDB, separate process)', () => {
  it('loses no confirmed write, duplicates nothing, and keeps history, index and outbox consistent', async () => {
    const path = await mkdtemp(join(tmpdir(), 'kith-crash-'))
    try {
      const confirmed: string[] = []
      for (let round = 1; round <= 4; round++) {
        confirmed.push(...await writeThenKill(path, round))
        const store = await openStore(path)
        try {
          const records = await everything(store)
          const byId = new Map(records.map(r => [r.id, r]))
          expect(byId.size).toBe(records.length) // no id twice

          for (const line of confirmed) {
            const [kind, id = ''] = line.split(' ')
            const record = byId.get(id)
            expect(record, line).toBeDefined()
            if (kind === 'delivered') expect(record?.status).toBe('delivered')
            if (kind === 'in') expect(record?.status).toBe('received')
            expect((await store.getMessage(id))?.id).toBe(id)
          }

          // The outbox holds exactly the outgoing messages that are not delivered.
          const outbox = await store.pendingOutbox()
          const undelivered = records.filter(r => r.from === 'me' && r.status !== 'delivered').map(r => r.id).sort()
          expect(outbox.map(e => e.id).sort()).toEqual(undelivered)

          // Each conversation's positions only grow, and new writes continue after them.
          for (const c of CONVERSATIONS) {
            const seqs = (await conversation(store, c)).map(r => r.seq)
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
            expect(new Set(seqs).size).toBe(seqs.length)
            const { record } = await store.appendOutgoing({ id: ('cc' + round.toString(16).padStart(2, '0') + c.slice(-1)).padEnd(32, '0'), conversation: c, from: 'me', text: 'probe', ts: 0 }, new Uint8Array([0]))
            expect(record.seq).toBeGreaterThan(Math.max(0, ...seqs))
            await store.settle([{ id: record.id, peer: c, seq: record.seq }], 'delivered')
          }
        } finally {
          await store.close()
        }
      }
      expect(confirmed.length).toBeGreaterThan(200)
    } finally {
      await rm(path, { recursive: true, force: true })
    }
  })
})
