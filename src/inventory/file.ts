// Inspect one file: hash it, tell what it is, and for a Go binary list its modules; for a
// K3s binary also open its embedded bundle and inspect every file inside, the same way.
import { basename } from 'node:path';
import { frameMissing, frameRuns, searchFile } from '../readers/bundle-locate.ts';
import { type BundleMember, type BundleScan, readBundleVerifying } from '../readers/bundle-stream.ts';
import type { ByteSource } from '../readers/bytesource.ts';
import { fileSource } from '../readers/bytesource.ts';
import { readBinary } from '../readers/gobinary.ts';
import { k3sIdentity } from '../readers/k3sidentity.ts';
import type { FileHasher } from '../util/hashpool.ts';
import { goComponents } from './gocomponents.ts';
import type { BundleComponent, Component, FileComponent, Finding, Location } from './model.ts';

export interface InspectContext {
  maxBundleBytes: number;
  progress: (text: string) => void;
  findings: Finding[];
  notes: Array<{ location: Location; message: string }>;
  /** Hashes large files on the other cores. */
  hashes: FileHasher;
  /** Work still running (file hashes): awaited before the inventory is complete. */
  pending: Array<Promise<void>>;
}

/** A file component from a source whose sha256 is already known. */
export function describeSource(
  src: ByteSource,
  path: string,
  location: Location,
  sha256: string,
  mode?: number,
): FileComponent {
  const binary = readBinary(src);
  const ref = location.join('!');
  const file: FileComponent = {
    type: 'file',
    ref,
    name: basename(path),
    path,
    location,
    size: src.size,
    sha256,
    binary,
    children: [],
  };
  if (mode !== undefined) file.mode = mode;
  if (binary.format === 'go') {
    const k3s = k3sIdentity(binary.buildInfo, src);
    if (k3s) {
      file.k3s = k3s;
      if (k3s.version) file.version = k3s.version;
    }
    file.children.push(...goComponents(ref, location, binary.buildInfo, k3s));
  }
  return file;
}

export function bundleComponent(scan: BundleScan, location: Location, children: Component[]): BundleComponent {
  const b: BundleComponent = {
    type: 'k3s-bundle',
    ref: location.join('!'),
    name: `${scan.declaredHash}.tar.zst`,
    location,
    declaredHash: scan.declaredHash,
    uncompressedSize: scan.uncompressedSize,
    links: scan.links,
    children,
  };
  if (scan.sha256 !== undefined) b.sha256 = scan.sha256;
  if (scan.offset !== undefined) b.offset = scan.offset;
  if (scan.compressedSize !== undefined) b.compressedSize = scan.compressedSize;
  return b;
}

/**
 * Bundle members become components in member order: ELF members as inspected by the callback,
 * other regular files by their hash, symlinks as links.
 */
export function memberComponents(
  members: readonly BundleMember[],
  inspected: Map<string, FileComponent>,
  bundleLocation: Location,
): Component[] {
  const out: Component[] = [];
  for (const m of members) {
    const location = [...bundleLocation, m.path];
    if (m.type === 'file') {
      const seen = inspected.get(m.path);
      if (seen) {
        out.push(seen);
        continue;
      }
      out.push({
        type: 'file',
        ref: location.join('!'),
        name: basename(m.path),
        path: m.path,
        location,
        size: m.size,
        sha256: m.sha256 ?? '',
        mode: m.mode,
        binary: { format: 'other', detail: 'not ELF' },
        children: [],
      });
    } else if (m.type === 'symlink' || m.type === 'hardlink') {
      out.push({
        type: 'symlink',
        ref: location.join('!'),
        name: basename(m.path),
        path: m.path,
        location,
        target: m.linkTarget ?? '',
      });
    }
  }
  return out;
}

/** Files from this size up are hashed by the worker pool; below it, in the search pass. */
const POOL_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Inspect a file on disk. Its sha256 comes later for large files (the hash pool works on it
 * while this thread reads build info and the bundle): `ctx.pending` settles it.
 */
export async function inspectFile(
  absPath: string,
  displayPath: string,
  location: Location,
  ctx: InspectContext,
  mode?: number,
): Promise<FileComponent> {
  ctx.progress(`reading ${displayPath}`);
  const src = fileSource(absPath, displayPath);
  try {
    const pooled = src.size >= POOL_MIN_BYTES;
    const hashing = pooled ? ctx.hashes.hashFile(absPath, displayPath) : undefined;
    const found = searchFile(src, { hash: !pooled });
    const file = describeSource(src, displayPath, location, found.sha256 ?? '', mode);
    if (hashing) {
      const settled = hashing.then((sha256) => {
        file.sha256 = sha256;
      });
      settled.catch(() => {}); // handled where ctx.pending is awaited
      ctx.pending.push(settled);
    }
    const isGo = file.binary.format === 'go' || file.binary.format === 'go-no-buildinfo';
    if (!isGo || found.names.length === 0) return file;
    const { runs, firstReason } = frameRuns(src, found.magics);
    if (runs.length === 0) {
      ctx.findings.push(...frameMissing(src, location, found.names[0] as string, found.magics.length, firstReason));
      return file;
    }
    // A K3s binary names one bundle; should a file name several, the label cannot say which.
    const bundleLocation = [...location, found.names.length === 1 ? `bundle:${found.names[0]}` : 'bundle'];
    const inspected = new Map<string, FileComponent>();
    const bundle = await readBundleVerifying(absPath, src, found.names, runs, {
      displayName: displayPath,
      location: bundleLocation,
      maxBytes: ctx.maxBundleBytes,
      progress: ctx.progress,
      onElf(member, data) {
        const at = [...bundleLocation, member.path];
        inspected.set(member.path, describeSource(data, member.path, at, member.sha256, member.mode));
      },
    });
    ctx.findings.push(...bundle.findings);
    file.children.push(
      bundleComponent(bundle, bundleLocation, memberComponents(bundle.members, inspected, bundleLocation)),
    );
    return file;
  } finally {
    src.close();
  }
}
