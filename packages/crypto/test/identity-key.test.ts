import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromRaw, privateKeyToProtobuf, publicKeyFromRaw, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { fromHex } from '@kith/core'
import { generateIdentityKey, identityFingerprint, loadIdentityKey, saveIdentityKey, shortFingerprint } from '../src/identity-key.js'

let dir: string
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'kith-identity-')) })
afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

const data = new TextEncoder().encode('kith identity test')

describe('generateIdentityKey', () => {
  it('gives an Ed25519 key whose signatures verify, a different one each time', async () => {
    const [a, b] = await Promise.all([generateIdentityKey(), generateIdentityKey()])
    expect(a.type).toBe('Ed25519')
    expect(a.publicKey.raw).toHaveLength(32)
    expect(await a.publicKey.verify(data, await a.sign(data))).toBe(true)
    expect(a.publicKey.equals(b.publicKey)).toBe(false)
  })
})

describe('saveIdentityKey / loadIdentityKey', () => {
  it('round-trips: the loaded key is the same identity and signs for it', async () => {
    const path = join(dir, 'identity.key')
    const key = await generateIdentityKey()
    await saveIdentityKey(path, key)
    const loaded = await loadIdentityKey(path)
    expect(loaded.type).toBe('Ed25519')
    expect(loaded.publicKey.equals(key.publicKey)).toBe(true)
    expect(identityFingerprint(loaded.publicKey)).toBe(identityFingerprint(key.publicKey))
    expect(await key.publicKey.verify(data, await loaded.sign(data))).toBe(true)
  })

  it('writes the key readable by its owner only (0600), whatever the umask', async () => {
    const previous = process.umask(0)
    try {
      const path = join(dir, 'identity.key')
      await saveIdentityKey(path, await generateIdentityKey())
      expect((await stat(path)).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(previous)
    }
  })

  it('refuses to overwrite an existing key file and leaves it intact', async () => {
    const path = join(dir, 'identity.key')
    const first = await generateIdentityKey()
    await saveIdentityKey(path, first)
    const before = await readFile(path)
    await expect(saveIdentityKey(path, await generateIdentityKey())).rejects.toMatchObject({ code: 'EEXIST' })
    expect(await readFile(path)).toEqual(before)
    expect((await loadIdentityKey(path)).publicKey.equals(first.publicKey)).toBe(true)
  })

  it('refuses to save or load a key that is not Ed25519', async () => {
    const other = await generateKeyPair('secp256k1')
    await expect(saveIdentityKey(join(dir, 'a.key'), other)).rejects.toThrow(TypeError)
    const path = join(dir, 'b.key')
    await writeFile(path, privateKeyToProtobuf(other))
    await expect(loadIdentityKey(path)).rejects.toThrow(TypeError)
  })

  it('fails to load a missing or corrupt file', async () => {
    await expect(loadIdentityKey(join(dir, 'missing.key'))).rejects.toMatchObject({ code: 'ENOENT' })
    const path = join(dir, 'corrupt.key')
    await writeFile(path, 'not a key')
    await expect(loadIdentityKey(path)).rejects.toThrow()
  })
})

describe('identityFingerprint / shortFingerprint', () => {
  // RFC 8032 section 7.1, test 1: a fixed public key, so the fingerprint can be pinned.
  const publicKey = publicKeyFromRaw(fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))

  it('is SHA-256 of the protobuf-encoded key, in lower-case hex', () => {
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('08011220', 'hex'), publicKey.raw])).digest('hex')
    expect(Buffer.from(publicKeyToProtobuf(publicKey)).toString('hex')).toBe('08011220' + Buffer.from(publicKey.raw).toString('hex'))
    expect(identityFingerprint(publicKey)).toBe(expected)
    expect(identityFingerprint(publicKey)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('is the same for equal keys held in different objects, different for different keys', async () => {
    const copy = publicKeyFromRaw(new Uint8Array(publicKey.raw))
    expect(identityFingerprint(copy)).toBe(identityFingerprint(publicKey))
    const other = await generateIdentityKey()
    expect(identityFingerprint(other.publicKey)).not.toBe(identityFingerprint(publicKey))
    // The private key's own public key gives the same fingerprint as its raw public key.
    const privateKey = privateKeyFromRaw(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'))
    expect(identityFingerprint(privateKey.publicKey)).toBe(identityFingerprint(publicKey))
  })

  it('shortens to the first 16 hex digits in four groups', () => {
    const fingerprint = identityFingerprint(publicKey)
    const short = shortFingerprint(fingerprint)
    expect(short).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/)
    expect(short.replaceAll(' ', '')).toBe(fingerprint.slice(0, 16))
  })

  it('refuses to shorten what is not a fingerprint', () => {
    for (const bad of ['', 'abcd', 'A'.repeat(64), 'g'.repeat(64), '0'.repeat(63), '0'.repeat(65)]) {
      expect(() => shortFingerprint(bad)).toThrow(TypeError)
    }
  })
})
