import { beforeAll, describe, expect, it } from 'vitest'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LIMITS, MESSAGE_ID_BYTES, Message, MessageKind, SignedMessage, random } from '@kith/core'
import { generateDeviceKey, openSignedMessage, signMessage } from '@kith/crypto'
import type { SignatureContext } from '@kith/crypto'
import type { PrivateKey } from '@libp2p/interface'

let alice: PrivateKey
let bob: PrivateKey
let mallory: PrivateKey
beforeAll(async () => {
  [alice, bob, mallory] = await Promise.all([generateDeviceKey(), generateDeviceKey(), generateDeviceKey()])
})

function context (to: PrivateKey = bob): SignatureContext {
  return { id: random(MESSAGE_ID_BYTES), recipient: peerIdFromPrivateKey(to).toMultihash().bytes, timestamp: 1_700_000_000_000n }
}

function text (body: string): Message {
  return { kind: MessageKind.TEXT, text: body, inviteToken: new Uint8Array(0), name: '', addrs: [], certificate: new Uint8Array(0) }
}

async function expectRejected (body: Uint8Array, ctx: SignatureContext, name: 'InvalidSignatureError' | 'InvalidMessageError'): Promise<void> {
  await expect(openSignedMessage(body, ctx)).rejects.toMatchObject({ name })
}

function tamper (body: Uint8Array, change: Partial<SignedMessage>): Uint8Array {
  return SignedMessage.encode({ ...SignedMessage.decode(body), ...change })
}

describe('signMessage / openSignedMessage', () => {
  it('round-trips: gives the signer and the message', async () => {
    const ctx = context()
    const message = text('hello Bob 👋')
    const opened = await openSignedMessage(await signMessage(alice, ctx, message), ctx)
    expect(opened.sender.equals(peerIdFromPrivateKey(alice))).toBe(true)
    expect(opened.message.kind).toBe(MessageKind.TEXT)
    expect(opened.message.text).toBe('hello Bob 👋')
  })

  it('round-trips an introduction with its token, name and addresses', async () => {
    const ctx = context()
    const message: Message = { kind: MessageKind.INTRO, text: '', inviteToken: random(16), name: 'Alice', addrs: [random(20), random(30)], certificate: random(150), topic: '', payload: new Uint8Array(), file: new Uint8Array(), sentTo: '' }
    const opened = await openSignedMessage(await signMessage(alice, ctx, message), ctx)
    expect(opened.message).toEqual(message)
  })

  it('names the actual signer, whoever the message is for', async () => {
    const ctx = context(alice)
    const opened = await openSignedMessage(await signMessage(mallory, ctx, text('hi')), ctx)
    expect(opened.sender.equals(peerIdFromPrivateKey(mallory))).toBe(true)
    expect(opened.sender.equals(peerIdFromPrivateKey(alice))).toBe(false)
  })

  it('fails with InvalidSignatureError for another message id', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const id = new Uint8Array(ctx.id)
    id[0] = id[0]! ^ 0x01
    await expectRejected(body, { ...ctx, id }, 'InvalidSignatureError')
    await expectRejected(body, { ...ctx, id: random(MESSAGE_ID_BYTES) }, 'InvalidSignatureError')
  })

  it('fails with InvalidSignatureError when re-addressed to another recipient', async () => {
    const ctx = context(bob)
    const body = await signMessage(alice, ctx, text('for Bob only'))
    await expectRejected(body, { ...ctx, recipient: peerIdFromPrivateKey(mallory).toMultihash().bytes }, 'InvalidSignatureError')
  })

  it('fails when bytes move between id and recipient (field boundaries are signed)', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const shifted = { ...ctx, id: Buffer.concat([ctx.id, ctx.recipient.subarray(0, 1)]), recipient: ctx.recipient.subarray(1) }
    await expectRejected(body, shifted, 'InvalidSignatureError')
  })

  it('fails with InvalidSignatureError when re-dated', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    await expectRejected(body, { ...ctx, timestamp: ctx.timestamp + 1n }, 'InvalidSignatureError')
    await expectRejected(body, { ...ctx, timestamp: ctx.timestamp - 60_000n }, 'InvalidSignatureError')
  })

  it('fails with InvalidSignatureError when the message bytes change', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('pay 10'))
    await expectRejected(tamper(body, { message: Message.encode(text('pay 99')) }), ctx, 'InvalidSignatureError')
    const message = new Uint8Array(SignedMessage.decode(body).message)
    message[message.length - 1] = message[message.length - 1]! ^ 0x01
    await expectRejected(tamper(body, { message }), ctx, 'InvalidSignatureError')
  })

  it('fails with InvalidSignatureError when any signature bit flips', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const signature = SignedMessage.decode(body).signature
    expect(signature).toHaveLength(64)
    for (const index of [0, 31, 32, 63]) {
      const flipped = new Uint8Array(signature)
      flipped[index] = flipped[index]! ^ 0x80
      await expectRejected(tamper(body, { signature: flipped }), ctx, 'InvalidSignatureError')
    }
  })

  it('fails with InvalidSignatureError when the sender key is replaced by another key', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const sender = new Uint8Array(publicKeyToProtobuf(mallory.publicKey))
    await expectRejected(tamper(body, { sender }), ctx, 'InvalidSignatureError')
  })

  it('trusts the transport only for the signer itself: delivered by anyone else, the signature is checked', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const signature = new Uint8Array(SignedMessage.decode(body).signature)
    signature[0] = signature[0]! ^ 0x80
    const broken = tamper(body, { signature })
    // Over alice's own Noise-authenticated connection the handshake already proved her key.
    const opened = await openSignedMessage(broken, ctx, { authenticatedPeer: peerIdFromPrivateKey(alice) })
    expect(opened.sender.equals(peerIdFromPrivateKey(alice))).toBe(true)
    // Relayed by mallory, or by nobody in particular, it must verify, and does not.
    await expect(openSignedMessage(broken, ctx, { authenticatedPeer: peerIdFromPrivateKey(mallory) })).rejects.toMatchObject({ name: 'InvalidSignatureError' })
    await expectRejected(broken, ctx, 'InvalidSignatureError')
  })

  it('rejects a signature of the wrong length as invalid, not with a raw TypeError', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    const signature = SignedMessage.decode(body).signature
    for (const bad of [new Uint8Array(0), signature.subarray(0, 63), Buffer.concat([signature, Buffer.from([0])])]) {
      const err = await openSignedMessage(tamper(body, { signature: new Uint8Array(bad) }), ctx).then(() => undefined, (e: Error) => e)
      expect(err?.name).toMatch(/^(InvalidSignatureError|InvalidMessageError)$/)
    }
  })

  it('throws InvalidMessageError for malformed body bytes', async () => {
    const ctx = context()
    await expectRejected(new Uint8Array(0), ctx, 'InvalidMessageError')
    await expectRejected(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), ctx, 'InvalidMessageError')
    const body = await signMessage(alice, ctx, text('hi'))
    await expectRejected(body.subarray(0, body.length - 10), ctx, 'InvalidMessageError')
  })

  it('throws InvalidMessageError for a sender that is not a public key', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    await expectRejected(tamper(body, { sender: random(36) }), ctx, 'InvalidMessageError')
    await expectRejected(tamper(body, { sender: new Uint8Array(0) }), ctx, 'InvalidMessageError')
    await expectRejected(tamper(body, { sender: new Uint8Array(4096) }), ctx, 'InvalidMessageError')
  })

  it('throws InvalidMessageError for a signed message that is not a Message', async () => {
    const ctx = context()
    const body = await signMessage(alice, ctx, text('hi'))
    await expectRejected(tamper(body, { message: new Uint8Array([0x12, 0x7f, 0x61]) }), ctx, 'InvalidMessageError')
  })

  it('throws InvalidMessageError for more than LIMITS.maxAddrs addresses, even when signed', async () => {
    const ctx = context()
    const addrs = (n: number): Array<Uint8Array<ArrayBuffer>> => Array.from({ length: n }, () => random(8))
    const intro = (n: number): Message => ({ kind: MessageKind.INTRO, text: '', inviteToken: random(16), name: 'A', addrs: addrs(n) })
    const ok = await openSignedMessage(await signMessage(alice, ctx, intro(LIMITS.maxAddrs)), ctx)
    expect(ok.message.addrs).toHaveLength(LIMITS.maxAddrs)
    await expectRejected(await signMessage(alice, ctx, intro(LIMITS.maxAddrs + 1)), ctx, 'InvalidMessageError')
  })
})
