import type { MessageView } from '@kith/api'
import { formatBytes } from './progress.js'
import { safeLines, safeText } from './safe-text.js'

/** Print a value as one line of JSON. */
export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

/**
 * `[12:03] alice: hello  ✓✓`. What the sender controls (its name, the text, a file name) is made
 * safe for the terminal; a text's further lines are indented, so none starts like a message.
 */
export function formatMessage (m: MessageView): string {
  const time = new Date(m.ts).toTimeString().slice(0, 5)
  const mark = m.fromName === 'me' ? `  ${safeText(STATUS_MARK[m.status] ?? m.status)}` : ''
  const content = m.file != null ? `[file] ${safeText(m.file.name)} (${formatBytes(m.file.size)}, ${safeText(m.file.state)})` : safeLines(m.text, CONTINUATION)
  return `[${time}] ${safeText(m.fromName)}: ${content}${mark}`
}

/** Where a message's second and later lines start: under the sender's name, never at the margin. */
const CONTINUATION = ' '.repeat('[12:03] '.length)

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
    ...(m.pending != null ? { pending: m.pending } : {}),
    ...(m.file != null ? { file: { name: m.file.name, size: m.file.size, hash: m.file.hash, state: m.file.state, type: m.file.type, received: m.file.received, ...(m.file.error != null ? { error: m.file.error } : {}) } } : {})
  }
}

/** `1 member`, `3 members`. */
export function plural (n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
