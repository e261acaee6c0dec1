// A binary's Go version (runtime.Version, as recorded in its build info) to the SemVer the Go
// vulnerability database keys `stdlib` records by: go1.22.0 -> 1.22.0, go1.20 -> 1.20.0 (before
// Go 1.21 the first release of a line had no `.0`), go1.21rc2 -> 1.21.0-rc.2, go1.9beta1 ->
// 1.9.0-beta.1. The database's own ranges are written that way (`"introduced": "1.21.0-0"`
// means "from the first 1.21 pre-release"), so the conversion must produce the same shapes.

// goMAJOR.MINOR[.PATCH][(beta|rc)N][bN]: the last group is Go+BoringCrypto's release tag
// (`go1.19.8b7`: Go 1.19.8 with BoringCrypto patch 7), built from that Go release.
const GO_TAG = /^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(beta|rc)(\d+))?(?:b\d+)?$/;

/**
 * The stdlib SemVer (no `v`) for a Go version string, or undefined when it names no release:
 * `devel ...` builds (a toolchain built from a commit) and anything unrecognised. The first
 * space-separated word is the version: `go1.25.1 X:nodwarf5` records GOEXPERIMENT settings
 * after it, which change the build, not the standard library's release.
 */
export function goToolchainSemver(goVersion: string): string | undefined {
  const word = goVersion.trim().split(/\s+/)[0] ?? '';
  const m = GO_TAG.exec(word);
  if (!m) return undefined;
  const [, major, minor = '0', patch = '0', kind, n] = m;
  // A pre-release tag never has a patch number (go1.21rc2, not go1.21.0rc2).
  if (kind !== undefined && m[3] !== undefined) return undefined;
  if (![major, minor, patch].every((x) => x === '0' || !x?.startsWith('0'))) return undefined;
  return kind === undefined ? `${major}.${minor}.${patch}` : `${major}.${minor}.0-${kind}.${n}`;
}
