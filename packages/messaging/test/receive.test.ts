import { afterEach, describe, expect, it } from 'vitest'
import { AckStatus, Envelope, SignedMessage, random, toHex } from '@kith/core'
import { generateDeviceKey } from '@kith/crypto'
import { befriend, startNode } from '../../../test/helpers/testnet.js'
import { makeEnvelope, rawDmStream } from '../../../test/helpers/raw-dm.js'
import type { KithNode } from '@kith/node'
import type { PrivateKey } from '@libp2p/interface'

const running: KithNode[] = []
afterEach(async () => { await Promise.all(running.splice(0).map(async n => { await n.stop() })) })

/** Alice and bob, friends; the test speaks for bob on raw streams with bob's key. */
async function pair (): Promise<{ alice: KithNode, bob: KithNode, bobKey: PrivateKey }> {
  const bobKey = await generateDeviceKey()
  // Hand-made envelopes are in the signed clear-text format: encryption off on both.
  const alice = await startNode('alice', { messaging: { encryption: 'none' } })
  const bob = await startNode('bob', { privateKey: bobKey, messaging: { encryption: 'none' } })
  running.push(alice, bob)
  await befriend(alice, bob)
  return { alice, bob, bobKey }
}

/** The same envelope with its signature damaged. */
function breakSignature (frame: Uint8Array): Uint8Array {
  const envelope = Envelope.decode(frame)
  const signed = SignedMessage.decode(envelope.body)
  signed.signature[0] = (signed.signature[0] ?? 0) ^ 0xff
  return Envelope.encode({ ...envelope, body: SignedMessage.encode(signed) })
}

const idOf = (frame: Uint8Array): string => toHex(Envelope.decode(frame).id)

describe('receiving on /kith/dm', () => {
  it('acks a resent envelope as DUPLICATE before checking its signature, and stores it once', async () => {
    const { alice, bob, bobKey } = await pair()
    const frame = await makeEnvelope(bobKey, alice, 'only once')
    const raw = await rawDmStream(bob, alice)
    await raw.write(frame)
    expect(await raw.readAck()).toMatchObject({ status: AckStatus.OK })
    await raw.write(frame)
    expect(await raw.readAck()).toMatchObject({ status: AckStatus.DUPLICATE })
    // A copy with a damaged signature but a known id costs no crypto: it is a duplicate too.
    await raw.write(breakSignature(frame))
    const ack = await raw.readAck()
    expect({ id: toHex(ack.id), status: ack.status }).toEqual({ id: idOf(frame), status: AckStatus.DUPLICATE })
    await raw.close()

    expect((await alice.history('bob')).map(m => m.text)).toEqual(['only once'])
    expect(alice.status().metrics).toMatchObject({ received: 1, duplicates: 2, forged: 0 })
  })

  it('acks a batch in frame order, each with its own verdict, and keeps the stream', async () => {
    const { alice, bob, bobKey } = await pair()
    const good1 = await makeEnvelope(bobKey, alice, 'first')
    // Bob's connection carries a message signed as someone else, with a broken signature: it must be verified, and fails.
    const forged = breakSignature(await makeEnvelope(await generateDeviceKey(), alice, 'forged'))
    const elsewhere = await makeEnvelope(bobKey, alice, 'not for alice', { recipient: new Uint8Array(bob.peerId.toMultihash().bytes) })
    const stranger = await makeEnvelope(await generateDeviceKey(), alice, 'who am I')
    const empty = await makeEnvelope(bobKey, alice, '')
    const good2 = await makeEnvelope(bobKey, alice, 'second')
    const frames = [good1, forged, elsewhere, stranger, empty, good2]

    const raw = await rawDmStream(bob, alice)
    for (const frame of frames) await raw.write(frame)
    const acks = []
    for (let i = 0; i < frames.length; i++) {
      const ack = await raw.readAck()
      acks.push([toHex(ack.id), ack.status])
    }
    expect(acks).toEqual([
      [idOf(good1), AckStatus.OK],
      [idOf(forged), AckStatus.INVALID],
      [idOf(elsewhere), AckStatus.INVALID],
      [idOf(stranger), AckStatus.REFUSED],
      [idOf(empty), AckStatus.INVALID],
      [idOf(good2), AckStatus.OK]
    ])
    await raw.close()
    expect((await alice.history('bob')).map(m => m.text)).toEqual(['first', 'second'])
    expect(alice.status().metrics).toMatchObject({ received: 2, forged: 1, invalid: 2, refusedNotContact: 1 })
  })

  it('drops the stream at a frame it cannot ack, after acking the ones before it', async () => {
    const { alice, bob, bobKey } = await pair()
    const good = await makeEnvelope(bobKey, alice, 'fine')
    const raw = await rawDmStream(bob, alice)
    await raw.write(good)
    await raw.write(random(50))
    expect(toHex((await raw.readAck()).id)).toBe(idOf(good))
    await expect(raw.readAck()).rejects.toThrow()
    expect(alice.status().metrics.invalid).toBe(1)
    expect((await alice.history('bob')).map(m => m.text)).toEqual(['fine'])
  })
})
