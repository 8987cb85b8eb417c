import { describe, expect, it } from 'vitest'
import { Ack, AckStatus, ENCRYPTION_NONE, ENVELOPE_VERSION, Envelope, LIMITS, MessageKind, SignedMessage, random, toHex } from '@kith/core'
import type { Message } from '@kith/core'
import { generateDeviceKey, signMessage } from '@kith/crypto'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeFrame, encodeAck, openEnvelope } from '../src/inbound.js'

const sender = await generateDeviceKey()
const receiver = await generateDeviceKey()
const self = peerIdFromPrivateKey(receiver).toMultihash().bytes

const text = (t: string): Message => ({ kind: MessageKind.TEXT, text: t, name: '', inviteToken: new Uint8Array(), addrs: [] })

/** A signed envelope as an honest sender writes it; `overrides` change the envelope after signing. */
async function envelope (message: Message = text('hello'), overrides: Partial<Envelope> = {}): Promise<{ frame: Uint8Array, id: Uint8Array }> {
  const id = random(16)
  const recipient = new Uint8Array(self)
  const timestamp = 1_700_000_000_000n
  const body = new Uint8Array(await signMessage(sender, { id, recipient, timestamp }, message))
  const fields = { version: ENVELOPE_VERSION, id, recipient, timestamp, encryption: ENCRYPTION_NONE, body, ...overrides }
  return { frame: Envelope.encode(fields), id: fields.id }
}

/** Re-encode a SignedMessage body with one field changed. */
function tamper (body: Uint8Array, change: Partial<SignedMessage>): Uint8Array<ArrayBuffer> {
  return SignedMessage.encode({ ...SignedMessage.decode(body), ...change })
}

/** Decode a frame that must pass the cheap checks, then open it. */
async function open (frame: Uint8Array): Promise<Awaited<ReturnType<typeof openEnvelope>>> {
  const decoded = decodeFrame(frame, self)
  if (!decoded.ok) throw new Error(`frame refused as ${decoded.reason}`)
  return await openEnvelope(decoded.envelope)
}

describe('decodeFrame', () => {
  it('passes a well-formed envelope addressed to us', async () => {
    const { frame, id } = await envelope(text('hello there'))
    const decoded = decodeFrame(frame, self)
    expect(decoded).toMatchObject({ ok: true, id, hexId: toHex(id) })
    if (decoded.ok) expect(decoded.envelope.timestamp).toBe(1_700_000_000_000n)
  })

  it.each([
    ['a newer version', { version: ENVELOPE_VERSION + 1 }],
    ['an unknown encryption', { encryption: 1 }],
    ['another recipient', { recipient: new Uint8Array(peerIdFromPrivateKey(sender).toMultihash().bytes) }]
  ])('refuses %s as invalid, with the id to ack it', async (_what, overrides) => {
    const { frame, id } = await envelope(text('hello'), overrides)
    expect(decodeFrame(frame, self)).toEqual({ ok: false, reason: 'invalid', id })
  })

  it.each([
    ['an id of 15 bytes', async () => (await envelope(text('hi'), { id: random(15) })).frame],
    ['an id of 17 bytes', async () => (await envelope(text('hi'), { id: random(17) })).frame],
    ['random bytes', () => random(40)],
    ['an empty frame', () => new Uint8Array()],
    ['a frame cut short', async () => (await envelope()).frame.subarray(0, 30)],
    ['a frame with an unknown field', async () => Uint8Array.from([...(await envelope()).frame, 0x38, 0x01])]
  ])('refuses %s as invalid, with no id to ack', async (_what, make) => {
    const decoded = decodeFrame(await make(), self)
    expect(decoded).toEqual({ ok: false, reason: 'invalid' })
    expect('id' in decoded).toBe(false)
  })
})

describe('openEnvelope', () => {
  it('opens a text message and names its sender', async () => {
    const opened = await open((await envelope(text('hello there'))).frame)
    if (typeof opened === 'string') throw new Error(`refused as ${opened}`)
    expect(opened.sender.equals(peerIdFromPrivateKey(sender))).toBe(true)
    expect(opened.message).toMatchObject({ kind: MessageKind.TEXT, text: 'hello there' })
  })

  it('opens an introduction carrying an invite token', async () => {
    const token = random(16)
    const opened = await open((await envelope({ kind: MessageKind.INTRO, text: '', name: 'bob', inviteToken: token, addrs: [] })).frame)
    if (typeof opened === 'string') throw new Error(`refused as ${opened}`)
    expect(opened.message).toMatchObject({ kind: MessageKind.INTRO, name: 'bob', inviteToken: token })
  })

  it('refuses an empty text and a text over the limit, accepts one at the limit', async () => {
    for (const t of ['', 'x'.repeat(LIMITS.maxTextBytes + 1), 'é'.repeat(LIMITS.maxTextBytes / 2 + 1)]) {
      expect(await open((await envelope(text(t))).frame)).toBe('invalid')
    }
    expect(await open((await envelope(text('x'.repeat(LIMITS.maxTextBytes)))).frame)).toMatchObject({ message: { kind: MessageKind.TEXT } })
  })

  it('refuses an introduction whose name or address is over the limit', async () => {
    const intro = (over: Partial<Message>): Message => ({ kind: MessageKind.INTRO, text: '', name: 'bob', inviteToken: random(16), addrs: [], ...over })
    expect(await open((await envelope(intro({ name: 'n'.repeat(LIMITS.maxNameBytes + 1) }))).frame)).toBe('invalid')
    expect(await open((await envelope(intro({ addrs: [random(LIMITS.maxAddrBytes + 1)] }))).frame)).toBe('invalid')
  })

  it('refuses a message of an unknown kind as invalid', async () => {
    // Kind 7 does not exist: encode the Message by hand and sign it as the sender would.
    const id = random(16)
    const recipient = new Uint8Array(self)
    const timestamp = 1_700_000_000_000n
    const message = Uint8Array.from([0x08, 0x07, 0x12, 0x02, 0x68, 0x69])
    const ts = new Uint8Array(8)
    new DataView(ts.buffer).setBigUint64(0, timestamp)
    const lengths = Uint8Array.from([0, id.length, 0, recipient.length])
    const signed = Buffer.concat([new TextEncoder().encode('kith/dm/v1'), lengths, id, recipient, ts, message])
    const body = SignedMessage.encode({ sender: new Uint8Array(publicKeyToProtobuf(sender.publicKey)), message, signature: new Uint8Array(await sender.sign(signed)) })
    expect(await open(Envelope.encode({ version: ENVELOPE_VERSION, id, recipient, timestamp, encryption: ENCRYPTION_NONE, body }))).toBe('invalid')
  })

  it('refuses a bad signature as forged', async () => {
    const decoded = Envelope.decode((await envelope()).frame)
    const signature = SignedMessage.decode(decoded.body).signature
    signature[10] = (signature[10] ?? 0) ^ 0x01
    expect(await open(Envelope.encode({ ...decoded, body: tamper(decoded.body, { signature }) }))).toBe('forged')
    // A genuine signature moved to another time or id no longer verifies.
    expect(await open(Envelope.encode({ ...decoded, timestamp: decoded.timestamp + 1n }))).toBe('forged')
    expect(await open(Envelope.encode({ ...decoded, id: random(16) }))).toBe('forged')
    // Signed by one key, claiming to come from another.
    const other = await generateDeviceKey()
    expect(await open(Envelope.encode({ ...decoded, body: tamper(decoded.body, { sender: new Uint8Array(publicKeyToProtobuf(other.publicKey)) }) }))).toBe('forged')
  })

  it('refuses a body that is not a signed message as invalid, not forged', async () => {
    expect(await open((await envelope(text('hello'), { body: random(20) })).frame)).toBe('invalid')
    const decoded = Envelope.decode((await envelope()).frame)
    expect(await open(Envelope.encode({ ...decoded, body: tamper(decoded.body, { signature: random(63) }) }))).toBe('invalid')
  })
})

describe('encodeAck', () => {
  it('encodes the id and status of an ack', () => {
    const id = random(16)
    expect(Ack.decode(encodeAck(id, AckStatus.REFUSED))).toEqual({ id, status: AckStatus.REFUSED })
    expect(Ack.decode(encodeAck(id, AckStatus.OK))).toEqual({ id, status: AckStatus.OK })
  })
})
