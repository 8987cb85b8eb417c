/** Records and shortcuts shared by the store compliance suite. */
import { random, toHex } from '@kith/core'
import type { ContactRecord, KithStore, MessageRecord, OutboxEntry } from '@kith/store'

export interface StoreHarness {
  store: KithStore
  reopen?: () => Promise<KithStore>
  cleanup: () => Promise<void>
}

export const ME = '12D3KooWMe000000000000000000000000000000000000000'
export const ALICE = '12D3KooWAlice0000000000000000000000000000000000000'
export const BOB = '12D3KooWBob00000000000000000000000000000000000000'

export function newId (): string { return toHex(random(16)) }

export function envelopeFor (text: string): Uint8Array {
  return new TextEncoder().encode(`envelope:${text}`)
}

export function outgoing (conversation: string, text: string): Omit<MessageRecord, 'seq' | 'status'> {
  return { id: newId(), conversation, from: ME, text, ts: Date.now() }
}

export function incoming (conversation: string, text: string, id = newId()): Omit<MessageRecord, 'seq' | 'status'> {
  return { id, conversation, from: conversation, text, ts: Date.now() }
}

export async function send (store: KithStore, conversation: string, text: string): Promise<{ record: MessageRecord, entry: OutboxEntry }> {
  return await store.appendOutgoing(outgoing(conversation, text), envelopeFor(text))
}

export async function sendMany (store: KithStore, conversation: string, count: number): Promise<MessageRecord[]> {
  const records: MessageRecord[] = []
  for (let i = 1; i <= count; i++) records.push((await send(store, conversation, `m${i}`)).record)
  return records
}

export function contact (peerId: string, name: string): ContactRecord {
  return { peerId, name, addrs: ['/ip4/192.0.2.1/tcp/4001'], addedAt: 1_700_000_000_000 }
}

export function texts (records: MessageRecord[]): string[] { return records.map(r => r.text) }
