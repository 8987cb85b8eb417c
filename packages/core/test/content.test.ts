import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CONTENT_LIMITS, LIMITS, decodeContent, encodeContent, validReaction } from '../src/index.js'
import type { MessageContent } from '../src/index.js'
import { Content } from '../src/proto/content.js'

const ID = 'ab'.repeat(16)
const FILE = { root: new Uint8Array(32).fill(1), key: new Uint8Array(32).fill(2), size: 1234, name: 'photo.jpg', type: 'image/jpeg' }

const every: MessageContent[] = [
  { type: 'text', text: 'hello' },
  { type: 'file', file: FILE },
  { type: 'reply', to: ID, text: 'yes' },
  { type: 'reaction', to: ID, emoji: '👍', remove: false },
  { type: 'reaction', to: ID, emoji: '👨‍👩‍👧‍👦', remove: true },
  { type: 'edit', to: ID, text: 'hello, fixed' },
  { type: 'delete', to: ID }
]

describe('message content (one format for 1:1 and groups)', () => {
  it('round-trips every kind', () => {
    for (const content of every) expect(decodeContent(encodeContent(content))).toEqual(content)
  })

  it('round-trips any valid text, reply and edit', () => {
    const text = fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' })
    const id = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(b => Buffer.from(b).toString('hex'))
    const content = fc.oneof(
      text.map(t => ({ type: 'text', text: t }) as const),
      fc.tuple(id, text).map(([to, t]) => ({ type: 'reply', to, text: t }) as const),
      fc.tuple(id, text).map(([to, t]) => ({ type: 'edit', to, text: t }) as const),
      id.map(to => ({ type: 'delete', to }) as const)
    )
    fc.assert(fc.property(content, c => { expect(decodeContent(encodeContent(c))).toEqual(c) }))
  })

  it('refuses what a user typed wrong with the error the user should see', () => {
    expect(() => encodeContent({ type: 'text', text: '' })).toThrow(expect.objectContaining({ name: 'EmptyMessageError' }))
    expect(() => encodeContent({ type: 'edit', to: ID, text: 'x'.repeat(LIMITS.maxTextBytes + 1) })).toThrow(expect.objectContaining({ name: 'MessageTooLargeError' }))
    for (const emoji of ['', '👍👍', 'A', 'ab', '\u0007', '👍\u0007', '👍'.repeat(9)]) {
      expect(() => encodeContent({ type: 'reaction', to: ID, emoji, remove: false }), emoji).toThrow(expect.objectContaining({ name: 'InvalidReactionError' }))
    }
    expect(() => encodeContent({ type: 'delete', to: 'not-an-id' })).toThrow(expect.objectContaining({ name: 'InvalidMessageError' }))
  })

  it('accepts one emoji of up to 32 bytes as a reaction', () => {
    for (const emoji of ['👍', '❤️', '🇫🇷', '👩🏽‍💻', '1️⃣', '👨‍👩‍👧‍👦']) expect(validReaction(emoji), emoji).toBe(true)
  })

  it('decodes strictly: size first, one canonical kind, every limit', () => {
    const bad = (bytes: Uint8Array): void => { expect(() => decodeContent(bytes)).toThrow(expect.objectContaining({ name: 'InvalidMessageError' })) }
    bad(new Uint8Array(CONTENT_LIMITS.maxBytes + 1))
    bad(new Uint8Array()) // no kind set
    bad(new Uint8Array([0xff, 0xff])) // not protobuf
    // Two kinds in one: protobuf keeps the last, the canonical check refuses it.
    const text = Content.encode({ text: { text: 'a' } })
    const del = Content.encode({ delete: { to: Buffer.from(ID, 'hex') } })
    bad(Buffer.concat([text, del]))
    // An unknown field after a valid kind.
    bad(Buffer.concat([text, Buffer.from([0x78, 0x01])]))
    // Limits a sender's own encoder would have refused.
    bad(Content.encode({ text: { text: '' } }))
    bad(Content.encode({ reaction: { to: Buffer.from(ID, 'hex'), emoji: '👍👍', remove: false } }))
    bad(Content.encode({ edit: { to: new Uint8Array(15), text: 'x' } }))
    bad(Content.encode({ file: { ...FILE, key: new Uint8Array(31) } }))
  })
})
