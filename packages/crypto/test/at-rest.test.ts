import { describe, expect, it } from 'vitest'
import { SCRYPT_PARAMS, generateDataKey, openRecord, sealRecord, unwrapDataKey, wrapWithKeyFile, wrapWithPassphrase } from '../src/at-rest.js'

// Cheap scrypt parameters keep the tests fast; the defaults are exercised once.
const FAST = { N: 2 ** 10, r: 8, p: 1 }
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('data key wrapping', () => {
  it('unwraps with the right passphrase and refuses a wrong one by name', async () => {
    const key = generateDataKey()
    const stored = await wrapWithPassphrase(key, 'correct horse', FAST)
    expect(await unwrapDataKey(stored, 'correct horse')).toEqual(key)
    await expect(unwrapDataKey(stored, 'wrong horse')).rejects.toMatchObject({ name: 'WrongPassphraseError' })
    expect(JSON.stringify(stored)).not.toContain(Buffer.from(key).toString('base64'))
  })

  it('uses the default scrypt cost when none is given', async () => {
    const key = generateDataKey()
    const stored = await wrapWithPassphrase(key, 'pass')
    expect(stored).toMatchObject({ kdf: 'scrypt', N: 2 ** 17, r: 8, p: 1 })
    expect(SCRYPT_PARAMS).toEqual({ N: 2 ** 17, r: 8, p: 1 })
    expect(await unwrapDataKey(stored, 'pass')).toEqual(key)
  })

  it('treats a passphrase in any Unicode normal form as the same passphrase', async () => {
    const key = generateDataKey()
    const stored = await wrapWithPassphrase(key, 'caf\u00e9', FAST)
    expect(await unwrapDataKey(stored, 'cafe\u0301')).toEqual(key)
  })

  it('unwraps with the key file and refuses another key file, or a passphrase', async () => {
    const key = generateDataKey()
    const file = generateDataKey()
    const stored = wrapWithKeyFile(key, file)
    expect(await unwrapDataKey(stored, file)).toEqual(key)
    await expect(unwrapDataKey(stored, generateDataKey())).rejects.toMatchObject({ name: 'WrongPassphraseError' })
    await expect(unwrapDataKey(stored, 'a passphrase')).rejects.toMatchObject({ name: 'WrongPassphraseError' })
  })

  it('refuses damaged or absurd wrapping parameters instead of hanging on them', async () => {
    const stored = await wrapWithPassphrase(generateDataKey(), 'p', FAST)
    await expect(unwrapDataKey({ ...stored, N: 2 ** 30 }, 'p')).rejects.toMatchObject({ name: 'WrongPassphraseError' })
    await expect(unwrapDataKey({ ...stored, wrapped: Buffer.from('garbage').toString('base64') }, 'p')).rejects.toMatchObject({ name: 'WrongPassphraseError' })
  })
})

describe('sealed records', () => {
  const key = generateDataKey()

  it('round-trips and never contains the plaintext', () => {
    const sealed = sealRecord(key, 'm!bob!1', text('meet at noon'))
    expect(Buffer.from(sealed).includes(Buffer.from('meet at noon'))).toBe(false)
    expect(new TextDecoder().decode(openRecord(key, 'm!bob!1', sealed))).toBe('meet at noon')
  })

  it('fails by name when moved to another key, tampered, truncated or opened with another data key', () => {
    const sealed = sealRecord(key, 'm!bob!1', text('meet at noon'))
    expect(() => openRecord(key, 'm!bob!2', sealed)).toThrow(expect.objectContaining({ name: 'RecordTamperedError' }))
    const flipped = new Uint8Array(sealed)
    flipped[20] = flipped[20]! ^ 1
    expect(() => openRecord(key, 'm!bob!1', flipped)).toThrow(expect.objectContaining({ name: 'RecordTamperedError' }))
    expect(() => openRecord(key, 'm!bob!1', sealed.subarray(0, 20))).toThrow(expect.objectContaining({ name: 'RecordTamperedError' }))
    expect(() => openRecord(generateDataKey(), 'm!bob!1', sealed)).toThrow(expect.objectContaining({ name: 'RecordTamperedError' }))
  })

  it('seals the same plaintext differently each time (fresh IV)', () => {
    expect(sealRecord(key, 'k', text('x'))).not.toEqual(sealRecord(key, 'k', text('x')))
  })
})
