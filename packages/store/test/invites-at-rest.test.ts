import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Level } from 'level'
import { openStore } from '@kith/store'
import { filesContaining } from '../../../test/helpers/grep.js'
import { BOB, contact, newId } from './helpers.js'

const dirs: string[] = []
afterEach(async () => { for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true }) })

async function tempDb (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kith-invites-'))
  dirs.push(dir)
  return join(dir, 'db')
}

describe('invite tokens at rest', () => {
  it('are not in the LevelDB files (stored by hash), and the invite still redeems', async () => {
    const path = await tempDb()
    const token = newId()
    let store = await openStore(path)
    await store.putInvite({ token, expires: Date.now() + 60_000 })
    await store.close()
    // No cipher here: values are in the clear too, so this checks keys and values alike.
    expect(await filesContaining(path, [token, token.toUpperCase()])).toEqual([])

    store = await openStore(path)
    expect(await store.getInvite(token)).toMatchObject({ token })
    expect(await store.getInvite(newId())).toBeUndefined()
    await store.redeemInvite(token, contact(BOB, 'bob'))
    expect(await store.getInvite(token)).toBeUndefined()
    expect(await store.getContact(BOB)).toBeDefined()
    await store.close()
  })

  it('an invite stored under its token by an older version is moved under its hash and still redeems', async () => {
    const path = await tempDb()
    const token = newId()
    const db = new Level<string, any>(path)
    await db.sublevel<string, Uint8Array>('v', { valueEncoding: 'view' }).put(token, new TextEncoder().encode(JSON.stringify({ token, expires: Date.now() + 60_000 })))
    await db.close()

    const store = await openStore(path)
    expect(await store.getInvite(token)).toMatchObject({ token })
    await store.close()
    const raw = new Level<string, any>(path)
    const keys = await raw.sublevel<string, Uint8Array>('v', { valueEncoding: 'view' }).keys().all()
    const values = await raw.sublevel<string, Uint8Array>('v', { valueEncoding: 'utf8' }).values().all()
    await raw.close()
    expect(keys).toHaveLength(1)
    expect(keys[0]).not.toContain(token)
    expect(values.join()).not.toContain(token)

    const reopened = await openStore(path)
    await reopened.redeemInvite(token, contact(BOB, 'bob'))
    expect(await reopened.getInvite(token)).toBeUndefined()
    await reopened.close()
  })

  it('expired invites are dropped when a new one is made', async () => {
    const path = await tempDb()
    const store = await openStore(path)
    const old = newId()
    await store.putInvite({ token: old, expires: Date.now() - 1 })
    await store.putInvite({ token: newId(), expires: Date.now() + 60_000 })
    expect(await store.getInvite(old)).toBeUndefined()
    await store.close()
  })
})
