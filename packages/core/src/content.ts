import { decodeCanonical } from './canonical.js'
import { fromHex, toHex, utf8Length } from './bytes.js'
import { LIMITS, MESSAGE_ID_BYTES } from './constants.js'
import { EmptyMessageError, InvalidMessageError, InvalidReactionError, MessageTooLargeError } from './errors.js'
import { checkFileOffer } from './file-offer.js'
import { Content } from './proto/content.js'
import type { FileOffer } from './proto/content.js'

/** Limits of a message's content, checked before decoding (size) and after (each field). */
export const CONTENT_LIMITS = {
  /** Largest encoded content: the longest text, the id it answers, and framing. */
  maxBytes: LIMITS.maxTextBytes + 64,
  /** Longest reaction, in UTF-8 bytes (a family emoji with skin tones is 25). */
  maxReactionBytes: 32
} as const

/**
 * What a person wrote, as the rest of Kith sees it: one of these kinds. Message ids are hex.
 * `reaction`, `edit` and `delete` change the message `to` names; only its author may edit or
 * delete it.
 */
export type MessageContent =
  | { type: 'text', text: string }
  | { type: 'file', file: FileOffer }
  | { type: 'reply', to: string, text: string }
  | { type: 'reaction', to: string, emoji: string, remove: boolean }
  | { type: 'edit', to: string, text: string }
  | { type: 'delete', to: string }

/** The content kinds that change another message rather than adding one to the conversation. */
export type ChangeContent = Extract<MessageContent, { to: string }>

/**
 * Encode content a user wrote, refusing what breaks the limits with the error a user should
 * see (an empty or too long text, a reaction that is not one emoji).
 *
 * @throws {EmptyMessageError | MessageTooLargeError | InvalidReactionError | InvalidMessageError}
 */
export function encodeContent (content: MessageContent): Uint8Array<ArrayBuffer> {
  checkContent(content, (message, Err) => new Err(message))
  return Content.encode(toWire(content))
}

/**
 * Decode content strictly: size first, then the one canonical protobuf encoding with exactly
 * one kind set, then every field's limits. Whatever is wrong is an {@link InvalidMessageError}.
 *
 * @throws {InvalidMessageError}
 */
export function decodeContent (bytes: Uint8Array): MessageContent {
  if (bytes.length > CONTENT_LIMITS.maxBytes) throw new InvalidMessageError('content is too large')
  const wire = decodeCanonical(Content, bytes, 'content')
  const content = fromWire(wire)
  checkContent(content, (message) => new InvalidMessageError(`invalid content: ${message}`))
  return content
}

/** Whether a reaction is one emoji: a single grapheme that holds a pictograph (or flag, or keycap), short, no control characters. */
export function validReaction (emoji: string): boolean {
  if (emoji.length === 0 || utf8Length(emoji) > CONTENT_LIMITS.maxReactionBytes) return false
  if (/\p{Cc}/u.test(emoji) || !/\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u.test(emoji)) return false
  return [...graphemes.segment(emoji)].length === 1
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })
const MESSAGE_ID = new RegExp(`^[0-9a-f]{${MESSAGE_ID_BYTES * 2}}$`)

type ErrorClass = new (message: string) => Error
type Fail = (message: string, Err: ErrorClass) => Error

function checkContent (content: MessageContent, fail: Fail): void {
  if ('to' in content && !MESSAGE_ID.test(content.to)) throw fail('the message it names is not a message id', InvalidMessageError)
  if ('text' in content) checkText(content.text, fail)
  if (content.type === 'reaction' && !validReaction(content.emoji)) throw fail(`a reaction is one emoji of at most ${CONTENT_LIMITS.maxReactionBytes} bytes`, InvalidReactionError)
  if (content.type === 'file') checkFileOffer(content.file)
}

function checkText (text: string, fail: Fail): void {
  if (text.length === 0) throw fail('a message needs some text', EmptyMessageError)
  if (utf8Length(text) > LIMITS.maxTextBytes) throw fail(`a message is at most ${LIMITS.maxTextBytes} bytes`, MessageTooLargeError)
}

function toWire (content: MessageContent): Content {
  switch (content.type) {
    case 'text': return { text: { text: content.text } }
    case 'file': return { file: content.file }
    case 'reply': return { reply: { to: fromHex(content.to), text: content.text } }
    case 'reaction': return { reaction: { to: fromHex(content.to), emoji: content.emoji, remove: content.remove } }
    case 'edit': return { edit: { to: fromHex(content.to), text: content.text } }
    case 'delete': return { delete: { to: fromHex(content.to) } }
  }
}

function fromWire (wire: Content): MessageContent {
  if (wire.text != null) return { type: 'text', text: wire.text.text }
  if (wire.file != null) return { type: 'file', file: wire.file }
  if (wire.reply != null) return { type: 'reply', to: toHex(wire.reply.to), text: wire.reply.text }
  if (wire.reaction != null) return { type: 'reaction', to: toHex(wire.reaction.to), emoji: wire.reaction.emoji, remove: wire.reaction.remove }
  if (wire.edit != null) return { type: 'edit', to: toHex(wire.edit.to), text: wire.edit.text }
  if (wire.delete != null) return { type: 'delete', to: toHex(wire.delete.to) }
  throw new InvalidMessageError('malformed content: no kind set')
}
