/**
 * What may not reach a terminal from a string someone else controls:
 * - every control character (`\p{Cc}`: C0 U+0000–U+001F with TAB, LF and CR, DEL U+007F, and
 *   C1 U+0080–U+009F, where U+009B is a one-byte CSI on some terminals): ESC starts the
 *   sequences that move the cursor, recolour, retitle the window or set the clipboard (OSC 52);
 *   CR and BS move back over what is already on the line; LF starts a line that can pass for
 *   another sender's;
 * - the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
 *   which reorder what follows them on the line (a name that ends in U+202E turns the rest of
 *   the line around), and the line and paragraph separators U+2028 and U+2029;
 * - lone surrogates (half of a UTF-16 pair): not a terminal attack (they are written as U+FFFD),
 *   but a sign of tampering a user should see.
 */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu

const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' }

function escape (c: string): string {
  const code = c.charCodeAt(0)
  return SHORT[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
}

/**
 * Make a string a peer controls (a message, a contact's, device's or group's name, a file name,
 * an error that quotes one) safe to print on a terminal, on one line: each character above is
 * replaced by a visible escape (`\x1b`, `\r`, `\n`, `\x9b`, `\u202e`), so the user sees that
 * something was there and nothing can act on the terminal. Everything else (emoji, any script,
 * a backslash typed as such) is kept as it is.
 *
 * For human output only: `--json` keeps the real text (JSON escapes controls itself).
 */
export function safeText (s: string): string {
  return s.replace(UNSAFE, escape)
}

/**
 * A message text that may span lines: each line made safe with {@link safeText}, and every line
 * after the first starts with `indent`. A message keeps its line breaks (LF or CR LF), but none
 * of its lines can start at the left margin, where a new message's `[12:03] name:` starts, so
 * no line passes for one from someone else. A lone CR is escaped like any other control.
 *
 * @param indent - non-empty white space that continuation lines start with
 */
export function safeLines (text: string, indent: string): string {
  return text.split(/\r?\n/).map(safeText).join('\n' + indent)
}
