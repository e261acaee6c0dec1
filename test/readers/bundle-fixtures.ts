// Real bundles for the bundle reader tests, made by the real tools the way K3s's
// scripts/package-cli makes them: files and symlinks under bin/, the two manifests written
// by find/sha256sum/readlink/sort, `tar cf data.tar ./bin ./etc` (GNU tar), `zstd -16
// --long=25`, and a Go program that //go:embed's the result under its sha256 name.
// The ELF payloads are the machine's own zstd and tar binaries (real ELF files, no Go needed).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileSource } from '../../src/io/bytesource.ts';
import type { BundleLocation } from '../../src/readers/bundle/locate.ts';
import { walkFrames } from '../../src/readers/bundle/zstd-frames.ts';
import { CACHE_DIR } from '../fixtures/realbins.ts';

export const ELF_A = '/usr/bin/zstd';
export const ELF_B = '/usr/bin/tar';
const GO = '/usr/bin/go';

function has(cmd: string): boolean {
  try {
    execFileSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the tool-made bundle tests cannot run here, if they cannot. */
export function toolsSkip(): string | undefined {
  for (const cmd of ['tar', 'zstd', 'sha256sum', 'find', 'sort']) if (!has(cmd)) return `${cmd} is not on PATH`;
  for (const f of [ELF_A, ELF_B]) if (!existsSync(f)) return `${f} (an ELF payload) is missing`;
  return undefined;
}

export function goSkip(): string | undefined {
  return toolsSkip() ?? (existsSync(GO) ? undefined : `no Go toolchain at ${GO} (apt-get install golang-go)`);
}

export function tempDir(prefix = 'k3sg-bundle-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sh(command: string, cwd?: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail; ${command}`], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface BinSpec {
  /** bin-relative path -> text content, or `{ copy: path }`. */
  files: Record<string, string | { copy: string }>;
  /** bin-relative path -> symlink target. */
  links?: Record<string, string>;
  /** etc-relative path -> text. */
  etc?: Record<string, string>;
}

/** The usual K3s-like layout: two ELF binaries, a script, aux/, multicall symlinks. */
export const K3S_LIKE: BinSpec = {
  files: {
    k3s: { copy: ELF_A },
    containerd: { copy: ELF_B },
    'check-config': '#!/bin/sh\necho ok\n',
    'aux/wg-add.sh': '#!/bin/sh\n',
  },
  links: { kubectl: 'k3s', crictl: 'k3s', ctr: 'k3s', 'aux/wg': 'wg-add.sh' },
  etc: { 'crictl.yaml': 'runtime-endpoint: unix:///run/k3s/containerd/containerd.sock\n' },
};

/** Lay out `<root>/bin` and `<root>/etc` from `spec`, then write the manifests as package-cli does. */
export function stageBin(root: string, spec: BinSpec): void {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  for (const [rel, content] of Object.entries(spec.files)) {
    const dest = join(bin, rel);
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, typeof content === 'string' ? content : readFileSync(content.copy));
    chmodSync(dest, 0o755);
  }
  for (const [rel, target] of Object.entries(spec.links ?? {})) {
    mkdirSync(dirname(join(bin, rel)), { recursive: true });
    symlinkSync(target, join(bin, rel));
  }
  for (const [rel, text] of Object.entries(spec.etc ?? {})) writeFileSync(join(root, 'etc', rel), text);
  writeManifests(bin);
}

/** package-cli's manifest commands, verbatim in effect (C locale sort). */
export function writeManifests(bin: string): void {
  sh(
    `export LC_ALL=C
     find . -not -path '*/\\.*' -type f -exec sha256sum {} \\; | sed -e 's| \\./| |' | sort -k2 >.sha256sums
     ( for f in $(find . -type l); do echo $f $(readlink $f); done ) | sed -e 's|^\\./||' | sort >.links`,
    bin,
  );
}

/** `tar cf` of ./bin and ./etc (GNU tar's default format), then zstd; returns the .tar.zst. */
export function packBundle(root: string, out: string, zstdArgs = ['-16', '--long=25']): string {
  const tar = join(out, 'data.tar');
  mkdirSync(out, { recursive: true });
  sh(`tar cf ${tar} ./bin ./etc`, root);
  return zstdFile(tar, join(out, 'data.tar.zst'), zstdArgs);
}

export function zstdFile(input: string, output: string, args: readonly string[]): string {
  execFileSync('zstd', ['-q', '-f', ...args, input, '-o', output]);
  return output;
}

/** A located bundle for a standalone .tar.zst: the whole file, named by its own hash. */
export function locateWhole(zst: string, declaredHash?: string): BundleLocation {
  const src = fileSource(zst);
  try {
    const run = walkFrames(src, 0);
    if (!run.ok) throw new Error(run.reason);
    const sha256 = sha256File(zst);
    const name = declaredHash ?? sha256;
    return { declaredHash: name, offset: 0, length: run.end, sha256, hashMatches: name === sha256, frames: run.frames };
  } finally {
    src.close();
  }
}

const GO_MAIN = `package main

import (
	"embed"
	"fmt"
)

//go:embed embed/*
var assets embed.FS

func main() {
	entries, _ := assets.ReadDir("embed")
	for _, e := range entries {
		fmt.Println(e.Name())
	}
}
`;

/** Build a static Go program that embeds `zst` as `embed/<sha256>.tar.zst`, like K3s's pkg/data. */
export function buildEmbedder(zst: string, outDir: string): { binary: string; sha256: string } {
  const sha256 = sha256File(zst);
  const src = join(outDir, 'embedder');
  mkdirSync(join(src, 'embed'), { recursive: true });
  writeFileSync(join(src, 'embed', `${sha256}.tar.zst`), readFileSync(zst));
  writeFileSync(join(src, 'main.go'), GO_MAIN);
  writeFileSync(join(src, 'go.mod'), 'module example.com/k3sfake\n\ngo 1.19\n');
  const binary = join(outDir, 'k3s');
  execFileSync(GO, ['build', '-trimpath', '-ldflags', '-w -s', '-o', binary, '.'], {
    cwd: src,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GOCACHE: join(CACHE_DIR, 'gocache'),
      GOPATH: join(outDir, 'gopath'),
      GOMODCACHE: join(outDir, 'gopath', 'mod'),
      GOFLAGS: '-mod=mod',
      GOPROXY: 'off',
      GOSUMDB: 'off',
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
    },
  });
  return { binary, sha256 };
}

export type Entry = { name: string; type: 'file' | 'dir' | 'symlink' | 'hardlink'; data?: string; link?: string };

// Python's tarfile writes whatever names it is given: the way to make members GNU tar refuses to.
const PY_MAKE = `
import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    for e in json.loads(sys.argv[2]):
        i = tarfile.TarInfo(e['name'])
        i.type = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE}[e['type']]
        i.linkname = e.get('link', '')
        data = e.get('data', '').encode()
        i.size = len(data) if e['type'] == 'file' else 0
        t.addfile(i, io.BytesIO(data) if e['type'] == 'file' else None)
`;

/** A tar at `path` holding exactly `entries`, hostile names included (python3's tarfile). */
export function craftTar(path: string, entries: readonly Entry[]): void {
  execFileSync('python3', ['-c', PY_MAKE, path, JSON.stringify(entries)]);
}
