// One layer applied onto the view: the blob is decompressed with node:zlib (gzip or zstd,
// sniffed from its first bytes), recorded member by member as it streams (layer-record.ts:
// metadata, the few files a caller collects, what the caller's hook made of large files) and
// the record is replayed onto the view. Nothing is written to disk.
// Layer contents are content to audit, not input the tool must refuse: a member with an
// absolute name or a `..` component, a name or symlink target longer than PATH_MAX, or a hard
// link to anything but an earlier member of the same layer, is a K3SG-IMAGE-LAYER-PATH finding
// and is skipped (containerd would refuse or confine it too); the rest of the layer is still read.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createZstdDecompress } from 'node:zlib';
import { isOverNameLimit, normalizeMemberPath, quoteMemberName } from '../../io/member-paths.ts';
import { sniffCompression } from '../../io/target.ts';
import { InputError } from '../../model/errors.ts';
import { LIMITS } from '../../model/limits.ts';
import { baseOf, joinPath, parentOf, type ViewEntry, type ViewTree } from './fileview-tree.ts';
import type { ImageFindings } from './findings.ts';
import {
  type CollectBudget,
  type CollectPredicate,
  type LayerFileHook,
  type LayerRecord,
  LayerRecorder,
  type RecordedMember,
} from './layer-record.ts';
import type { Compression } from './types.ts';

const CHUNK = 1024 * 1024;
/** zstd window cap for layers: 2^27 (zstd --long=27), as blobhash.ts allows. */
const ZSTD_WINDOW_LOG_MAX = 27;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A layer blob: a name for messages and a way to stream its stored (compressed) bytes. */
export interface LayerInput {
  name: string;
  open(): AsyncIterable<Buffer>;
}

/** A layer blob in a file, e.g. `blobs/sha256/<hex>` of an OCI layout. */
export function layerFile(path: string, name: string = path): LayerInput {
  return { name, open: () => createReadStream(path, { highWaterMark: CHUNK }) };
}

export interface FileViewLimits {
  /** Entries in the final view (and its intermediate states); also members of one layer. */
  maxEntries: number;
  /** Uncompressed tar bytes of one layer. */
  maxLayerBytes: number;
  /** Uncompressed tar bytes of all layers together. */
  maxTotalBytes: number;
  /** Largest file whose bytes are kept (bigger matching files cannot be read). */
  maxCollectFile: number;
  /** All kept bytes together. */
  maxCollectTotal: number;
  /** Largest file handed to a LayerFileHook (bigger ones are not inspected). */
  maxHookFile: number;
}

export const DEFAULT_FILE_VIEW_LIMITS: FileViewLimits = {
  maxEntries: LIMITS.imageEntries,
  maxLayerBytes: LIMITS.layerBytes,
  maxTotalBytes: LIMITS.imageLayersBytes,
  maxCollectFile: LIMITS.imageKeptFile,
  maxCollectTotal: LIMITS.imageKeptTotal,
  maxHookFile: LIMITS.imageElfBytes,
};

export type { CollectPredicate, LayerFileHook } from './layer-record.ts';

export interface ApplyContext {
  tree: ViewTree;
  findings: ImageFindings;
  limits: FileViewLimits;
  /** Uncompressed bytes of the layers replayed so far. */
  totalBytes: number;
  /** Files that matched `collect` but were over maxCollectFile: path -> size. */
  tooLarge: Map<string, number>;
}

/** Record one layer from its stored bytes (decompressing as needed). */
export async function recordLayer(
  input: LayerInput,
  opts: { collect: CollectPredicate; hook?: LayerFileHook; limits: FileViewLimits; budget: CollectBudget },
): Promise<LayerRecord> {
  const recorder = new LayerRecorder(input.name, {
    collect: opts.collect,
    limits: {
      maxLayerBytes: opts.limits.maxLayerBytes,
      maxMembers: opts.limits.maxEntries,
      maxCollectFile: opts.limits.maxCollectFile,
      maxHookFile: opts.limits.maxHookFile,
    },
    budget: opts.budget,
    ...(opts.hook ? { hook: opts.hook } : {}),
  });
  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) recorder.write(chunk);
  };
  try {
    const { raw, compression } = await sniffed(input);
    if (compression === 'none') await pipeline(raw, consume);
    else if (compression === 'gzip') await pipeline(raw, createGunzip({ chunkSize: CHUNK }), consume);
    else {
      const params = { [constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX };
      await pipeline(raw, createZstdDecompress({ chunkSize: CHUNK, params }), consume);
    }
    return recorder.finish();
  } catch (e) {
    throw layerError(input.name, e);
  }
}

/** Apply a recorded layer (index `layer`, lowest first) onto the view. */
export function replayLayer(record: LayerRecord, layer: number, ctx: ApplyContext): void {
  const where = `${record.name} (layer ${layer})`;
  ctx.totalBytes += record.bytes;
  if (ctx.totalBytes > ctx.limits.maxTotalBytes) {
    throw new InputError(
      'IMAGE_LIMIT',
      record.name,
      'image: layers over the total uncompressed size limit (zip bomb?)',
    );
  }
  /** This layer's members so far: stored clean name -> final path in the view. */
  const members = new Map<string, string>();
  const report = (m: RecordedMember, why: string) =>
    ctx.findings.add('K3SG-IMAGE-LAYER-PATH', `layer member ${quoteMemberName(m.name)} ${why}; skipped`, where);

  for (const m of record.members) {
    if (!m.path.ok) {
      report(m, m.path.reason);
      continue;
    }
    const clean = m.path.path;
    if (clean === '') continue; // `../../images/`: the root itself
    // The parent is resolved through the view's symlinks, confined to the root, as
    // containerd's applier does; the last component is the member itself.
    const parent = ctx.tree.resolve(parentOf(clean), true);
    if (parent.kind === 'loop') {
      report(m, 'has a parent directory behind a symlink loop');
      continue;
    }
    const base = baseOf(clean);
    if (base === OPAQUE) {
      ctx.tree.clearDir(parent.path, layer);
      continue;
    }
    if (base.startsWith(WHITEOUT)) {
      // `.wh..wh.*` other than the opaque marker are aufs bookkeeping, not whiteouts.
      if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) ctx.tree.remove(joinPath(parent.path, base.slice(4)), layer);
      continue;
    }
    const path = joinPath(parent.path, base);
    if (isOverNameLimit(path)) {
      // Short names under symlinks to long targets can still add up to a long path.
      report(m, `is under links that lead to a path longer than ${LIMITS.memberName} bytes`);
      continue;
    }
    if (!ctx.tree.ensureDir(parent.path, layer)) {
      report(m, 'is under a path that is not a directory');
      continue;
    }
    const entry: ViewEntry = { type: m.type, size: m.size, mode: m.mode, layer, member: clean };
    if (m.facts !== undefined) entry.facts = m.facts;
    if (m.type === 'symlink') entry.linkname = m.linkname;
    if (m.type === 'hardlink') {
      const target = normalizeMemberPath(m.linkname);
      const targetPath = target.ok ? members.get(target.path) : undefined;
      const found = targetPath === undefined ? undefined : ctx.tree.entries.get(targetPath);
      if (!target.ok || targetPath === undefined || !found || found.layer !== layer) {
        report(m, `is a hard link to ${quoteMemberName(m.linkname)}, not an earlier member of the layer`);
        continue;
      }
      entry.linkname = targetPath;
      entry.size = found.size;
      ctx.tree.set(path, entry, ctx.tree.contents.get(targetPath));
    } else {
      ctx.tree.set(path, entry, m.contents);
      if (m.tooLarge) ctx.tooLarge.set(path, m.size);
    }
    members.set(clean, path);
    if (ctx.tree.size > ctx.limits.maxEntries) {
      throw new InputError('IMAGE_LIMIT', record.name, `image: more than ${ctx.limits.maxEntries} files in the view`);
    }
  }
}

/** The stored stream with its compression, sniffed from its first 4 bytes (which are put back). */
async function sniffed(input: LayerInput): Promise<{ raw: Readable; compression: Compression }> {
  const it = input.open()[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let got = 0;
  let done = false;
  while (got < 4 && !done) {
    const r = await it.next();
    if (r.done) done = true;
    else {
      head.push(r.value);
      got += r.value.length;
    }
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { raw: Readable.from(all(), { objectMode: false }), compression: sniffCompression(Buffer.concat(head)) };
}

function layerError(name: string, e: unknown): unknown {
  if (e instanceof InputError || !(e instanceof Error)) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_') || code.startsWith('ZSTD_') || code.startsWith('ERR_ZLIB')) {
    const why = code === 'Z_BUF_ERROR' ? 'truncated' : e.message;
    return new InputError('IMAGE_CORRUPT', name, `image layer: corrupt compression: ${why}`, { cause: e });
  }
  return new InputError('UNREADABLE', name, `image layer: ${e.message}`, { cause: e });
}
