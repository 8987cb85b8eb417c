import { memoryStore } from '@kith/store'
import { storeSuite } from './compliance.js'

storeSuite('memory-level', async () => {
  const store = await memoryStore()
  return { store, cleanup: async () => { await store.close() } }
})
