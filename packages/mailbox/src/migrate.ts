import { toHex } from '@kith/core'
import { Counters } from './counters.js'
import { EMPTY, encodeMail, indexKey, mailKey, timeKey } from './layout.js'
import { isPeerIdString } from './recipient.js'
import type { LiveEntry, MailboxDb, Op, Tables } from './layout.js'

/** Envelopes moved per batch. */
const CHUNK = 256
const hex12 = (n: number): string => n.toString(16).padStart(12, '0')

/**
 * The first layout: root sublevels with peer ids in the clear, in keys (`<recipient>!<seq>`,
 * `<recipient>!<id hex>`, `<time>!<recipient>!<id hex>`, `<depositor>`) and values.
 */
function legacy (db: MailboxDb): { m: any, i: any, t: any, r: any, d: any, s: any } {
  return {
    m: db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' }),
    i: db.sublevel<string, { s: number, t: number, d: string, n: number }>('i', { valueEncoding: 'json' }),
    t: db.sublevel<string, string>('t', { valueEncoding: 'utf8' }),
    r: db.sublevel<string, { since: number }>('r', { valueEncoding: 'json' }),
    d: db.sublevel<string, unknown>('d', { valueEncoding: 'json' }),
    s: db.sublevel<string, unknown>('s', { valueEncoding: 'json' })
  }
}

/** Version 1 mail: 1, id (16), depositedAt (f64), envelope. */
function decodeLegacyMail (value: Uint8Array): { id: Uint8Array, depositedAt: number, envelope: Uint8Array } | undefined {
  if (value[0] !== 1 || value.length < 25) return undefined
  return { id: value.slice(1, 17), depositedAt: new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(17), envelope: value.slice(25) }
}

/**
 * Move a mailbox kept in the first layout (unsealed, peer ids in keys) into `t`, the sealed
 * one: every registration and every envelope still held, with its depositor (as a known one:
 * the first layout did not tell strangers apart), outside the quotas. Each chunk of envelopes
 * leaves the old layout and enters the new one in one batch, so a crash part way resumes
 * where it stopped, losing and duplicating nothing. Acknowledged ids are not kept (the
 * recipient drops a late copy by its id). Then the old layout is cleared and, on LevelDB,
 * compacted, so its data files no longer hold the peer ids. Returns whether there was anything to move.
 */
export async function migrateLegacy (db: MailboxDb, t: Tables): Promise<boolean> {
  const old = legacy(db)
  const sublevels = [old.i, old.t, old.d, old.s, old.m, old.r]
  const found = await Promise.all(sublevels.map(async (sub) => (await sub.keys({ limit: 1 }).all()).length > 0))
  if (!found.includes(true)) return false
  const counters = new Counters()
  await counters.load(t)
  let seq = await t.meta.get('seq') ?? 0
  for (const [peer, record] of await old.r.iterator().all() as Array<[string, { since: number }]>) {
    if (!isPeerIdString(peer)) continue
    const r = t.tags.recipient(peer)
    while (true) {
      const change = counters.change()
      if (change.recipient(r) == null) change.register(r, peer, record.since)
      const mail = await old.m.iterator({ gt: `${peer}!`, lt: `${peer}!~`, limit: CHUNK }).all() as Array<[string, Uint8Array]>
      const ops: Op[] = []
      const decoded = mail.map(([, value]) => decodeLegacyMail(value))
      const entries = await old.i.getMany(decoded.map(m => m == null ? `${peer}!` : `${peer}!${toHex(m.id)}`))
      for (const [k, [key]] of mail.entries()) {
        ops.push({ type: 'del', sublevel: old.m, key } as unknown as Op)
        const m = decoded[k]
        const entry = entries[k]
        if (m == null || entry == null) continue
        const hexId = toHex(m.id)
        ops.push({ type: 'del', sublevel: old.i, key: `${peer}!${hexId}` } as unknown as Op, { type: 'del', sublevel: old.t, key: `${hex12(entry.t)}!${peer}!${hexId}` } as unknown as Op)
        const i = t.tags.envelope(hexId)
        const live: LiveEntry = { s: ++seq, t: m.depositedAt, d: t.tags.depositor(entry.d, false), n: m.envelope.length }
        ops.push(t.mail.put(mailKey(r, seq), encodeMail(m.id, m.depositedAt, m.envelope)), t.index.put(indexKey(r, i), live), t.times.put(timeKey(live.t, r, i), EMPTY))
        change.count(r, live, 1)
      }
      await db.batch([...ops, ...change.ops(t), t.meta.put('seq', seq)])
      change.apply()
      if (mail.length < CHUNK) break
    }
  }
  for (const sub of sublevels) await sub.clear()
  // LevelDB keeps what was deleted in its files until they are compacted.
  const compact = (db as { compactRange?: (start: string, end: string) => Promise<void> }).compactRange
  if (typeof compact === 'function') await compact.call(db, '!', '~')
  return true
}
