import { describe, it, expect } from 'vitest'
import { generateDeviceKey } from '@kith/crypto'
import { createKithNode } from '@kith/node'
import { memoryStore } from '@kith/store'

describe('smoke', () => {
  it('two nodes chat over memory', async () => {
    const a = await createKithNode({ privateKey: await generateDeviceKey(), name: 'alice', store: await memoryStore(), transport: 'memory' })
    const b = await createKithNode({ privateKey: await generateDeviceKey(), name: 'bob', store: await memoryStore(), transport: 'memory' })
    const code = await a.createInvite()
    const contactAdded = new Promise(resolve => a.addEventListener('contact', e => resolve(e.detail), { once: true }))
    await b.acceptInvite(code, 'alice')
    console.log(await contactAdded)
    const got = new Promise<any>(resolve => a.addEventListener('message', e => resolve(e.detail), { once: true }))
    const sent = await b.send('alice', 'hello')
    console.log(sent)
    console.log(await got)
    await new Promise(r => setTimeout(r, 200))
    console.log(await b.history('alice'), a.status())
    await a.stop(); await b.stop()
  })
})
