// An image's final file view: its layers applied in order (whiteouts, opaque directories,
// upper layers overriding lower ones), each layer streamed exactly once and nothing written to
// disk. The view keeps metadata for every path and the bytes of the few regular files the
// caller named up front with a `collect` predicate (by default the OS package files that
// `readOsPackages` reads), so reading packages never reads a layer twice.
//
// Large files (ELF and Go binaries for the inventory) are not kept: the caller passes a `hook`
// that is handed each wanted file's bytes as its layer passes and returns what it made of them
// (an inspection); that result lands on the view entry as `facts`, so only the version of a
// path the final view holds is used (an upper layer may delete or replace the file).
import { InputError } from '../../model/errors.ts';
import {
  type ApplyContext,
  type CollectPredicate,
  DEFAULT_FILE_VIEW_LIMITS,
  type FileViewLimits,
  type LayerFileHook,
  type LayerInput,
  recordLayer,
  replayLayer,
} from './fileview-layer.ts';
import { type ViewEntry, ViewTree } from './fileview-tree.ts';
import { ImageFindings } from './findings.ts';
import type { LayerRecord } from './layer-record.ts';
import { OS_RELEASE_PATHS } from './osrelease.ts';
import { APK_INSTALLED, DPKG_STATUS, DPKG_STATUS_D, type ImageFileReader } from './packagedb.ts';

export type { CollectPredicate, FileViewLimits, LayerFileHook, LayerInput } from './fileview-layer.ts';
export { DEFAULT_FILE_VIEW_LIMITS, layerFile } from './fileview-layer.ts';
export type { ViewEntry, ViewEntryType } from './fileview-tree.ts';

const OS_PACKAGE_FILES = new Set<string>([...OS_RELEASE_PATHS, '/usr/lib/os-release', DPKG_STATUS, APK_INSTALLED]);

/**
 * The files `readOsPackages` reads: os-release (and /usr/lib/os-release, which /etc/os-release
 * usually links to), the dpkg status file, distroless `status.d/` files and the apk database.
 * Paths are the members' paths as stored in their layer.
 */
export const osPackageFiles: CollectPredicate = (path) =>
  OS_PACKAGE_FILES.has(path) || path.startsWith(`${DPKG_STATUS_D}/`);

export interface FileViewOptions {
  /** Which regular files to keep the bytes of; default `osPackageFiles`. */
  collect?: CollectPredicate;
  limits?: Partial<FileViewLimits>;
  /** Large files (binaries) handed to the caller as the layers pass, not kept. */
  hook?: LayerFileHook;
  /** Where layer findings go; default a new ImageFindings named after the first layer. */
  findings?: ImageFindings;
}

/** Stream `layers` (lowest first), each once, and return the final view. */
export async function buildFileView(layers: LayerInput[], opts: FileViewOptions = {}): Promise<FileView> {
  const limits = { ...DEFAULT_FILE_VIEW_LIMITS, ...opts.limits };
  const collect = opts.collect ?? osPackageFiles;
  const budget = { collected: 0, maxCollectTotal: limits.maxCollectTotal };
  const records: LayerRecord[] = [];
  for (const layer of layers) {
    records.push(await recordLayer(layer, { collect, limits, budget, ...(opts.hook ? { hook: opts.hook } : {}) }));
  }
  return viewFromRecords(records, { limits, ...(opts.findings ? { findings: opts.findings } : {}) });
}

/** The final view from layers already recorded (lowest first). */
export function viewFromRecords(
  records: readonly LayerRecord[],
  opts: { limits?: Partial<FileViewLimits>; findings?: ImageFindings } = {},
): FileView {
  const findings = opts.findings ?? new ImageFindings(records[0]?.name ?? 'image');
  const ctx: ApplyContext = {
    tree: new ViewTree(),
    findings,
    limits: { ...DEFAULT_FILE_VIEW_LIMITS, ...opts.limits },
    totalBytes: 0,
    tooLarge: new Map(),
  };
  for (const [i, record] of records.entries()) replayLayer(record, i, ctx);
  return new FileView(
    ctx.tree,
    ctx.tooLarge,
    findings,
    records.map((r) => r.name),
  );
}

/** The final view; an ImageFileReader whose paths are absolute inside the image. */
export class FileView implements ImageFileReader {
  readonly findings: ImageFindings;
  private readonly tree: ViewTree;
  private readonly tooLarge: Map<string, number>;
  private readonly layerNames: string[];

  constructor(tree: ViewTree, tooLarge: Map<string, number>, findings: ImageFindings, layerNames: string[]) {
    this.tree = tree;
    this.tooLarge = tooLarge;
    this.findings = findings;
    this.layerNames = layerNames;
  }

  /** Every path of the view (absolute, sorted) with its entry; the root is left out. */
  paths(): Array<[string, ViewEntry]> {
    return [...this.tree.entries]
      .filter(([p]) => p !== '')
      .map(([p, e]): [string, ViewEntry] => [`/${p}`, e])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** The entry at a path, not following a symlink in its last component. */
  lstat(path: string): ViewEntry | undefined {
    const r = this.tree.resolve(path, false);
    return r.kind === 'ok' ? this.tree.entries.get(r.path) : undefined;
  }

  /** The entry a path leads to, following symlinks; undefined when absent or a loop. */
  stat(path: string): ViewEntry | undefined {
    const r = this.tree.resolve(path, true);
    return r.kind === 'ok' ? this.tree.entries.get(r.path) : undefined;
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const r = this.tree.resolve(path, true);
    if (r.kind === 'loop') return undefined; // as open(2) fails with ELOOP: nothing to read
    const entry = this.tree.entries.get(r.path);
    if (!entry || (entry.type !== 'file' && entry.type !== 'hardlink')) return undefined;
    const bytes = this.tree.contents.get(r.path);
    if (bytes !== undefined) return bytes;
    if (entry.size === 0) return Buffer.alloc(0);
    const size = this.tooLarge.get(r.path);
    const layer = this.layerNames[entry.layer] ?? 'image';
    if (size !== undefined) {
      throw new InputError('IMAGE_LIMIT', layer, `image: /${r.path} is ${size} bytes, over the in-memory file limit`);
    }
    // The caller's collect predicate did not cover this file: a bug in the caller, not the image.
    throw new Error(`fileview: /${r.path} was not collected (add it to the collect predicate)`);
  }

  async listDir(path: string): Promise<string[] | undefined> {
    const r = this.tree.resolve(path, true);
    return r.kind === 'ok' ? this.tree.list(r.path) : undefined;
  }
}
