// Alpine package version ordering, as apk-tools (2.14 and 3.x, src/version.c) orders versions,
// for matching the Alpine OSV records against an image's apk database.
//
// Grammar: `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`, e.g. `1.2.3a_rc2-r1`.
// A version is a chain of tokens, each introduced by its first character, each kind allowed only
// after the kinds before it in that grammar; two versions are compared token by token while
// both have a token of the same kind. What that means for advisories:
// - `_alpha` < `_beta` < `_pre` < `_rc` < (no suffix) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`;
// - when one version is a prefix of the other, the longer one is greater (`1.0` < `1.0.1`,
//   `1.0` < `1.0-r1`, `1.0` < `1.0a`) unless what it adds is a pre-release suffix (`1.0_rc1`);
// - a component after a dot with a leading zero compares as a string, like a decimal fraction
//   (`1.01` < `1.1`, `1.0` < `1.00`), as Gentoo specifies; the first component is a number
//   (`006` is 6).
// Invalid versions (`1.0bc`, `1_foo`) still get apk's answer from `compareApkLoose`, but
// `compareApkVersions` refuses them: an advisory must not be decided on a guess.

// Token kinds in grammar order; a later kind never precedes an earlier one except where the
// grammar repeats (`.digits`, `_suffix[digits]`). The order also decides "the longer is
// greater": when one side ends (END) the other side's token kind is lower, so it wins.
const INITIAL_DIGIT = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const COMMIT_HASH = 5;
const REVISION_NO = 6;
const END = 7;
const INVALID = 8;

// Suffix ranks: below NONE is a pre-release. Matched whole (`_patch` is invalid, not `_p`).
const NONE = 4;
const SUFFIXES: Record<string, number> = { alpha: 0, beta: 1, pre: 2, rc: 3, cvs: 5, svn: 6, git: 7, hg: 8, p: 9 };

interface Token {
  kind: number;
  /** The token's characters (digits without the dot, the letter, the suffix name, the hash). */
  text: string;
  /** DIGIT kinds: the value; SUFFIX: the rank; LETTER: the character code. */
  rank: bigint;
}

/** Reads the token starting at `at`, given the kind of the token before it; returns it and where the next starts. */
function readToken(version: string, at: number, previous: number): { token: Token; end: number } {
  const invalid = { token: { kind: INVALID, text: '', rank: 0n }, end: at };
  if (at >= version.length) return { token: { kind: END, text: '', rank: 0n }, end: at };
  const c = version[at] as string;
  const span = (from: number, re: RegExp): string => re.exec(version.slice(from))?.[0] ?? '';
  const digits = (from: number, kind: number): { token: Token; end: number } => {
    const run = span(from, /^[0-9]+/);
    if (run === '') return invalid;
    return { token: { kind, text: run, rank: BigInt(run) }, end: from + run.length };
  };
  if (c >= 'a' && c <= 'z') {
    if (previous > DIGIT) return invalid; // one letter, right after a number
    return { token: { kind: LETTER, text: c, rank: BigInt(c.charCodeAt(0)) }, end: at + 1 };
  }
  if (c === '.') return previous > DIGIT ? invalid : digits(at + 1, DIGIT);
  if (c >= '0' && c <= '9') return previous === SUFFIX ? digits(at, SUFFIX_NO) : invalid;
  if (c === '_') {
    if (previous > SUFFIX_NO) return invalid;
    const name = span(at + 1, /^[a-z]*/);
    const rank = SUFFIXES[name];
    if (rank === undefined) return invalid;
    return { token: { kind: SUFFIX, text: name, rank: BigInt(rank) }, end: at + 1 + name.length };
  }
  if (c === '~') {
    if (previous >= COMMIT_HASH) return invalid;
    const hash = span(at + 1, /^[0-9a-f]+/);
    if (hash === '') return invalid;
    return { token: { kind: COMMIT_HASH, text: hash, rank: 0n }, end: at + 1 + hash.length };
  }
  if (c === '-' && version[at + 1] === 'r' && previous < REVISION_NO) return digits(at + 2, REVISION_NO);
  return invalid;
}

/** All tokens of a version; the last one is END or INVALID. */
function tokens(version: string): Token[] {
  const first = /^[0-9]+/.exec(version)?.[0];
  if (first === undefined) return [{ kind: INVALID, text: '', rank: 0n }];
  const out: Token[] = [{ kind: INITIAL_DIGIT, text: first, rank: BigInt(first) }];
  let at = first.length;
  for (;;) {
    const { token, end } = readToken(version, at, (out[out.length - 1] as Token).kind);
    out.push(token);
    if (token.kind === END || token.kind === INVALID) return out;
    at = end;
  }
}

/** Byte order, then the shorter first: apk's string sort (versions are ASCII). */
function stringOrder(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Two tokens of the same kind. */
function compareTokens(a: Token, b: Token): number {
  // A leading zero makes the component a fraction-like string (Gentoo's rule); hashes have no order but their text.
  if ((a.kind === DIGIT && (a.text.startsWith('0') || b.text.startsWith('0'))) || a.kind === COMMIT_HASH) {
    return stringOrder(a.text, b.text);
  }
  return a.rank === b.rank ? 0 : a.rank < b.rank ? -1 : 1;
}

/** Whether apk-tools accepts the version (`apk version -c`). */
export function isValidApkVersion(version: string): boolean {
  const all = tokens(version);
  return all[all.length - 1]?.kind === END;
}

/** apk-tools' answer for two versions, valid or not (`apk version -t`): -1, 0 or 1. */
export function compareApkLoose(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  let i = 0;
  for (; ; i++) {
    const x = ta[i] as Token;
    const y = tb[i] as Token;
    if (x.kind !== y.kind || x.kind >= END) break;
    const r = compareTokens(x, y);
    if (r !== 0) return r;
  }
  const x = ta[i] as Token;
  const y = tb[i] as Token;
  if (x.kind === y.kind) return 0;
  // Equal so far and one goes on: it is greater, unless it goes on with a pre-release suffix.
  if (x.kind === SUFFIX && x.rank < NONE) return -1;
  if (y.kind === SUFFIX && y.rank < NONE) return 1;
  return x.kind > y.kind ? -1 : 1;
}

/** Compares two apk versions; undefined when either is invalid. */
export function compareApkVersions(a: string, b: string): number | undefined {
  if (!isValidApkVersion(a) || !isValidApkVersion(b)) return undefined;
  return compareApkLoose(a, b);
}
