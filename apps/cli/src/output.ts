import type { MessageView } from '@kith/api'

/** Print a value as one line of JSON. */
export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

/** `[12:03] alice: hello  ✓✓` */
export function formatMessage (m: MessageView): string {
  const time = new Date(m.ts).toTimeString().slice(0, 5)
  const mark = m.fromName === 'me' ? `  ${STATUS_MARK[m.status] ?? m.status}` : ''
  return `[${time}] ${m.fromName}: ${m.text}${mark}`
}

const STATUS_MARK: Record<string, string> = {
  queued: '(queued)',
  sent: '✓',
  stored: '(held at a mailbox)',
  delivered: '✓✓',
  refused: '(refused by recipient)'
}

/** A message as `kith history --json` shows it: the contract fields first, extras after. */
export function historyItem (m: MessageView): Record<string, unknown> {
  return {
    id: m.id,
    from: m.from,
    text: m.text,
    ts: m.ts,
    status: m.status,
    fromName: m.fromName,
    seq: m.seq,
    ...(m.mailboxes != null ? { mailboxes: m.mailboxes } : {}),
    ...(m.pending != null ? { pending: m.pending } : {})
  }
}

/** `1 member`, `3 members`. */
export function plural (n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
