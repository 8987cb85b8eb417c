import { describe, expect, it } from 'vitest'
import { generateDeviceKey } from '@kith/crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeTextBody, encodeTextBody, signText, verifyText } from '../src/text.js'

describe('signed group texts', () => {
  it('round-trip, and verify only for their sender, group, epoch, id, time and text', async () => {
    const [alice, bob] = [await generateDeviceKey(), await generateDeviceKey()]
    const [aliceId, bobId] = [peerIdFromPrivateKey(alice).toString(), peerIdFromPrivateKey(bob).toString()]
    const group = 'aa'.repeat(16)
    const signed = signText(group, 7n, alice.raw.subarray(0, 32), { id: '01'.repeat(16), ts: 1_795_000_000_000, text: 'hello, club ✓' })
    const decoded = decodeTextBody(encodeTextBody(signed))
    expect(decoded).toEqual(signed)
    expect(verifyText(group, 7n, aliceId, decoded!)).toBe(true)
    expect(verifyText(group, 7n, bobId, decoded!)).toBe(false)
    expect(verifyText('bb'.repeat(16), 7n, aliceId, decoded!)).toBe(false)
    // Moved to another epoch (before someone joined, after a removal), it no longer verifies.
    expect(verifyText(group, 8n, aliceId, decoded!)).toBe(false)
    expect(verifyText(group, 6n, aliceId, decoded!)).toBe(false)
    expect(verifyText(group, 7n, aliceId, { ...decoded!, text: 'hello, club' })).toBe(false)
    expect(verifyText(group, 7n, aliceId, { ...decoded!, ts: decoded!.ts + 1 })).toBe(false)
    expect(verifyText(group, 7n, aliceId, { ...decoded!, id: '02'.repeat(16) })).toBe(false)
    expect(verifyText(group, 7n, 'not a peer id', decoded!)).toBe(false)
    expect(verifyText(group, 7n, aliceId, { ...decoded!, signature: new Uint8Array(12) })).toBe(false)
    expect(decodeTextBody(new Uint8Array(87))).toBeUndefined()
  })
})
