import { describe, expect, it } from 'vitest'

// Written by hand from src/index.ts (types are not runtime exports): a change to the public API
// must change this list too.
const NODE_API = ['createKithNode', 'initHome', 'loadHome', 'HOME_FILES', 'resolveHome', 'needsPassphrase', 'NoIdentityKnownError', 'RELAY_DEFAULTS', 'AUTO_DOWNLOAD_DEFAULT', 'linkHome']

describe('@kith/node public API', () => {
  it('exports exactly the known names', async () => {
    const mod = await import('@kith/node') as Record<string, unknown>
    expect(Object.keys(mod).sort()).toEqual([...NODE_API].sort())
    for (const name of ['createKithNode', 'initHome', 'loadHome', 'resolveHome']) expect(typeof mod[name], name).toBe('function')
    expect(mod.HOME_FILES).toEqual({ deviceKey: 'device.key', identityKey: 'identity.key', certificate: 'device.cert', profile: 'profile.json', ports: 'ports.json', db: 'db', mailbox: 'mailbox', files: 'files', dht: 'dht' })
  })
})
