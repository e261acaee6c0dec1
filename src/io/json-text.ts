// JSON from input, parsed with its nesting bounded. JSON.parse builds every array and object
// it opens, so a 16 MiB file of `[` makes sixteen million nested arrays (about a gigabyte)
// before it fails or succeeds; no document k3sguard reads nests more than a few levels. The
// text is scanned first (one pass, no allocation) and refused past LIMITS.jsonDepth.
import { LIMITS } from '../model/limits.ts';

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when arrays and objects in `text` nest deeper than `max` (strings are skipped). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/**
 * JSON.parse, after the nesting check. Throws a SyntaxError either way, so callers that
 * report "not JSON: <why>" keep doing so.
 */
export function parseJsonText(text: string, maxDepth: number = LIMITS.jsonDepth): unknown {
  if (nestsDeeperThan(text, maxDepth)) {
    throw new SyntaxError(`nested more than ${maxDepth} levels deep (the limit for JSON input)`);
  }
  return JSON.parse(text);
}
