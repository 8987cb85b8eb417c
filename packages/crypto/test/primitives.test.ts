import { hkdfSync } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '@kith/core'
import { aes256Blocks, aesGcmDecrypt, aesGcmEncrypt, hkdf, hmacSha256, x25519, x25519Generate, x25519PublicKey } from '../src/primitives.js'

// Known answers from the published specifications, copied byte for byte. A failure here means
// the primitive, or the way our wrapper feeds it, is not the one the specification describes.

const bytes = (length: number, value: number): Uint8Array => new Uint8Array(length).fill(value)
const range = (from: number, to: number): Uint8Array => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i)
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)
function flip (data: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = new Uint8Array(data)
  copy[index] = copy[index]! ^ mask
  return copy
}

describe('X25519 (RFC 7748)', () => {
  // Section 6.1: the Diffie-Hellman example.
  const alicePrivate = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
  const alicePublic = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'
  const bobPrivate = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
  const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'

  it('derives the section 6.1 public keys from the private keys', () => {
    expect(toHex(x25519PublicKey(alicePrivate))).toBe(alicePublic)
    expect(toHex(x25519PublicKey(bobPrivate))).toBe(bobPublic)
  })

  it('computes the section 6.1 shared secret from either side', () => {
    expect(toHex(x25519(alicePrivate, fromHex(bobPublic)))).toBe(shared)
    expect(toHex(x25519(bobPrivate, fromHex(alicePublic)))).toBe(shared)
  })

  it('clamps a raw scalar as the specification does (section 5.2, first test vector)', () => {
    // The scalar's low three bits and top bit are set: the answer is right only if they are cleared.
    const scalar = fromHex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4')
    const u = fromHex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')
    expect(toHex(x25519(scalar, u))).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552')
  })

  it('gives the section 5.2 iterated results after 1 and 1000 iterations', () => {
    // k = u = 9; each round: k, u = X25519(k, u), k.
    let k: Uint8Array = fromHex('0900000000000000000000000000000000000000000000000000000000000000')
    let u = k
    const results = new Map<number, string>()
    for (let round = 1; round <= 1000; round++) {
      const next = x25519(k, u)
      u = k
      k = next
      if (round === 1 || round === 1000) results.set(round, toHex(k))
    }
    expect(results.get(1)).toBe('422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079')
    expect(results.get(1000)).toBe('684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51')
  })

  it('ignores the top bit of u, as section 5 requires', () => {
    const u = fromHex(bobPublic)
    expect(toHex(x25519(alicePrivate, flip(u, 31, 0x80)))).toBe(shared)
  })

  it('agrees on one secret for fresh key pairs, and different pairs give different secrets', () => {
    const a = x25519Generate()
    const b = x25519Generate()
    const c = x25519Generate()
    expect(a.privateKey).toHaveLength(32)
    expect(toHex(x25519PublicKey(a.privateKey))).toBe(toHex(a.publicKey))
    expect(toHex(x25519(a.privateKey, b.publicKey))).toBe(toHex(x25519(b.privateKey, a.publicKey)))
    expect(toHex(x25519(a.privateKey, b.publicKey))).not.toBe(toHex(x25519(a.privateKey, c.publicKey)))
  })

  it('refuses low-order public keys, whose shared secret is all zeros', () => {
    // OpenSSL 3 refuses these itself (ERR_OSSL_FAILED_DURING_DERIVATION) before the wrapper's
    // own all-zero check would, so only "it throws" is asserted, not which error.
    expect(() => x25519(alicePrivate, bytes(32, 0))).toThrow()
    expect(() => x25519(alicePrivate, fromHex('0100000000000000000000000000000000000000000000000000000000000000'))).toThrow()
  })

  it('refuses keys of the wrong length', () => {
    expect(() => x25519(alicePrivate, bytes(31, 9))).toThrow(TypeError)
    expect(() => x25519(bytes(33, 1), fromHex(bobPublic))).toThrow(TypeError)
    expect(() => x25519PublicKey(bytes(16, 1))).toThrow(TypeError)
  })
})

describe('HKDF-SHA-256 (RFC 5869, appendix A)', () => {
  // The PRK is HMAC-SHA-256(salt, IKM), so each case also checks hmacSha256 (an empty salt
  // stands for HashLen zero bytes, which HMAC pads to the same key).
  const cases = [
    {
      name: 'test case 1 (basic)',
      ikm: bytes(22, 0x0b),
      salt: fromHex('000102030405060708090a0b0c'),
      info: fromHex('f0f1f2f3f4f5f6f7f8f9'),
      length: 42,
      prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
      okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865'
    },
    {
      name: 'test case 2 (longer inputs and outputs)',
      ikm: range(0x00, 0x4f),
      salt: range(0x60, 0xaf),
      info: range(0xb0, 0xff),
      length: 82,
      prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
      okm: 'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87'
    },
    {
      name: 'test case 3 (empty salt and info)',
      ikm: bytes(22, 0x0b),
      salt: new Uint8Array(0),
      info: new Uint8Array(0),
      length: 42,
      prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
      okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8'
    }
  ]

  for (const c of cases) {
    it(`gives the OKM of ${c.name}`, () => {
      expect(toHex(hkdf(c.ikm, c.salt, c.info, c.length))).toBe(c.okm)
      expect(toHex(hmacSha256(c.salt, c.ikm))).toBe(c.prk)
    })
  }

  it('agrees with node:crypto hkdfSync on any input and length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 255 * 32 }), (ikm, salt, info, length) => {
      expect(toHex(hkdf(ikm, salt, info, length))).toBe(toHex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))))
    }), { numRuns: 200 })
  })

  it('refuses a length HKDF cannot give', () => {
    expect(() => hkdf(bytes(32, 1), new Uint8Array(0), 'kith', 255 * 32 + 1)).toThrow(RangeError)
  })

  it('takes info as a string, as its UTF-8 bytes', () => {
    const ikm = bytes(22, 0x0b)
    expect(toHex(hkdf(ikm, new Uint8Array(0), 'kith', 32))).toBe(toHex(hkdf(ikm, new Uint8Array(0), ascii('kith'), 32)))
  })
})

describe('AES-256 blocks (FIPS-197, appendix C.3)', () => {
  it('gives the published ciphertext for the example block', () => {
    expect(toHex(aes256Blocks(range(0x00, 0x1f), fromHex('00112233445566778899aabbccddeeff')))).toBe('8ea2b7ca516745bfeafc49904b496089')
  })

  it('handles many blocks at once, each on its own, and refuses a partial block', () => {
    const key = range(0x00, 0x1f)
    const one = fromHex('00112233445566778899aabbccddeeff')
    const two = aes256Blocks(key, new Uint8Array([...one, ...one]))
    expect(toHex(two)).toBe('8ea2b7ca516745bfeafc49904b496089'.repeat(2))
    expect(() => aes256Blocks(key, new Uint8Array(15))).toThrow(RangeError)
  })
})

describe('HMAC-SHA-256 (RFC 4231, section 4)', () => {
  it('gives the answer of test case 1', () => {
    expect(toHex(hmacSha256(bytes(20, 0x0b), ascii('Hi There')))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7')
  })

  it('gives the answer of test case 2 (a key shorter than the output)', () => {
    expect(toHex(hmacSha256(ascii('Jefe'), ascii('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  })

  it('gives the answer of test case 6 (a key longer than the block, hashed first)', () => {
    expect(toHex(hmacSha256(bytes(131, 0xaa), ascii('Test Using Larger Than Block-Size Key - Hash Key First')))).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
  })
})

describe('AES-256-GCM (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-16)', () => {
  const zeroKey = bytes(32, 0)
  const zeroIv = bytes(12, 0)
  const key = fromHex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308')
  const iv = fromHex('cafebabefacedbaddecaf888')
  const plaintext = fromHex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255')
  const ciphertext = '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad'
  const aad = fromHex('feedfacedeadbeeffeedfacedeadbeefabaddad2')

  it('test case 13: empty plaintext, the tag alone', () => {
    const sealed = aesGcmEncrypt(zeroKey, zeroIv, new Uint8Array(0))
    expect(toHex(sealed)).toBe('530f8afbc74536b9a963b4f1c4cb738b')
    expect(aesGcmDecrypt(zeroKey, zeroIv, sealed)).toHaveLength(0)
  })

  it('test case 14: one zero block', () => {
    const sealed = aesGcmEncrypt(zeroKey, zeroIv, bytes(16, 0))
    expect(toHex(sealed)).toBe('cea7403d4d606b6e074ec5d3baf39d18' + 'd0d1c8a799996bf0265b98b5d48ab919')
    expect(toHex(aesGcmDecrypt(zeroKey, zeroIv, sealed))).toBe('00'.repeat(16))
  })

  it('test case 15: four blocks', () => {
    const sealed = aesGcmEncrypt(key, iv, plaintext)
    expect(toHex(sealed)).toBe(ciphertext + 'b094dac5d93471bdec1a502270e3cc6c')
    expect(toHex(aesGcmDecrypt(key, iv, sealed))).toBe(toHex(plaintext))
  })

  it('test case 16: a partial last block, with associated data', () => {
    const sealed = aesGcmEncrypt(key, iv, plaintext.subarray(0, 60), aad)
    expect(toHex(sealed)).toBe(ciphertext.slice(0, 120) + '76fc6ece0f4e1768cddf8853bb2d551b')
    expect(toHex(aesGcmDecrypt(key, iv, sealed, aad))).toBe(toHex(plaintext.subarray(0, 60)))
  })

  describe('refuses anything tampered with', () => {
    const sealed = aesGcmEncrypt(key, iv, plaintext.subarray(0, 60), aad)
    const tagStart = sealed.length - 16

    it('a flipped ciphertext bit, wherever it is', () => {
      for (const index of [0, 31, tagStart - 1]) expect(() => aesGcmDecrypt(key, iv, flip(sealed, index), aad)).toThrow()
    })

    it('a flipped tag bit, wherever it is', () => {
      for (const index of [tagStart, tagStart + 7, sealed.length - 1]) expect(() => aesGcmDecrypt(key, iv, flip(sealed, index, 0x80), aad)).toThrow()
    })

    it('other or missing associated data', () => {
      expect(() => aesGcmDecrypt(key, iv, sealed, flip(aad, 0))).toThrow()
      expect(() => aesGcmDecrypt(key, iv, sealed, aad.subarray(0, aad.length - 1))).toThrow()
      expect(() => aesGcmDecrypt(key, iv, sealed)).toThrow()
    })

    it('another key or IV', () => {
      expect(() => aesGcmDecrypt(flip(key, 0), iv, sealed, aad)).toThrow()
      expect(() => aesGcmDecrypt(key, flip(iv, 11), sealed, aad)).toThrow()
    })

    it('a truncated ciphertext or tag', () => {
      expect(() => aesGcmDecrypt(key, iv, sealed.subarray(0, sealed.length - 1), aad)).toThrow()
      expect(() => aesGcmDecrypt(key, iv, sealed.subarray(1), aad)).toThrow()
      expect(() => aesGcmDecrypt(key, iv, sealed.subarray(0, 15), aad)).toThrow(TypeError)
    })

    it('while the untouched input still opens', () => {
      expect(toHex(aesGcmDecrypt(key, iv, sealed, aad))).toBe(toHex(plaintext.subarray(0, 60)))
    })
  })
})
