import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeCutoffs, encodeCutoffs, withinCutoff } from '../src/cutoff.js'
import { InvalidGroupMessageError } from '../src/group.js'

describe('removal cut-offs', () => {
  it('round-trip, and say what of a removed device is still in the history', () => {
    const highest = new Map([['5/bob', 3], ['7/bob', 0]])
    const cutoffs = decodeCutoffs(encodeCutoffs(['bob', 'dave'], 5n, 7n, (epoch, device) => highest.get(`${epoch}/${device}`)))
    expect(cutoffs.from).toBe(5n)
    expect([...cutoffs.devices.get('bob')!]).toEqual([3, -1, 0])
    expect([...cutoffs.devices.get('dave')!]).toEqual([-1, -1, -1])
    // Up to the generation its remover had read, in each epoch; nothing where it had read none.
    expect(withinCutoff(cutoffs, 'bob', 5n, 3)).toBe(true)
    expect(withinCutoff(cutoffs, 'bob', 5n, 4)).toBe(false)
    expect(withinCutoff(cutoffs, 'bob', 6n, 0)).toBe(false)
    expect(withinCutoff(cutoffs, 'bob', 7n, 0)).toBe(true)
    expect(withinCutoff(cutoffs, 'dave', 7n, 0)).toBe(false)
    // A device the commit names no cut-off for: nothing in the epochs covered.
    expect(withinCutoff(cutoffs, 'carol', 6n, 0)).toBe(false)
    // Epochs before those covered are no member's to read any more: left as they are.
    expect(withinCutoff(cutoffs, 'bob', 4n, 99)).toBe(true)
    // Empty authenticated data: no cut-offs, nothing past the removal.
    expect(withinCutoff(decodeCutoffs(new Uint8Array(0)), 'bob', 0n, 0)).toBe(false)
  })

  it('refuse anything else by name, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), bytes => {
      try {
        const cutoffs = decodeCutoffs(bytes)
        for (const generations of cutoffs.devices.values()) expect(generations.length).toBe(cutoffs.span)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidGroupMessageError)
      }
    }), { numRuns: 2000 })
    expect(() => decodeCutoffs(new Uint8Array(10 * 1024 * 1024))).toThrow(InvalidGroupMessageError)
  })
})
