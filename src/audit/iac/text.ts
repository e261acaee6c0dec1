// Positions: every finding names a 1-based line and column of the file as it is on disk, even
// when the code checked is a string inside the file (a YAML `run: |` block, a folded scalar,
// a quoted string with escapes, a Terraform heredoc). Embedded text is aligned back to its
// source character by character, so a token's place is where a reader's cursor would go.

export interface Place {
  line: number;
  column: number;
}

/** Maps an offset of the analysed text to its place in the file. */
export type PlaceOf = (offset: number) => Place;

export class LineIndex {
  readonly text: string;
  private readonly starts: number[] = [0];

  constructor(text: string) {
    this.text = text;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  place(offset: number): Place {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] as number) + 1 };
  }

  /** Offset of the start of 1-based `line`. */
  lineStart(line: number): number {
    return this.starts[line - 1] ?? this.text.length;
  }

  lineText(line: number): string {
    const start = this.starts[line - 1];
    if (start === undefined) return '';
    const end = this.text.indexOf('\n', start);
    return this.text.slice(start, end < 0 ? this.text.length : end).replace(/\r$/, '');
  }
}

const LOOKAHEAD = 256;

/**
 * For each offset of `value` (a scalar's value), the offset in `source` it was written at,
 * from `sourceStart` on. Greedy: each character is matched to the next equal source character
 * (within a short lookahead), which skips indentation, quotes, escapes and folded newlines.
 */
export function alignOffsets(value: string, source: string, sourceStart: number): Int32Array {
  const out = new Int32Array(value.length + 1);
  let p = sourceStart;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const limit = Math.min(source.length, p + LOOKAHEAD);
    let q = p;
    // A folded newline is a space in the value; an escaped one is two characters in the source.
    while (q < limit && source[q] !== c && !(c === ' ' && source[q] === '\n')) q++;
    if (q < limit) {
      out[i] = q;
      p = q + 1;
    } else out[i] = p;
  }
  out[value.length] = p;
  return out;
}

/** The PlaceOf of text embedded at `value` in a file, aligned against the file's text. */
export function embeddedPlaces(value: string, file: LineIndex, sourceStart: number): PlaceOf {
  const map = alignOffsets(value, file.text, sourceStart);
  return (offset) => file.place(map[Math.min(Math.max(offset, 0), value.length)] as number);
}

/** The PlaceOf of a text that is a contiguous slice of the file starting at `start`. */
export function slicePlaces(file: LineIndex, start: number): PlaceOf {
  return (offset) => file.place(start + offset);
}

/** NUL bytes or invalid UTF-8 (U+FFFD after decoding) in the first 8 KiB: not a text file. */
export function looksBinary(buf: Buffer): boolean {
  const head = buf.subarray(0, 8192);
  if (head.includes(0)) return true;
  // `stream`: a character cut at the 8 KiB boundary is held back, not decoded as invalid.
  return new TextDecoder('utf-8', { fatal: false })
    .decode(head, { stream: head.length < buf.length })
    .includes('\uFFFD');
}

/** Several script fragments run by one shell in sequence (GitLab `script:` lines, cloud-init `runcmd`), as one text. */
export function joinScripts(parts: Array<{ text: string; placeOf: PlaceOf }>): { text: string; placeOf: PlaceOf } {
  const starts: number[] = [];
  let text = '';
  for (const p of parts) {
    starts.push(text.length);
    text += `${p.text}\n`;
  }
  const placeOf: PlaceOf = (offset) => {
    let i = starts.length - 1;
    while (i > 0 && (starts[i] as number) > offset) i--;
    const part = parts[i];
    return part ? part.placeOf(offset - (starts[i] as number)) : { line: 1, column: 1 };
  };
  return { text, placeOf };
}
