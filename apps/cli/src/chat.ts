import { createInterface, clearLine, cursorTo } from 'node:readline'
import { formatMessage, plural } from './output.js'
import { safeText } from './safe-text.js'
import type { KithClient } from '@kith/api'

/**
 * `kith chat CONTACT` (or GROUP): the latest history on top, live messages as they arrive, a
 * prompt at the bottom. Ctrl-D or /quit leaves.
 */
export async function runChat (client: KithClient, contact: string): Promise<void> {
  const history = await client.history(contact, { limit: 20 })
  const peer = (await client.contacts()).find(c => c.name === contact || c.peerId === contact)
  const group = peer == null ? (await client.groups()).find(g => g.group === contact || g.name === contact) : undefined
  // Events name the conversation by the contact's alias or the group's name.
  const name = peer?.name ?? group?.name ?? contact
  // The contact chose its name, an admin the group's: shown (and in the prompt) made safe.
  const shown = safeText(name)
  const about = peer?.online === true ? ' (online)' : group != null ? ` (group, ${plural(group.members, 'member')})` : ''
  process.stdout.write(`chat with ${shown}${about} — type a message and press Enter; /quit to leave\n`)
  for (const m of history) process.stdout.write(formatMessage(m) + '\n')
  // What is on screen is read, here and on our other devices.
  const markRead = (): void => { void client.markRead(contact).catch(() => {}) }
  markRead()

  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${shown}> ` })
  // Take lines from now on: piped input can arrive (and end) while we subscribe below.
  const lines = rl[Symbol.asyncIterator]()
  const above = (line: string): void => {
    // Over the prompt on a terminal; piped output gets no escape sequences at all.
    if (process.stdout.isTTY === true) {
      clearLine(process.stdout, 0)
      cursorTo(process.stdout, 0)
    }
    process.stdout.write(line + '\n')
    rl.prompt(true)
  }

  const unsubscribe = await client.events(event => {
    if (event.type === 'message' && event.message.contact === name) { above(formatMessage(event.message)); markRead() }
    if (event.type === 'status' && event.message.contact === name && event.message.status === 'delivered') above(`  ✓✓ delivered: ${safeText(Array.from(event.message.text).slice(0, 40).join(''))}`)
  }, () => { above('the node stopped'); rl.close() })

  rl.prompt()
  for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
    const text = next.value.trim()
    if (text === '/quit') break
    if (text.length > 0) {
      try {
        await client.send(contact, text)
      } catch (err: any) {
        above(`could not send: ${safeText(String(err?.message ?? err))}`)
      }
    }
    rl.prompt()
  }
  unsubscribe()
  rl.close()
}
