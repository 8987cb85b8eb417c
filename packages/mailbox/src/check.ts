import { toHex } from '@kith/core'
import { decodeMail, indexKey, isLive, timeKey, timeOf } from './layout.js'
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
 * or the other way round, time keys without an entry, stored counters that differ from what is
 * held, sequence numbers above the stored counter. Reads the whole database.
 */
export async function checkMailbox (t: Tables): Promise<string[]> {
  const problems: string[] = []
  const index = new Map(await t.index.iterator().all())
  const times = new Set(await t.times.keys().all())
  const recipients = new Map(await t.recipients.iterator().all())
  const depositors = new Map(await t.depositors.iterator().all())
  const lastSeq = await t.meta.get('seq') ?? 0
  const byRecipient = new Map<string, Usage>()
  const byDepositor = new Map<string, Usage>()
  const held = new Set<string>()

  for await (const [key, value] of t.mail.iterator()) {
    const recipient = key.slice(0, key.indexOf('!'))
    const seq = parseInt(key.slice(recipient.length + 1), 16)
    const mail = decodeMail(value)
    const id = toHex(mail.id)
    const entry = index.get(indexKey(recipient, id))
    if (entry == null || !isLive(entry) || entry.s !== seq || entry.t !== mail.depositedAt || entry.n !== mail.envelope.length) {
      problems.push(`envelope ${key} does not match its index entry`)
      continue
    }
    if (held.has(indexKey(recipient, id))) problems.push(`envelope ${id} is held twice for ${recipient}`)
    held.add(indexKey(recipient, id))
    if (!recipients.has(recipient)) problems.push(`envelope ${key} is held for an unregistered recipient`)
    if (seq > lastSeq) problems.push(`envelope ${key} has a sequence number above the counter`)
    add(byRecipient, recipient, entry.n)
    add(byDepositor, entry.d, entry.n)
  }

  for (const [key, entry] of index) {
    const recipient = key.slice(0, key.indexOf('!'))
    const id = key.slice(recipient.length + 1)
    if (isLive(entry) && !held.has(key)) problems.push(`index entry ${key} has no envelope`)
    if (!times.delete(timeKey(timeOf(entry), recipient, id))) problems.push(`index entry ${key} has no time key`)
    if (entry.s > lastSeq) problems.push(`index entry ${key} has a sequence number above the counter`)
    if (!recipients.has(recipient)) problems.push(`index entry ${key} is kept for an unregistered recipient`)
  }
  for (const key of times) problems.push(`time key ${key} has no index entry`)

  for (const [peer, record] of recipients) {
    if (!same(record, byRecipient.get(peer))) problems.push(`recipient ${peer}: counters ${record.envelopes}/${record.bytes} differ from what is held`)
  }
  for (const peer of new Set([...depositors.keys(), ...byDepositor.keys()])) {
    if (!same(depositors.get(peer), byDepositor.get(peer))) problems.push(`depositor ${peer}: counters differ from what is held`)
  }
  return problems
}
