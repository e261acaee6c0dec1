// The finding message: what is installed, what fixes it, and what the user can do about it.
// Inside K3s the user cannot upgrade runc or rebuild with another Go: the way out is a K3s
// release. Which K3s release bundles a given module or Go version is not in the records, so
// the message says what that release must contain rather than naming one; for K3s's own
// advisories the records do name the release, and the message names it.
import { withoutV } from '../versions/gosemver.ts';
import { k3sLine, parseK3sVersion } from '../versions/k3sversion.ts';
import { osPackageMessage } from './ospackages.ts';
import type { FixedVersion } from './records.ts';
import type { MatchTarget } from './targets.ts';

function idList(ids: readonly string[]): string {
  return ids.length > 1 ? `${ids[0]} (${ids.slice(1).join(', ')})` : (ids[0] ?? '');
}

function k3sMessage(t: MatchTarget, ids: readonly string[], fixes: readonly FixedVersion[]): string {
  const installed = parseK3sVersion(t.version);
  const line = installed ? k3sLine(installed) : 'same';
  const head = `K3s ${t.version} is affected by ${idList(ids)}`;
  const onLine = fixes.find((f) => f.sameLine);
  if (onLine)
    return `${head}; fixed in ${onLine.display}: upgrade K3s to ${onLine.display} or a later ${line} release.`;
  const first = fixes[0];
  if (first)
    return `${head}; no ${line} release fixes it: upgrade K3s to ${first.display} or later (the first fixed release above it).`;
  return `${head}; no fixed release is known: follow the advisory's mitigation.`;
}

/** The message for one finding; `fixes` ascending, as records.ts returns them. */
export function findingMessage(t: MatchTarget, ids: readonly string[], fixes: readonly FixedVersion[]): string {
  if (t.via === 'k3s') return k3sMessage(t, ids, fixes);
  if (t.via === 'os-package') return osPackageMessage(t, ids, fixes);
  const fixed = fixes[0]?.display;
  const name = t.names[0] ?? '';
  const version = withoutV(t.version);
  const stdlib = t.via === 'stdlib';
  let what = `${name} ${version}`;
  if (stdlib) what = `the Go standard library ${version} (built with ${t.goVersion ?? `go${version}`})`;
  else if (t.via === 'upstream' && t.fork) what = `${t.fork.path} ${t.fork.version}, a fork of ${name} ${version},`;
  const shipsIn = t.k3s ? ` (it ships in K3s ${t.k3s})` : '';
  if (!fixed) return `${what} is affected by ${idList(ids)}; no fixed version is known${shipsIn}.`;
  // What the way out must contain: a Go release, the fixed module, or a fork rebased on it.
  let needed = `${name} ${fixed}`;
  if (stdlib) needed = `Go ${fixed}`;
  else if (t.via === 'upstream') needed = `a fork based on ${name} ${fixed}`;
  const action = t.k3s
    ? `upgrade K3s${shipsIn} to a release built with ${needed} or later`
    : stdlib
      ? `rebuild with Go ${fixed} or later`
      : `upgrade to ${needed} or later and rebuild`;
  return `${what} is affected by ${idList(ids)}; fixed in ${fixed}: ${action}.`;
}
