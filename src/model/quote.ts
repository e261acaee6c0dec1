// Text taken from inputs (file and member names, Go module paths, advisory ids and summaries,
// lines of audited files) is shown to a person at a terminal. There a control character is a
// command, not text: ESC [ recolours, moves the cursor or rewrites the window title, a carriage
// return overwrites what was printed, a newline forges a line of a table or splits a one-line
// error in two, and a bidi override shows characters in another order than they are. Every
// human-readable output passes such text through quoteControls; JSON and SARIF keep it exact
// (JSON.stringify escapes C0 itself, and a program reads the value, not the glyphs).

/** C0, DEL and C1 (Unicode Cc), and the bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9). */
const CONTROL = /[\p{Cc}\p{Bidi_Control}]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0) as number;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with each control character written as an escape: `\n`, `\r`, `\t`, `\xHH` for the
 * rest below U+0100 (ESC is `\x1b`), `\uHHHH` for a bidi control. Everything else, backslashes
 * included, is left as it is, so ordinary text reads the same and quoting twice changes nothing.
 */
export function quoteControls(text: string): string {
  return text.replace(CONTROL, escapeOne);
}
