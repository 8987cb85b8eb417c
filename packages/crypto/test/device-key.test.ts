import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { fromHex, toHex } from '@kith/core'
import { ed25519Sign, ed25519SignRaw, ed25519Verify, ed25519VerifyRaw, generateDeviceKey, loadDeviceKey, saveDeviceKey } from '@kith/crypto'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'kith-crypto-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const data = new TextEncoder().encode('kith test data')

describe('generateDeviceKey', () => {
  it('gives an Ed25519 key whose signatures verify', async () => {
    const key = await generateDeviceKey()
    expect(key.type).toBe('Ed25519')
    expect(key.publicKey.type).toBe('Ed25519')
    expect(key.publicKey.raw).toHaveLength(32)
    expect(peerIdFromPrivateKey(key).type).toBe('Ed25519')
    const sig = await key.sign(data)
    expect(sig).toHaveLength(64)
    expect(await key.publicKey.verify(data, sig)).toBe(true)
  })

  it('gives a different key each time', async () => {
    const [a, b] = await Promise.all([generateDeviceKey(), generateDeviceKey()])
    expect(a.publicKey.equals(b.publicKey)).toBe(false)
  })
})

describe('saveDeviceKey / loadDeviceKey', () => {
  it('writes the key readable by its owner only (0600)', async () => {
    const path = join(dir, 'device.key')
    await saveDeviceKey(path, await generateDeviceKey())
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('keeps mode 0600 whatever the umask', async () => {
    const previous = process.umask(0)
    try {
      const path = join(dir, 'device.key')
      await saveDeviceKey(path, await generateDeviceKey())
      expect((await stat(path)).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(previous)
    }
  })

  it('round-trips: the loaded key is the same identity and signs for it', async () => {
    const path = join(dir, 'device.key')
    const key = await generateDeviceKey()
    await saveDeviceKey(path, key)
    const loaded = await loadDeviceKey(path)
    expect(loaded.type).toBe('Ed25519')
    expect(loaded.publicKey.equals(key.publicKey)).toBe(true)
    expect(peerIdFromPrivateKey(loaded).equals(peerIdFromPrivateKey(key))).toBe(true)
    expect(await key.publicKey.verify(data, await loaded.sign(data))).toBe(true)
  })

  it('refuses to overwrite an existing key file and leaves it intact', async () => {
    const path = join(dir, 'device.key')
    const first = await generateDeviceKey()
    await saveDeviceKey(path, first)
    const before = await readFile(path)
    await expect(saveDeviceKey(path, await generateDeviceKey())).rejects.toMatchObject({ code: 'EEXIST' })
    expect(await readFile(path)).toEqual(before)
    expect((await loadDeviceKey(path)).publicKey.equals(first.publicKey)).toBe(true)
  })

  it('fails to load a missing or corrupt file', async () => {
    await expect(loadDeviceKey(join(dir, 'missing.key'))).rejects.toMatchObject({ code: 'ENOENT' })
    const path = join(dir, 'corrupt.key')
    await writeFile(path, 'not a key')
    await expect(loadDeviceKey(path)).rejects.toThrow()
  })
})

describe('Ed25519 known answer (RFC 8032, section 7.1, test 1)', () => {
  const secret = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
  const publicHex = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'
  const signatureHex = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  const empty = new Uint8Array(0)

  it('signs the empty message with exactly the RFC signature', async () => {
    const key = privateKeyFromRaw(fromHex(secret + publicHex))
    expect(key.type).toBe('Ed25519')
    expect(toHex(key.publicKey.raw)).toBe(publicHex)
    expect(toHex(await key.sign(empty))).toBe(signatureHex)
  })

  it('verifies the RFC signature, and rejects it altered or for another message', async () => {
    const publicKey = publicKeyFromRaw(fromHex(publicHex))
    const signature = fromHex(signatureHex)
    expect(await publicKey.verify(empty, signature)).toBe(true)
    const flipped = new Uint8Array(signature)
    flipped[0] = flipped[0]! ^ 1
    expect(await publicKey.verify(empty, flipped)).toBe(false)
    expect(await publicKey.verify(new Uint8Array([0]), signature)).toBe(false)
  })

  it('gives the same answers with raw keys (the path MLS signs and verifies with)', () => {
    expect(toHex(ed25519SignRaw(fromHex(secret), empty))).toBe(signatureHex)
    expect(ed25519VerifyRaw(fromHex(publicHex), empty, fromHex(signatureHex))).toBe(true)
    const flipped = fromHex(signatureHex)
    flipped[0] = flipped[0]! ^ 1
    expect(ed25519VerifyRaw(fromHex(publicHex), empty, flipped)).toBe(false)
    expect(ed25519VerifyRaw(new Uint8Array(31), empty, fromHex(signatureHex))).toBe(false)
    expect(() => ed25519SignRaw(new Uint8Array(31), empty)).toThrow(TypeError)
  })

  it('gives the same answers through the node:crypto path Kith signs and verifies messages with', () => {
    const key = privateKeyFromRaw(fromHex(secret + publicHex))
    expect(toHex(ed25519Sign(key, empty))).toBe(signatureHex)
    const signature = fromHex(signatureHex)
    expect(ed25519Verify(key.publicKey, empty, signature)).toBe(true)
    const flipped = new Uint8Array(signature)
    flipped[63] = flipped[63]! ^ 0x80
    expect(ed25519Verify(key.publicKey, empty, flipped)).toBe(false)
    expect(ed25519Verify(key.publicKey, new Uint8Array([0]), signature)).toBe(false)
  })
})
