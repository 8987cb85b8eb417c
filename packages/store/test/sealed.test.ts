import { describe, expect, it } from 'vitest'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { generateDataKey, openRecord, sealRecord } from '@kith/crypto'
import { openStore } from '@kith/store'
import { storeSuite } from './compliance.js'
import type { RecordCipher } from '@kith/store'

function cipherFor (dataKey: Uint8Array): RecordCipher {
  return {
    seal: (aad, plaintext) => sealRecord(dataKey, aad, plaintext),
    open: (aad, sealed) => openRecord(dataKey, aad, sealed)
  }
}

// The whole compliance suite again, with every value sealed at rest.
storeSuite('LevelDB, sealed at rest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kith-store-sealed-'))
  const path = join(dir, 'db')
  const cipher = cipherFor(generateDataKey())
  let current = await openStore(path, cipher)
  return {
    store: current,
    reopen: async () => {
      await current.close()
      current = await openStore(path, cipher)
      return current
    },
    cleanup: async () => {
      await current.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}, { reopen: true })

describe('encryption at rest', () => {
  it('leaves no message text, name or envelope byte pattern in the database files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kith-store-grep-'))
    try {
      const store = await openStore(join(dir, 'db'), cipherFor(generateDataKey()))
      const secret = 'the eagle lands at dawn'
      await store.putContact({ peerId: 'peerZ', name: 'Zebediah Quux', addrs: [], addedAt: 1 })
      await store.appendOutgoing({ id: 'ab'.repeat(16), conversation: 'peerZ', from: 'me', text: secret, ts: 1 }, new TextEncoder().encode(`envelope:${secret}`))
      await store.appendIncoming({ id: 'cd'.repeat(16), conversation: 'peerZ', from: 'peerZ', text: `re: ${secret}`, ts: 2 })
      await store.close()
      for (const file of await readdir(join(dir, 'db'))) {
        const bytes = await readFile(join(dir, 'db', file))
        expect(bytes.includes(Buffer.from('eagle lands')), file).toBe(false)
        expect(bytes.includes(Buffer.from('Zebediah')), file).toBe(false)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses a record moved under another key, and a store opened with another data key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kith-store-move-'))
    try {
      const path = join(dir, 'db')
      const key = generateDataKey()
      const store = await openStore(path, cipherFor(key))
      await store.appendIncoming({ id: 'ab'.repeat(16), conversation: 'peerA', from: 'peerA', text: 'one', ts: 1 })
      await store.appendIncoming({ id: 'cd'.repeat(16), conversation: 'peerA', from: 'peerA', text: 'two', ts: 2 })
      await store.close()

      // Swap the two sealed history records behind the store's back.
      const raw = new Level<string, Uint8Array>(path, { valueEncoding: 'view' })
      const records = await raw.iterator({ gt: '!m!', lt: '!m!~' }).all()
      expect(records).toHaveLength(2)
      await raw.batch([
        { type: 'put', key: records[0]![0], value: records[1]![1] },
        { type: 'put', key: records[1]![0], value: records[0]![1] }
      ])
      await raw.close()

      const reopened = await openStore(path, cipherFor(key))
      await expect(reopened.history('peerA')).rejects.toMatchObject({ name: 'RecordTamperedError' })
      await reopened.close()
      const wrongKey = await openStore(path, cipherFor(generateDataKey()))
      await expect(wrongKey.getMessage('ab'.repeat(16))).rejects.toMatchObject({ name: 'RecordTamperedError' })
      await wrongKey.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
