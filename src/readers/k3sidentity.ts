// Which K3s release is this? A K3s binary's main module is `(devel)` (it is built from a
// checkout), so the module version says nothing (k3s-io/k3s#8618). K3s's build script sets the
// real version and commit with the linker: `-X github.com/k3s-io/k3s/pkg/version.Version=...`
// and `...GitCommit=...` (github.com/rancher/k3s before the module moved), and Go 1.18+
// records those flags in the build settings. For older binaries, which record no build
// settings, the version can still be read from the string variable the flag set, when
// exactly one string variable holds a K3s-shaped version.

import type { ByteSource } from '../io/bytesource.ts';
import type { GoBuildInfo, K3sIdentity } from '../model/inventory.ts';
import { readElf } from './elf/elf.ts';
import { findGoStringValues } from './go/stringvars.ts';

const K3S_MODULES = ['github.com/k3s-io/k3s', 'github.com/rancher/k3s'];
const DEVEL = '(devel)';
// `v1.31.4+k3s1`, `v1.32.4-rc1+k3s1`, or a development build `v1.31.4+k3s-abcdef12[-dirty]`.
export const K3S_VERSION = /^v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s([0-9]+|-[0-9a-f]{8}(-dirty)?)$/;

/**
 * The K3s identity of a Go binary, or undefined when its module is not K3s. `src` is the ELF
 * the build info came from: when given and the build settings hold no -ldflags, the version
 * is looked for in its string variables (source 'strings'; absent when not exactly one).
 */
export function k3sIdentity(info: GoBuildInfo, src?: ByteSource): K3sIdentity | undefined {
  const modulePath = k3sModule(info);
  if (!modulePath) return undefined;
  const ldflags = info.settings.find((s) => s.key === '-ldflags');
  if (ldflags) {
    const vars = linkerVars(ldflags.value);
    // Prefer the variables of the binary's own module path; K3s never sets both.
    const paths = [modulePath, ...K3S_MODULES.filter((p) => p !== modulePath)];
    const pick = (name: string) =>
      paths.map((p) => vars.get(`${p}/pkg/version.${name}`)).find((v) => v !== undefined && v !== '');
    const identity: K3sIdentity = { modulePath, source: 'ldflags' };
    const version = pick('Version');
    if (version !== undefined && version !== DEVEL) identity.version = version;
    const commit = pick('GitCommit');
    if (commit !== undefined) identity.commit = commit;
    return identity;
  }
  if (src) {
    const values = findGoStringValues(readElf(src), {
      minLength: 10,
      maxLength: 64,
      prefixes: ['v'],
      accept: (v) => K3S_VERSION.test(v),
    });
    // Looked for and not found (or more than one candidate): the version stays unknown.
    return values.length === 1
      ? { modulePath, version: values[0], source: 'strings' }
      : { modulePath, source: 'strings' };
  }
  return { modulePath, source: 'ldflags' };
}

function k3sModule(info: GoBuildInfo): string | undefined {
  const candidates = [info.main?.path, info.path];
  for (const c of candidates) {
    const m = K3S_MODULES.find((p) => c === p || c?.startsWith(`${p}/`));
    if (m) return m;
  }
  return undefined;
}

/**
 * The `-X name=value` assignments in an -ldflags value. The go command splits the flags into
 * words like cmd/internal/quoted.Split (whitespace separates; a word may be wrapped whole in
 * single or double quotes, with no escapes inside), then the linker's flag parser reads
 * `-X name=value`, `-X=name=value` (and the `--X` spellings). The last assignment wins.
 */
export function linkerVars(ldflags: string): Map<string, string> {
  const words = splitQuoted(ldflags);
  const vars = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let assignment: string | undefined;
    if (w === '-X' || w === '--X') assignment = words[++i];
    else if (w.startsWith('-X=')) assignment = w.slice(3);
    else if (w.startsWith('--X=')) assignment = w.slice(4);
    if (assignment === undefined) continue;
    const eq = assignment.indexOf('=');
    if (eq <= 0) continue;
    vars.set(assignment.slice(0, eq), stripQuotes(assignment.slice(eq + 1)));
  }
  return vars;
}

function splitQuoted(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    const q = s[i];
    if (q === '"' || q === "'") {
      const end = s.indexOf(q, i + 1);
      if (end < 0) break; // the go command rejects an unterminated quote; so nothing follows
      words.push(s.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < s.length && !/\s/.test(s[i] as string)) i++;
    words.push(s.slice(start, i));
  }
  return words;
}

// `-X=name='v1.2.3+k3s1'` keeps the quotes in the value as far as the linker is concerned;
// no K3s version contains quotes, so a value wrapped whole in a pair of them is unwrapped.
function stripQuotes(v: string): string {
  const q = v[0];
  return v.length >= 2 && (q === '"' || q === "'") && v[v.length - 1] === q ? v.slice(1, -1) : v;
}
