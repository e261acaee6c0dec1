// target -> readers -> inventory. Asks io/target.ts what the target is (a file, a K3s data dir,
// a folder of binaries, an image archive or layout) and fills the one component model from the
// readers.
import { basename, resolve } from 'node:path';
import { detectTarget, isImageTarget, type Target } from '../io/target.ts';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { InputError } from '../model/errors.ts';
import { type FileComponent, type Inventory, walk } from '../model/inventory.ts';
import { LIMITS } from '../model/limits.ts';
import type { ImagesListInput } from '../readers/images/imageslist.ts';
import { inspectDataDir } from './datadir.ts';
import { walkDirectory } from './directory.ts';
import { type GoBinaryHook, type InspectContext, inspectFile } from './file.ts';
import { InterleavedScanner, ScanPool } from './scanners.ts';

export interface BuildOptions {
  /** Decompressed bytes one bundle may produce before it is treated as a bomb. */
  maxBundleBytes?: number;
  progress?: (text: string) => void;
  /** Called with every Go binary (outer files, bundle members, image files) while its bytes are at hand. */
  onGoBinary?: GoBinaryHook;
  /** Image targets: the platform to pick from multi-platform images (`os/arch[/variant]`). */
  platform?: string;
  /** Image targets: k3s-images.txt, the images the archive must hold exactly. */
  imagesList?: ImagesListInput;
  /** Image targets: the largest decompressed size of one layer (zip-bomb guard). */
  maxLayerBytes?: number;
}

export const DEFAULT_MAX_BUNDLE_BYTES = 2 * 1024 ** 3;

/**
 * A single file named as the target must be a Go binary: saying "0 components" for a PE, a
 * script or a packed file would read as a clean result. Inside a folder such files are listed.
 */
function refuseNonGo(target: string, file: FileComponent): void {
  const b = file.binary;
  if (b.format === 'other') throw new InputError('NOT_ELF', target, `not a Go ELF binary (${b.detail})`);
  if (b.format === 'packed')
    throw new InputError(
      'NOT_ELF',
      target,
      `packed with ${b.packer}: its contents cannot be inspected; unpack it first`,
    );
  if (b.format === 'elf')
    throw new InputError('NOT_ELF', target, `ELF ${b.arch.name} without Go build info or Go runtime: not a Go binary`);
}

export async function buildInventory(target: string, opts: BuildOptions = {}): Promise<Inventory> {
  const t = detectTarget(target);
  if (isImageTarget(t)) return buildImageInventory(target, opts);
  const ctx: InspectContext = {
    maxBundleBytes: opts.maxBundleBytes ?? LIMITS.bundleBytes,
    progress: opts.progress ?? (() => {}),
    findings: [],
    notes: [],
    scanner: t.stats.isFile() ? new InterleavedScanner() : new ScanPool(),
    pending: [],
    bundles: Promise.resolve(),
    ...(opts.onGoBinary ? { onGoBinary: opts.onGoBinary } : {}),
  };
  try {
    const root = await inspectTarget(t, ctx);
    // Tasks add tasks (a scan adds its bundle read): wait until no new ones appear.
    for (let seen = 0; seen < ctx.pending.length; ) {
      const batch = ctx.pending.slice(seen);
      seen = ctx.pending.length;
      await Promise.all(batch);
    }
    return inventoryOf(target, root.kind, root.component, ctx.findings, ctx.notes);
  } finally {
    await ctx.scanner.close();
  }
}

async function buildImageInventory(target: string, opts: BuildOptions): Promise<Inventory> {
  // The image readers load only for an image: a binary's inventory starts without them.
  const { inspectImageTarget } = await import('./image.ts');
  const r = await inspectImageTarget(target, {
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.imagesList ? { imagesList: opts.imagesList } : {}),
    ...(opts.maxLayerBytes ? { maxLayerBytes: opts.maxLayerBytes } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.onGoBinary ? { onGoBinary: opts.onGoBinary } : {}),
  });
  return inventoryOf(target, r.kind, r.root, r.findings, r.notes);
}

function inventoryOf(
  target: string,
  targetKind: Inventory['targetKind'],
  root: Inventory['root'],
  findings: Inventory['findings'],
  notes: Inventory['notes'],
): Inventory {
  return {
    tool: { name: 'k3sguard', version: TOOL_VERSION },
    target,
    targetKind,
    root,
    findings,
    notes: [...notes, ...strippedNotes(root)],
  };
}

/** Say plainly, for each Go binary whose build info was stripped, that its module list is missing. */
function strippedNotes(root: Inventory['root']): Inventory['notes'] {
  const notes: Inventory['notes'] = [];
  for (const { component: c } of walk(root)) {
    if (c.type === 'file' && c.binary.format === 'go-no-buildinfo')
      notes.push({ location: c.location, message: c.binary.reason });
  }
  return notes;
}

async function inspectTarget(
  t: Exclude<Target, { kind: 'image-archive' | 'oci-layout' }>,
  ctx: InspectContext,
): Promise<{ kind: Inventory['targetKind']; component: Inventory['root'] }> {
  const target = t.path;
  const name = basename(resolve(target));
  switch (t.kind) {
    case 'elf':
    case 'file': {
      const root = await inspectFile(target, target, [name], ctx, t.stats.mode & 0o7777);
      refuseNonGo(target, root);
      return { kind: 'file', component: root };
    }
    case 'k3s-data-dir':
      return { kind: 'k3s-data-dir', component: await inspectDataDir(target, target, [name], ctx) };
    case 'directory':
      return { kind: 'directory', component: await walkDirectory(target, ctx) };
  }
}
