import { createInterface, clearLine, cursorTo } from 'node:readline'
import { formatMessage } from './output.js'
import type { KithClient } from '@kith/api'

/**
 * `kith chat CONTACT`: the latest history on top, live messages as they arrive, a prompt at
 * the bottom. Ctrl-D or /quit leaves.
 */
export async function runChat (client: KithClient, contact: string): Promise<void> {
  const history = await client.history(contact, { limit: 20 })
  const peer = (await client.contacts()).find(c => c.name === contact || c.peerId === contact)
  const name = peer?.name ?? contact
  process.stdout.write(`chat with ${name}${peer?.online === true ? ' (online)' : ''} — type a message and press Enter; /quit to leave\n`)
  for (const m of history) process.stdout.write(formatMessage(m) + '\n')

  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: `${name}> ` })
  const above = (line: string): void => {
    clearLine(process.stdout, 0)
    cursorTo(process.stdout, 0)
    process.stdout.write(line + '\n')
    rl.prompt(true)
  }

  const unsubscribe = await client.events(event => {
    if (event.type === 'message' && event.message.contact === name) above(formatMessage(event.message))
    if (event.type === 'status' && event.message.contact === name && event.message.status === 'delivered') above(`  ✓✓ delivered: ${event.message.text.slice(0, 40)}`)
  }, () => { above('the node stopped'); rl.close() })

  rl.prompt()
  for await (const line of rl) {
    const text = line.trim()
    if (text === '/quit') break
    if (text.length > 0) {
      try {
        await client.send(contact, text)
      } catch (err: any) {
        above(`could not send: ${err.message}`)
      }
    }
    rl.prompt()
  }
  unsubscribe()
  rl.close()
}
