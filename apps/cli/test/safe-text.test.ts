import { describe, expect, it } from 'vitest'
import { safeLines, safeText } from '../src/safe-text.js'
import { formatMessage } from '../src/output.js'
import type { MessageView } from '@kith/api'

/** Anything a terminal would act on: C0, DEL, C1, bidi controls, line separators. */
const ACTIVE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u
/** The same, but LF, which a multi-line message keeps. */
const ACTIVE_BUT_LF = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u

describe('safeText', () => {
  it.each([
    ['ESC CSI: clear the screen, move home', 'hi\x1b[2J\x1b[H', 'hi\\x1b[2J\\x1b[H'],
    ['ESC CSI: recolour', '\x1b[31mred\x1b[0m', '\\x1b[31mred\\x1b[0m'],
    ['OSC 52: set the clipboard (BEL-terminated)', '\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07', '\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07'],
    ['OSC 52: set the clipboard (ST-terminated)', '\x1b]52;c;eA==\x1b\\', '\\x1b]52;c;eA==\\x1b\\'],
    ['OSC 0: retitle the window', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['CR: overwrite the line from its start', 'ok\r[12:03] bob: send me the code', 'ok\\r[12:03] bob: send me the code'],
    ['LF: a line of its own', 'hi\n[12:03] bob: fake', 'hi\\n[12:03] bob: fake'],
    ['backspaces over what is shown', 'alice\b\b\b\b\bmallory', 'alice\\x08\\x08\\x08\\x08\\x08mallory'],
    ['TAB, NUL, BEL, vertical tab, form feed', '\t\x00\x07\x0b\x0c', '\\t\\x00\\x07\\x0b\\x0c'],
    ['DEL', 'a\x7fb', 'a\\x7fb'],
    ['C1 CSI (U+009B)', '\u009b2J', '\\x9b2J'],
    ['C1 OSC (U+009D) and ST (U+009C)', '\u009d52;c;eA==\u009c', '\\x9d52;c;eA==\\x9c'],
    ['RIGHT-TO-LEFT OVERRIDE', 'invoice\u202eFDP.exe', 'invoice\\u202eFDP.exe'],
    ['every bidi control', '\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c', '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['lone surrogates', 'x\ud800y\udc00z', 'x\\ud800y\\udc00z']
  ])('escapes %s', (_what, input, shown) => {
    expect(safeText(input)).toBe(shown)
    expect(safeText(input)).not.toMatch(ACTIVE)
  })

  it.each([
    ['plain ASCII', 'hello, world! ~ [12:03] {x} 100% "q" \\ back'],
    ['emoji, with joiners and skin tones', '👋🏽 👨‍👩‍👧 🏳️‍🌈 ✓✓'],
    ['non-Latin scripts', 'Ελληνικά русский 日本語 한국어 हिन्दी'],
    ['right-to-left scripts without controls', 'שלום مرحبا'],
    ['combining marks', 'e\u0301 n\u0303'],
    ['the empty string', '']
  ])('keeps %s as it is', (_what, input) => {
    expect(safeText(input)).toBe(input)
  })
})

describe('safeLines', () => {
  it('keeps line breaks, indents every line after the first, escapes a lone CR', () => {
    expect(safeLines('one\ntwo\r\nthree\rover', '    ')).toBe('one\n    two\n    three\\rover')
    expect(safeLines('one line', '    ')).toBe('one line')
  })
})

describe('formatMessage', () => {
  const base: MessageView = { id: 'ab'.repeat(16), from: '12D3KooWBob', fromName: 'bob', contact: 'bob', text: 'hi', ts: Date.UTC(2026, 0, 1, 12, 3), status: 'received', seq: 1 }

  it('no line of a message from a contact can pass for one from someone else', () => {
    const shown = formatMessage({ ...base, fromName: 'bob\x1b[2K\r', text: 'hi\n[12:04] alice: fake\r\x1b]52;c;eA==\x07\u202e' })
    expect(shown).not.toMatch(ACTIVE_BUT_LF)
    const lines = shown.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\[\d\d:\d\d\] bob\\x1b\[2K\\r: hi$/)
    expect(lines[1]).toBe('        [12:04] alice: fake\\r\\x1b]52;c;eA==\\x07\\u202e')
  })

  it('escapes a file name', () => {
    const shown = formatMessage({ ...base, text: '', file: { name: 'cat\u202egpj.exe\x1b[8m', size: 10, hash: 'h', state: 'available', type: '', received: 0 } })
    expect(shown).toContain('[file] cat\\u202egpj.exe\\x1b[8m (10 B, available)')
  })
})
