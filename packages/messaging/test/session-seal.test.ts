import { describe, expect, it } from 'vitest'
import { sealChains, sealTags, sessionSeal, sessionUnseal, tagOf } from '../src/e2ee/session-seal.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const AAD = new Uint8Array([7])

describe('session seals', () => {
  it('announce each counter with the tag the receiver precomputes, across tag batches', () => {
    const { sealOut } = sealChains(new Uint8Array(32).fill(1), true)
    const { sealIn } = sealChains(new Uint8Array(32).fill(1), false)
    const expected = sealTags(sealIn, 0, 1100).map(hex)
    expect(new Set(expected).size).toBe(1100) // all distinct
    let chain = sealOut
    for (let counter = 0; counter < 1100; counter++) {
      const { body, chain: next } = sessionSeal(chain, AAD, new Uint8Array([counter & 0xff]))
      expect(hex(tagOf(body)), `counter ${counter}`).toBe(expected[counter])
      expect(sessionUnseal(sealIn, counter, AAD, body)).toEqual(new Uint8Array([counter & 0xff]))
      chain = next
    }
  })

  it('gives each direction its own tags and keys', () => {
    const { sealOut, sealIn } = sealChains(new Uint8Array(32).fill(2), true)
    expect(hex(sealTags(sealOut, 0, 1)[0]!)).not.toBe(hex(sealTags(sealIn, 0, 1)[0]!))
    const { body } = sessionSeal(sealOut, AAD, new Uint8Array([1]))
    expect(() => sessionUnseal(sealIn, 0, AAD, body)).toThrow()
    expect(() => sessionUnseal(sealOut, 1, AAD, body)).toThrow() // another counter, another nonce
  })
})
