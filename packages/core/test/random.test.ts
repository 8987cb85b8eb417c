import { describe, expect, it } from 'vitest'
import { random, toHex } from '@kith/core'

describe('random', () => {
  it('gives fresh bytes of the asked length, never the same ones twice, across pool refills', () => {
    const seen = new Set<string>()
    // 16-byte ids: 20,000 of them use the pool about 80 times over.
    for (let i = 0; i < 20_000; i++) {
      const id = random(16)
      expect(id).toBeInstanceOf(Uint8Array)
      expect(id.length).toBe(16)
      seen.add(toHex(id))
    }
    expect(seen.size).toBe(20_000)
  })

  it('serves odd and large lengths, and hands out copies, not views of its pool', () => {
    for (const length of [0, 1, 7, 12, 32, 511, 512, 513, 4096, 100_000]) expect(random(length).length).toBe(length)
    const a = random(32)
    const before = toHex(a)
    for (let i = 0; i < 300; i++) random(32)
    expect(toHex(a)).toBe(before)
    expect(a.buffer.byteLength).toBe(32)
  })

  it('is not biased to any byte value (a sanity check of the source, not a proof)', () => {
    const counts = new Array(256).fill(0)
    // Small requests come from the pool: sample through it.
    for (let i = 0; i < 16_000; i++) for (const byte of random(16)) counts[byte]++
    // Each value is expected 1000 times; 800..1200 is over six standard deviations wide.
    expect(Math.min(...counts)).toBeGreaterThan(800)
    expect(Math.max(...counts)).toBeLessThan(1200)
  })
})
