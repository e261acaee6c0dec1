// Real Go binaries for every architecture the readers must handle, built by Debian's Go from
// a tiny K3s-shaped module: main module github.com/k3s-io/k3s (package cmd/server), a
// pkg/version whose Version and GitCommit are set with -X as K3s's build does, a versioned
// dependency (with its h1: sum), a dependency replaced by a versioned fork, and one replaced
// by a local directory. The dependencies come from a module proxy laid out in a temp dir
// (GOPROXY=file://), so the build is offline. Outputs are cached under the test cache.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeGoProxy } from '../fixtures/goproxy.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { goEnv, goUnavailable } from './goversionm.ts';

export const PROBE_VERSION = 'v1.31.4+k3s1';
export const PROBE_COMMIT = 'abcdef12';
const PKG = 'github.com/k3s-io/k3s';
// A value with double quotes, a tab and a non-ASCII letter: the go command records -ldflags
// Go-quoted, so the reader must unquote \" and \t and keep UTF-8 as it is.
export const PROBE_PROGRAM = 'k3s "probe"\tü';
// Laid out like K3s's scripts/build: a multi-line VERSIONFLAGS, then "-w -s".
export const PROBE_LDFLAGS = [
  '',
  `    -X ${PKG}/pkg/version.Version=${PROBE_VERSION}`,
  `    -X ${PKG}/pkg/version.GitCommit=${PROBE_COMMIT}`,
  `    -X '${PKG}/pkg/version.Program=${PROBE_PROGRAM}'`,
  ' -w -s',
].join('\n');

const MAIN_MODULE: Record<string, string> = {
  'go.mod': `module ${PKG}

go 1.19

require (
\texample.com/dep v1.0.0
\texample.com/forked v1.0.0
\texample.com/local v0.0.0
)

replace example.com/forked => example.com/fork v1.1.0

replace example.com/local => ./local
`,
  'cmd/server/main.go': `package main

import (
\t"os"

\t"example.com/dep"
\t"example.com/forked"
\t"example.com/local"
\t"${PKG}/pkg/version"
)

func main() {
\tos.Stdout.WriteString(version.Program + " " + version.Version + " " + version.GitCommit + " " + dep.Name + forked.Name + local.Name + "\\n")
}
`,
  'pkg/version/version.go': `package version

var (
\tVersion   = "v0.0.0-dev"
\tGitCommit = "HEAD"
\tProgram   = "k3s"
)
`,
  'local/go.mod': 'module example.com/local\n\ngo 1.19\n',
  'local/local.go': 'package local\n\nconst Name = "local"\n',
};

// path@version -> files; a fork keeps the path of the module it forks in its go.mod.
const PROXY_MODULES: Record<string, Record<string, string>> = {
  'example.com/dep@v1.0.0': {
    'go.mod': 'module example.com/dep\n\ngo 1.19\n',
    'dep.go': 'package dep\n\nconst Name = "dep"\n',
  },
  'example.com/fork@v1.1.0': {
    'go.mod': 'module example.com/forked\n\ngo 1.19\n',
    'forked.go': 'package forked\n\nconst Name = "fork"\n',
  },
};

export const PROBE_ARCHS = [
  'amd64',
  '386',
  'arm',
  'arm64',
  's390x',
  'ppc64',
  'ppc64le',
  'mips',
  'mips64le',
  'riscv64',
  'loong64',
];

export type Probe = { path: string } | { skip: string };

/**
 * The probe binary for GOARCH `goarch`, built once and cached. Built without -trimpath, as K3s
 * is, so Go records -ldflags in the build settings; with `trimpath` Go leaves -ldflags out
 * (it may hold paths), which leaves only the strings of the binary to tell the K3s version.
 */
export function probeBinary(goarch: string, opts: { trimpath?: boolean } = {}): Probe {
  const missing = goUnavailable();
  if (missing) return { skip: missing };
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8', env: goEnv() }).trim();
  const flags = [...(opts.trimpath ? ['-trimpath'] : []), '-tags=probe', `-ldflags=${PROBE_LDFLAGS}`];
  const key = createHash('sha256')
    .update(JSON.stringify([goVersion, MAIN_MODULE, PROXY_MODULES, flags]))
    .digest('hex')
    .slice(0, 16);
  const out = join(CACHE_DIR, 'goprobe', key, goarch);
  if (existsSync(out)) return { path: out };
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-goprobe-'));
  try {
    writeTree(join(work, 'src'), MAIN_MODULE);
    writeProxy(join(work, 'proxy'));
    const env = goEnv({
      GOARCH: goarch,
      GOOS: 'linux',
      GOPROXY: `file://${join(work, 'proxy')}`,
      GONOSUMDB: '*',
      GOFLAGS: '-mod=mod -modcacherw',
      GOPATH: join(work, 'gopath'),
      GOMODCACHE: join(work, 'gomodcache'),
      GOCACHE: join(CACHE_DIR, 'gocache'),
    });
    const tmpOut = join(work, 'probe');
    execFileSync('go', ['build', ...flags, '-o', tmpOut, './cmd/server'], {
      cwd: join(work, 'src'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    mkdirSync(dirname(out), { recursive: true });
    renameSync(tmpOut, out);
    return { path: out };
  } catch (e) {
    const err = e as { stderr?: Buffer; message?: string };
    return { skip: `go build for GOARCH=${goarch} failed: ${err.stderr?.toString().trim() ?? err.message}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

/** A GOPROXY directory serving PROXY_MODULES (test/fixtures/goproxy.ts writes the layout). */
function writeProxy(root: string): void {
  writeGoProxy(
    root,
    Object.entries(PROXY_MODULES).map(([id, files]) => {
      const [path = '', version = ''] = id.split('@');
      const { 'go.mod': goMod = '', ...rest } = files;
      return { path, version, goMod, files: rest };
    }),
  );
}
