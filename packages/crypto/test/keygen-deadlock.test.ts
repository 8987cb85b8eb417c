// Node 20 deadlocks when a KeyObject fresh from generateKeyPairSync is exported to JWK and a
// garbage collection during the export finalises the finished key generation job (the
// finaliser takes the lock the export holds): a loop of the two hung within 2,000 keys here,
// and it hung the test suite now and then. A deadlocked thread runs no timers, so the keys are
// made in a child process that the test can kill.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))

const SCRIPT = `
const { x25519Generate, x25519Ephemeral, generateEd25519Key } = await import(process.argv[1])
const peer = x25519Generate()
for (let i = 0; i < 6000; i++) {
  x25519Generate()
  x25519Ephemeral(peer.publicKey)
  if (i % 4 === 0) generateEd25519Key()
}
console.log('done')
`

describe('key generation', () => {
  it('makes thousands of X25519 and Ed25519 keys without deadlocking', async () => {
    const { code, stdout } = await new Promise<{ code: number | null, stdout: string }>(resolve => {
      execFile(process.execPath, ['--input-type=module', '-e', SCRIPT, DIST], { timeout: 40_000, killSignal: 'SIGKILL' }, (err: any, stdout) => {
        resolve({ code: err == null ? 0 : (err.killed === true ? null : err.code), stdout })
      })
    })
    expect(code, 'the key generation loop hung (killed after 40 s) or failed').toBe(0)
    expect(stdout.trim()).toBe('done')
  }, 60_000)
})
