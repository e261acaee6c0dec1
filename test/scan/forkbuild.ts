// Two real Go binaries that build runc's libcontainer from a K3s-style fork: go.mod replaces
// github.com/opencontainers/runc with github.com/k3s-io/runc v1.1.5-k3s1, whose go.mod keeps
// the upstream module path (as K3s's forks do). `calls` reaches the method GO-2024-2491 names
// (libcontainer.linuxStandardInit.Init); `skips` uses the same package but not that method.
// Built by Debian's Go with `-w -s` as K3s is, offline from a file:// module proxy, cached.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeGoProxy } from '../fixtures/goproxy.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';
import { goEnv, goUnavailable } from '../readers/goversionm.ts';

export const FORK_MAIN_MODULE = 'example.com/k3sish';

const MAIN: Record<string, string> = {
  'go.mod': `module ${FORK_MAIN_MODULE}

go 1.19

require github.com/opencontainers/runc v1.1.5

replace github.com/opencontainers/runc => github.com/k3s-io/runc v1.1.5-k3s1
`,
  'cmd/calls/main.go': `package main

import "github.com/opencontainers/runc/libcontainer"

var started bool

func init() { started = true }

//go:noinline
func serve() error { return libcontainer.StartInit(started) }

func main() {
	if err := serve(); err != nil {
		println(err.Error())
	}
}
`,
  'cmd/skips/main.go': `package main

import "github.com/opencontainers/runc/libcontainer"

func main() { println(libcontainer.Version()) }
`,
};

const FORK_GO_MOD = 'module github.com/opencontainers/runc\n\ngo 1.19\n';
const FORK_FILES: Record<string, string> = {
  'libcontainer/init.go': `package libcontainer

import "errors"

type linuxStandardInit struct{ pid int }

var errNoPid = errors.New("no pid")

//go:noinline
func (l *linuxStandardInit) Init() error {
	if l.pid == 0 {
		return errNoPid
	}
	return nil
}

//go:noinline
func StartInit(ok bool) error {
	l := &linuxStandardInit{}
	if ok {
		l.pid = 1
	}
	return l.Init()
}

//go:noinline
func Version() string { return "1.1.5-k3s1" }
`,
};

export type ForkBinaries = { calls: string; skips: string } | { skip: string };

export function forkBinaries(): ForkBinaries {
  const missing = goUnavailable();
  if (missing) return { skip: missing };
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8', env: goEnv() }).trim();
  const key = createHash('sha256')
    .update(JSON.stringify([goVersion, MAIN, FORK_GO_MOD, FORK_FILES]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(CACHE_DIR, 'reachability-fork', key);
  const out = { calls: join(dir, 'calls'), skips: join(dir, 'skips') };
  if (existsSync(out.calls) && existsSync(out.skips)) return out;
  const work = mkdtempSync(join(tmpdir(), 'k3sguard-fork-'));
  try {
    for (const [name, text] of Object.entries(MAIN)) {
      mkdirSync(dirname(join(work, 'src', name)), { recursive: true });
      writeFileSync(join(work, 'src', name), text);
    }
    const proxy = writeGoProxy(join(work, 'proxy'), [
      { path: 'github.com/k3s-io/runc', version: 'v1.1.5-k3s1', goMod: FORK_GO_MOD, files: FORK_FILES },
    ]);
    const env = goEnv({
      GOPROXY: proxy,
      GONOSUMDB: '*',
      GOFLAGS: '-mod=mod -modcacherw',
      GOPATH: join(work, 'gopath'),
      GOMODCACHE: join(work, 'gomodcache'),
      GOCACHE: join(CACHE_DIR, 'gocache'),
    });
    mkdirSync(join(work, 'out'));
    execFileSync('go', ['build', '-ldflags=-w -s', '-o', join(work, 'out'), './cmd/...'], {
      cwd: join(work, 'src'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    mkdirSync(dir, { recursive: true });
    renameSync(join(work, 'out', 'calls'), out.calls);
    renameSync(join(work, 'out', 'skips'), out.skips);
    return out;
  } catch (e) {
    const err = e as { stderr?: Buffer; message?: string };
    return { skip: `go build of the fork binaries failed: ${err.stderr?.toString().trim() ?? err.message}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
