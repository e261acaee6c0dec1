// One layer applied onto the view, streamed once: the blob is decompressed with node:zlib
// (gzip or zstd, sniffed from its first bytes), parsed by the project's tar reader and applied
// member by member; only the files a caller asked for are kept, nothing is written to disk.
// Layer contents are content to audit, not input the tool must refuse: a member with an
// absolute name or a `..` component, or a hard link to anything but an earlier member of the
// same layer, is a K3SG-IMAGE-LAYER-PATH finding and is skipped (containerd would refuse or
// confine it too); the rest of the layer is still read.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createZstdDecompress } from 'node:zlib';
import { InputError } from '../errors.ts';
import { normalizeMemberPath } from '../readers/bundle-paths.ts';
import { type TarEntry, TarReader } from '../readers/tar.ts';
import { sniffCompression } from './blobhash.ts';
import { baseOf, joinPath, parentOf, type ViewEntry, type ViewTree } from './fileview-tree.ts';
import type { ImageFindings } from './findings.ts';
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
  /** Entries in the final view (and its intermediate states). */
  maxEntries: number;
  /** Uncompressed tar bytes of one layer. */
  maxLayerBytes: number;
  /** Uncompressed tar bytes of all layers together. */
  maxTotalBytes: number;
  /** Largest file whose bytes are kept (bigger matching files cannot be read). */
  maxCollectFile: number;
  /** All kept bytes together. */
  maxCollectTotal: number;
}

export const DEFAULT_FILE_VIEW_LIMITS: FileViewLimits = {
  maxEntries: 2_000_000,
  maxLayerBytes: 16 * 1024 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024 * 1024,
  maxCollectFile: 16 * 1024 * 1024,
  maxCollectTotal: 256 * 1024 * 1024,
};

/** Whether to keep a regular file's bytes: `path` is absolute in the image, as stored in the view. */
export type CollectPredicate = (path: string, size: number) => boolean;

/** Where a streamed file's bytes go; each call is awaited, so a slow sink slows the layer. */
export interface FileSink {
  write(data: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Large files (ELF and Go binaries) streamed to the caller as the layer passes instead of being
 * kept. Every version of a path in every layer is offered; what counts is the version whose
 * path and layer are those of `view.lstat(path)` after the last layer.
 */
export interface FileStreamHook {
  /** `path` is absolute, where the file lands in the view. */
  want(path: string, size: number, layer: number): boolean;
  open(path: string, size: number, layer: number): FileSink;
}

export interface ApplyContext {
  tree: ViewTree;
  findings: ImageFindings;
  limits: FileViewLimits;
  collect: CollectPredicate;
  stream?: FileStreamHook;
  /** Shared across layers. */
  budget: { totalBytes: number; collected: number };
  /** Files that matched `collect` but were over maxCollectFile: path -> size. */
  tooLarge: Map<string, number>;
}

interface Current {
  path: string;
  entry: ViewEntry;
  parts?: Buffer[];
  sink?: FileSink;
}

export async function applyLayer(input: LayerInput, layer: number, ctx: ApplyContext): Promise<void> {
  const tar = new TarReader(input.name);
  const where = `${input.name} (layer ${layer})`;
  /** This layer's members so far: stored clean name -> final path in the view. */
  const members = new Map<string, string>();
  let current: Current | undefined;
  let layerBytes = 0;

  const report = (e: TarEntry, why: string) =>
    ctx.findings.add('K3SG-IMAGE-LAYER-PATH', `layer member ${JSON.stringify(e.name)} ${why}; skipped`, where);

  const onEntry = (e: TarEntry): void => {
    const clean = normalizeMemberPath(e.name);
    if (!clean.ok) {
      report(e, clean.reason);
      return;
    }
    if (clean.path === '') return; // `./`: the root itself
    // The parent is resolved through the view's symlinks, confined to the root, as
    // containerd's applier does; the last component is the member itself.
    const parent = ctx.tree.resolve(parentOf(clean.path), true);
    if (parent.kind === 'loop') {
      report(e, 'has a parent directory behind a symlink loop');
      return;
    }
    const base = baseOf(clean.path);
    if (base === OPAQUE) {
      ctx.tree.clearDir(parent.path, layer);
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      // `.wh..wh.*` other than the opaque marker are aufs bookkeeping, not whiteouts.
      if (!base.startsWith(`${WHITEOUT}${WHITEOUT}`)) ctx.tree.remove(joinPath(parent.path, base.slice(4)), layer);
      return;
    }
    const path = joinPath(parent.path, base);
    if (!ctx.tree.ensureDir(parent.path, layer)) {
      report(e, 'is under a path that is not a directory');
      return;
    }
    const entry: ViewEntry = { type: e.type, size: e.type === 'file' ? e.size : 0, mode: e.mode, layer };
    members.set(clean.path, path);
    if (e.type === 'symlink') entry.linkname = e.linkname;
    if (e.type === 'hardlink') {
      const target = normalizeMemberPath(e.linkname);
      const targetPath = target.ok ? members.get(target.path) : undefined;
      const found = targetPath === undefined ? undefined : ctx.tree.entries.get(targetPath);
      if (!target.ok || targetPath === undefined || !found || found.layer !== layer) {
        members.delete(clean.path);
        report(e, `is a hard link to ${JSON.stringify(e.linkname)}, not an earlier member of the layer`);
        return;
      }
      entry.linkname = targetPath;
      entry.size = found.size;
      ctx.tree.set(path, entry, ctx.tree.contents.get(targetPath));
    } else if (e.type === 'file' && e.size > 0) {
      current = { path, entry };
      if (ctx.stream?.want(`/${path}`, e.size, layer)) current.sink = ctx.stream.open(`/${path}`, e.size, layer);
      if (ctx.collect(`/${path}`, e.size)) {
        if (e.size > ctx.limits.maxCollectFile) ctx.tooLarge.set(path, e.size);
        else {
          ctx.budget.collected += e.size;
          if (ctx.budget.collected > ctx.limits.maxCollectTotal) {
            throw new InputError(
              'IMAGE_LIMIT',
              input.name,
              `image layer: files kept in memory exceed ${ctx.limits.maxCollectTotal} bytes`,
            );
          }
          current.parts = [];
        }
      }
      return;
    } else {
      ctx.tree.set(path, entry, e.type === 'file' && ctx.collect(`/${path}`, 0) ? Buffer.alloc(0) : undefined);
    }
    if (ctx.tree.size > ctx.limits.maxEntries) {
      throw new InputError('IMAGE_LIMIT', input.name, `image: more than ${ctx.limits.maxEntries} files in the view`);
    }
  };

  const consume = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      layerBytes += chunk.length;
      ctx.budget.totalBytes += chunk.length;
      if (layerBytes > ctx.limits.maxLayerBytes || ctx.budget.totalBytes > ctx.limits.maxTotalBytes) {
        throw new InputError('IMAGE_LIMIT', input.name, `image layer: over the uncompressed size limit (zip bomb?)`);
      }
      for (const ev of tar.feed(chunk)) {
        if (ev.type === 'entry') onEntry(ev.entry);
        else if (ev.type === 'data') {
          current?.parts?.push(Buffer.from(ev.data)); // data views die with the chunk
          await current?.sink?.write(ev.data);
        } else if (current) {
          const { path, entry, parts, sink } = current;
          current = undefined;
          await sink?.end();
          ctx.tree.set(path, entry, parts ? Buffer.concat(parts) : undefined);
          if (ctx.tree.size > ctx.limits.maxEntries) {
            throw new InputError(
              'IMAGE_LIMIT',
              input.name,
              `image: more than ${ctx.limits.maxEntries} files in the view`,
            );
          }
        }
      }
    }
    tar.finish();
  };

  try {
    const { raw, compression } = await sniffed(input);
    if (compression === 'none') await pipeline(raw, consume);
    else if (compression === 'gzip') await pipeline(raw, createGunzip({ chunkSize: CHUNK }), consume);
    else {
      const params = { [constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX };
      await pipeline(raw, createZstdDecompress({ chunkSize: CHUNK, params }), consume);
    }
  } catch (e) {
    throw layerError(input.name, e);
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
