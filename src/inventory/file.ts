// Inspect one file: hash it, tell what it is, and for a Go binary list its modules; for a
// K3s binary also open its embedded bundle and inspect every file inside, the same way.
import { basename } from 'node:path';
import type { ByteSource } from '../io/bytesource.ts';
import { fileSource } from '../io/bytesource.ts';
import type {
  BinaryInfo,
  BundleComponent,
  Component,
  FileComponent,
  Finding,
  K3sIdentity,
  Location,
} from '../model/inventory.ts';
import { frameMissing, frameRuns } from '../readers/bundle/locate.ts';
import { type BundleMember, type BundleScan, readBundleVerifying } from '../readers/bundle/stream.ts';
import { readBinary } from '../readers/go/binary.ts';
import { k3sIdentity } from '../readers/k3sidentity.ts';
import { goComponents } from './gocomponents.ts';
import type { FileScanner, Scan } from './scanners.ts';

export interface InspectContext {
  maxBundleBytes: number;
  progress: (text: string) => void;
  findings: Finding[];
  notes: Array<{ location: Location; message: string }>;
  /** Hashes files and finds their bundles, off the critical path. */
  scanner: FileScanner;
  /** Work still running (hashes, bundles): awaited before the inventory is complete. */
  pending: Array<Promise<void>>;
  /** The bundle read last: the next one starts after it, so one is in memory at a time. */
  bundles: Promise<void>;
  /** Called with every Go binary while its bytes are at hand (bundle members are dropped after). */
  onGoBinary?: GoBinaryHook;
}

/**
 * Sees each Go binary's bytes once, while they are at hand. `binary` is the object the file
 * component will carry: callers key what they read (function tables) on it.
 */
export type GoBinaryHook = (binary: BinaryInfo, src: ByteSource) => void;

/** What a file is, from its bytes: all a file component needs besides where it was found. */
export interface FileFacts {
  binary: BinaryInfo;
  sha256: string;
  size: number;
  k3s?: K3sIdentity;
}

/** Read what a file is; a Go binary goes to `onGoBinary` while its bytes are at hand. */
export function fileFacts(src: ByteSource, sha256: string, onGoBinary?: GoBinaryHook): FileFacts {
  const binary = readBinary(src);
  const facts: FileFacts = { binary, sha256, size: src.size };
  if (binary.format === 'go') {
    const k3s = k3sIdentity(binary.buildInfo, src);
    if (k3s) facts.k3s = k3s;
  }
  if (onGoBinary && (binary.format === 'go' || binary.format === 'go-no-buildinfo')) onGoBinary(binary, src);
  return facts;
}

/** The file component for a file whose facts are known, found at `location`. */
export function fileFromFacts(facts: FileFacts, path: string, location: Location, mode?: number): FileComponent {
  const ref = location.join('!');
  const file: FileComponent = {
    type: 'file',
    ref,
    name: basename(path),
    path,
    location,
    size: facts.size,
    sha256: facts.sha256,
    binary: facts.binary,
    children: [],
  };
  if (mode !== undefined) file.mode = mode;
  if (facts.k3s) {
    file.k3s = facts.k3s;
    if (facts.k3s.version) file.version = facts.k3s.version;
  }
  if (facts.binary.format === 'go')
    file.children.push(...goComponents(ref, location, facts.binary.buildInfo, facts.k3s));
  return file;
}

/** A file component from a source whose sha256 is already known; Go binaries go to the hook. */
export function inspectSource(
  ctx: InspectContext,
  src: ByteSource,
  path: string,
  location: Location,
  sha256: string,
  mode?: number,
): FileComponent {
  return fileFromFacts(fileFacts(src, sha256, ctx.onGoBinary), path, location, mode);
}

/** A file component from a source whose sha256 is already known. */
export function describeSource(
  src: ByteSource,
  path: string,
  location: Location,
  sha256: string,
  mode?: number,
): FileComponent {
  return fileFromFacts(fileFacts(src, sha256), path, location, mode);
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

/**
 * Inspect a file on disk: what it is now; its sha256 and, for a Go binary, its embedded
 * bundle as the scanner delivers them (`ctx.pending` settles both). Bundles are read one
 * at a time, whatever the number of files, to bound memory.
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
  let file: FileComponent;
  let scan: Scan;
  try {
    scan = ctx.scanner.scan(absPath, src, displayPath);
    file = inspectSource(ctx, src, displayPath, location, '', mode);
  } finally {
    src.close();
  }
  track(
    ctx,
    scan.sha256.then((sha256) => {
      file.sha256 = sha256;
    }),
  );
  if (file.binary.format === 'go' || file.binary.format === 'go-no-buildinfo') {
    track(
      ctx,
      scan.search.then((found) => {
        if (found.names.length === 0) return;
        const read = ctx.bundles.then(() => attachBundle(file, absPath, displayPath, found, ctx));
        ctx.bundles = read.catch(() => {});
        return read;
      }),
    );
  }
  return file;
}

function track(ctx: InspectContext, work: Promise<unknown>): void {
  const settled = work.then(() => {});
  settled.catch(() => {}); // handled where ctx.pending is awaited
  ctx.pending.push(settled);
}

async function attachBundle(
  file: FileComponent,
  absPath: string,
  displayPath: string,
  found: { names: string[]; magics: number[] },
  ctx: InspectContext,
): Promise<void> {
  const src = fileSource(absPath, displayPath);
  try {
    const { runs, firstReason } = frameRuns(src, found.magics);
    if (runs.length === 0) {
      ctx.findings.push(
        ...frameMissing(src, file.location, found.names[0] as string, found.magics.length, firstReason),
      );
      return;
    }
    // A K3s binary names one bundle; should a file name several, the label cannot say which.
    const label = found.names.length === 1 ? `bundle:${found.names[0]}` : 'bundle';
    const bundleLocation = [...file.location, label];
    const inspected = new Map<string, FileComponent>();
    const bundle = await readBundleVerifying(absPath, src, found.names, runs, {
      displayName: displayPath,
      location: bundleLocation,
      maxBytes: ctx.maxBundleBytes,
      progress: ctx.progress,
      onElf(member, data) {
        const at = [...bundleLocation, member.path];
        inspected.set(member.path, inspectSource(ctx, data, member.path, at, member.sha256, member.mode));
      },
    });
    ctx.findings.push(...bundle.findings);
    file.children.push(
      bundleComponent(bundle, bundleLocation, memberComponents(bundle.members, inspected, bundleLocation)),
    );
  } finally {
    src.close();
  }
}
