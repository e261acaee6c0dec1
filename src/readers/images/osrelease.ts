// /etc/os-release (os-release(5)): which distribution and release an image is, so its packages
// get the right purl namespace and `distro` qualifier and are matched against the right
// advisories (Debian 12 and Debian 11 fix the same CVE in different versions).
//
// The file is a list of shell-style `KEY=value` assignments, but it must not be executed: values
// come from an untrusted image. So the quoting rules are applied by hand: double quotes, where a
// backslash escapes only `$ " \ \``; single quotes, literal; unquoted text, where a backslash
// escapes the next character. Unknown keys are kept; malformed lines are skipped, as systemd does.

export interface OsRelease {
  /** `ID`, lower-case (`debian`, `alpine`, `ubuntu`); `linux` when absent, as the spec says. */
  id: string;
  /** `ID_LIKE`, split on spaces (`ubuntu` says `debian`). */
  idLike: string[];
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  /** Every well-formed assignment, by key. */
  fields: Record<string, string>;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The value of one assignment's right-hand side, or undefined when its quoting is broken. */
export function unquoteOsReleaseValue(raw: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i] as string;
    if (c === '"') {
      const end = scanDouble(raw, i + 1);
      if (end === undefined) return undefined;
      out += end.text;
      i = end.next;
    } else if (c === "'") {
      const close = raw.indexOf("'", i + 1);
      if (close < 0) return undefined;
      out += raw.slice(i + 1, close);
      i = close + 1;
    } else if (c === '\\') {
      if (i + 1 >= raw.length) return undefined;
      out += raw[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      // Unquoted whitespace ends the value in a shell; anything after it must be a comment.
      const rest = raw.slice(i).trimStart();
      return rest === '' || rest.startsWith('#') ? out : undefined;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function scanDouble(raw: string, from: number): { text: string; next: number } | undefined {
  let text = '';
  for (let i = from; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') return { text, next: i + 1 };
    if (c === '\\' && i + 1 < raw.length && '$"\\`'.includes(raw[i + 1] as string)) {
      text += raw[i + 1];
      i++;
    } else {
      text += c;
    }
  }
  return undefined;
}

/** Parses os-release text (or bytes, read as UTF-8). */
export function parseOsRelease(input: string | Buffer): OsRelease {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const fields: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    if (!KEY.test(key)) continue;
    const value = unquoteOsReleaseValue(line.slice(eq + 1));
    if (value !== undefined) fields[key] = value;
  }
  const opt = (key: string): string | undefined =>
    fields[key] === undefined || fields[key] === '' ? undefined : fields[key];
  const result: OsRelease = {
    id: (opt('ID') ?? 'linux').toLowerCase(),
    idLike: (fields.ID_LIKE ?? '').split(/\s+/).filter((s) => s !== ''),
    fields,
  };
  const versionId = opt('VERSION_ID');
  if (versionId !== undefined) result.versionId = versionId;
  const codename = opt('VERSION_CODENAME');
  if (codename !== undefined) result.versionCodename = codename;
  const pretty = opt('PRETTY_NAME');
  if (pretty !== undefined) result.prettyName = pretty;
  return result;
}

/** Where os-release lives, in the order the spec says to look. */
export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;
