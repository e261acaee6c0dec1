// Inspect one file: hash it, tell what it is, and for a Go binary list its modules; for a
// K3s binary also open its embedded bundle and inspect every file inside, the same way.
import { basename } from 'node:path';
import { scanForBundle } from '../readers/bundle-locate.ts';
import { type BundleMember, type BundleScan, readEmbeddedBundle } from '../readers/bundle-stream.ts';
import type { ByteSource } from '../readers/bytesource.ts';
import { fileSource } from '../readers/bytesource.ts';
import { readBinary } from '../readers/gobinary.ts';
import { k3sIdentity } from '../readers/k3sidentity.ts';
import { goComponents } from './gocomponents.ts';
import type { BundleComponent, Component, FileComponent, Finding, Location } from './model.ts';

export interface InspectContext {
  maxBundleBytes: number;
  progress: (text: string) => void;
  findings: Finding[];
  notes: Array<{ location: Location; message: string }>;
}

/** A file component from a source whose sha256 is already known. */
export function describeSource(
  src: ByteSource,
  path: string,
  location: Location,
  sha256: string,
  ctx: InspectContext,
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
  } else if (binary.format === 'go-no-buildinfo') {
    ctx.notes.push({ location, message: binary.reason });
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
        binary: { format: 'other', detail: 'not an ELF file' },
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

export async function inspectFile(
  absPath: string,
  displayPath: string,
  location: Location,
  ctx: InspectContext,
  mode?: number,
): Promise<FileComponent> {
  ctx.progress(`reading ${displayPath}`);
  const src = fileSource(absPath, displayPath);
  let file: FileComponent;
  let scan: ReturnType<typeof scanForBundle>;
  try {
    scan = scanForBundle(src, { location });
    file = describeSource(src, displayPath, location, scan.sha256, ctx, mode);
  } finally {
    src.close();
  }
  const isGo = file.binary.format === 'go' || file.binary.format === 'go-no-buildinfo';
  if (isGo) ctx.findings.push(...scan.findings);
  if (scan.bundle && isGo) {
    const bundleLocation = [...location, `bundle:${scan.bundle.declaredHash}`];
    const inspected = new Map<string, FileComponent>();
    const bundle = await readEmbeddedBundle(absPath, scan.bundle, {
      displayName: displayPath,
      location: bundleLocation,
      maxBytes: ctx.maxBundleBytes,
      progress: ctx.progress,
      onElf(member, data) {
        const memberLocation = [...bundleLocation, member.path];
        inspected.set(
          member.path,
          describeSource(data, member.path, memberLocation, member.sha256 ?? '', ctx, member.mode),
        );
      },
    });
    ctx.findings.push(...bundle.findings);
    file.children.push(
      bundleComponent(bundle, bundleLocation, memberComponents(bundle.members, inspected, bundleLocation)),
    );
  }
  return file;
}
