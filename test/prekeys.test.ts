import { describe, expect, it } from 'vitest'
import { PREKEYS_PROTOCOL, PreKeyBundle, decodeInvite } from '@kith/core'
import { lpStream } from '@libp2p/utils'
import { befriend, trackNodes } from './helpers/testnet.js'
import type { KithNode } from '@kith/node'

const startNode = trackNodes()

/** Ask `from`'s contact `to` for a prekey bundle over /kith/prekeys, as a session opening does. */
async function fetchBundle (from: KithNode, to: KithNode): Promise<number> {
  const signal = AbortSignal.timeout(20_000)
  const stream = await from.libp2p.dialProtocol(to.peerId, PREKEYS_PROTOCOL, { signal })
  const bytes = await lpStream(stream, { maxDataLength: 4096 }).read({ signal })
  await stream.close()
  return PreKeyBundle.decode(bytes.subarray()).oneTimePrekeyId
}

describe('/kith/prekeys: bundles fetched concurrently', () => {
  it('contacts fetching at once, while an invite is made, never get the same one-time prekey', async () => {
    const alice = await startNode('alice')
    const contacts = await Promise.all(['bob', 'carol', 'dave'].map(async name => await startNode(name)))
    for (const contact of contacts) await befriend(alice, contact)

    const ids: number[] = []
    // Four at a time per contact (the protocol's stream limit), from three contacts, five rounds: 60 fetches and 5 invites.
    for (let round = 0; round < 5; round++) {
      const fetches = contacts.flatMap(contact => Array.from({ length: 4 }, async () => await fetchBundle(contact, alice)))
      const invite = alice.createInvite().then(code => PreKeyBundle.decode(decodeInvite(code).bundle).oneTimePrekeyId)
      ids.push(...await Promise.all([...fetches, invite]))
    }
    expect(ids).toHaveLength(65)
    expect(ids.filter(id => id === 0)).toEqual([])
    expect(new Set(ids).size).toBe(65)
  })
})
