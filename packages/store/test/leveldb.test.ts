import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '@kith/store'
import { storeSuite } from './compliance.js'

storeSuite('LevelDB', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kith-store-'))
  const path = join(dir, 'db')
  let current = await openStore(path)
  return {
    store: current,
    reopen: async () => {
      await current.close()
      current = await openStore(path)
      return current
    },
    cleanup: async () => {
      await current.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}, { reopen: true })
