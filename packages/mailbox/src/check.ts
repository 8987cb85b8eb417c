import { toHex } from '@kith/core'
import { decodeMail, indexKey, isLive, pairKey, timeKey, timeOf } from './layout.js'
import type { Tables, Usage } from './layout.js'

function add (sums: Map<string, Usage>, key: string, bytes: number): void {
  const usage = sums.get(key) ?? { envelopes: 0, bytes: 0 }
  usage.envelopes++
  usage.bytes += bytes
  sums.set(key, usage)
}

const same = (a: Usage | undefined, b: Usage | undefined): boolean =>
  (a?.envelopes ?? 0) === (b?.envelopes ?? 0) && (a?.bytes ?? 0) === (b?.bytes ?? 0)

/**
 * Everything that does not add up in a mailbox database: envelopes without their index entry
 * or the other way round, time keys without an entry, stored counters (per recipient, its
 * strangers' part, per depositor, per depositor and recipient) that differ from what is held,
 * sequence numbers above the stored counter, values that do not open. Reads the whole database.
 */
export async function checkMailbox (t: Tables): Promise<string[]> {
  const problems: string[] = []
  const index = new Map(await t.index.entries())
  const times = new Set(await t.times.keys())
  const recipients = new Map(await t.recipients.entries())
  const depositors = new Map(await t.depositors.entries())
  const pairs = new Map(await t.pairs.entries())
  const lastSeq = await t.meta.get('seq') ?? 0
  const byRecipient = new Map<string, Usage>()
  const byStrangers = new Map<string, Usage>()
  const byDepositor = new Map<string, Usage>()
  const byPair = new Map<string, Usage>()
  const held = new Set<string>()

  for (const [r, record] of recipients) {
    if (t.tags.recipient(record.p) !== r) problems.push(`recipient ${r} is not stored under its peer id's tag`)
  }
  for await (const [key, value] of t.mail.iterate()) {
    const r = key.slice(0, key.indexOf('!'))
    const seq = parseInt(key.slice(r.length + 1), 16)
    const mail = decodeMail(value)
    const i = t.tags.envelope(toHex(mail.id))
    const entry = index.get(indexKey(r, i))
    if (entry == null || !isLive(entry) || entry.s !== seq || entry.t !== mail.depositedAt || entry.n !== mail.envelope.length) {
      problems.push(`envelope ${key} does not match its index entry`)
      continue
    }
    if (held.has(indexKey(r, i))) problems.push(`envelope ${i} is held twice for ${r}`)
    held.add(indexKey(r, i))
    if (!recipients.has(r)) problems.push(`envelope ${key} is held for an unregistered recipient`)
    if (seq > lastSeq) problems.push(`envelope ${key} has a sequence number above the counter`)
    add(byRecipient, r, entry.n)
    if (entry.x === 1) add(byStrangers, r, entry.n)
    add(byDepositor, entry.d, entry.n)
    add(byPair, pairKey(r, entry.d), entry.n)
  }

  for (const [key, entry] of index) {
    const r = key.slice(0, key.indexOf('!'))
    const i = key.slice(r.length + 1)
    if (isLive(entry) && !held.has(key)) problems.push(`index entry ${key} has no envelope`)
    if (!times.delete(timeKey(timeOf(entry), r, i))) problems.push(`index entry ${key} has no time key`)
    if (entry.s > lastSeq) problems.push(`index entry ${key} has a sequence number above the counter`)
    if (!recipients.has(r)) problems.push(`index entry ${key} is kept for an unregistered recipient`)
  }
  for (const key of times) problems.push(`time key ${key} has no index entry`)

  for (const [r, record] of recipients) {
    if (!same(record, byRecipient.get(r))) problems.push(`recipient ${r}: counters ${record.envelopes}/${record.bytes} differ from what is held`)
    if (!same(record.x, byStrangers.get(r))) problems.push(`recipient ${r}: strangers' counters differ from what is held`)
  }
  for (const d of new Set([...depositors.keys(), ...byDepositor.keys()])) {
    if (!same(depositors.get(d), byDepositor.get(d))) problems.push(`depositor ${d}: counters differ from what is held`)
  }
  for (const key of new Set([...pairs.keys(), ...byPair.keys()])) {
    if (!same(pairs.get(key), byPair.get(key))) problems.push(`depositor and recipient ${key}: counters differ from what is held`)
  }
  return problems
}
