import { describe, expect, it } from 'vitest'
import { MAX_MISSED, received, sealChains, sealTags, sessionSeal, sessionUnseal, tagOf } from '../src/e2ee/session-seal.js'

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
      expect(sessionUnseal(sealIn, AAD, body)).toEqual(new Uint8Array([counter & 0xff]))
      chain = next
    }
  })

  it('gives each direction its own tags and keys', () => {
    const { sealOut, sealIn } = sealChains(new Uint8Array(32).fill(2), true)
    expect(hex(sealTags(sealOut, 0, 1)[0]!)).not.toBe(hex(sealTags(sealIn, 0, 1)[0]!))
    const { body } = sessionSeal(sealOut, AAD, new Uint8Array([1]))
    expect(() => sessionUnseal(sealIn, AAD, body)).toThrow()
    expect(sessionUnseal(sealOut, AAD, body)).toEqual(new Uint8Array([1]))
  })

  it('never seals two plaintexts under one (key, nonce), even when a restored copy counts the same counter again', () => {
    const { sealOut } = sealChains(new Uint8Array(32).fill(3), true)
    // The same chain state twice: what a home restored from a backup does.
    const first = sessionSeal(sealOut, AAD, new Uint8Array([1, 2, 3])).body
    const again = sessionSeal(sealOut, AAD, new Uint8Array([9, 9, 9])).body
    expect(hex(tagOf(first))).toBe(hex(tagOf(again))) // same counter, same tag
    expect(hex(first.subarray(16, 28))).not.toBe(hex(again.subarray(16, 28))) // but fresh nonces
  })

  it('remembers counters skipped below the highest one, capped, and forgets each once it arrives', () => {
    const { sealIn } = sealChains(new Uint8Array(32).fill(4), false)
    let chain = received(sealIn, 5)
    expect(chain.next).toBe(6)
    expect(chain.missed).toEqual([0, 1, 2, 3, 4])
    chain = received(chain, 2)
    expect(chain.missed).toEqual([0, 1, 3, 4])
    expect(chain.next).toBe(6)
    chain = received(chain, 6)
    expect(chain.missed).toEqual([0, 1, 3, 4])
    chain = received(chain, 6 + MAX_MISSED + 10)
    expect(chain.missed).toHaveLength(MAX_MISSED)
    expect(chain.missed?.at(-1)).toBe(6 + MAX_MISSED + 9)
  })
})
