// `k3sguard db update`: download OSV's Go export (and, when asked, other ecosystems' exports:
// Debian, Alpine, Ubuntu for image scans) and import it. Each download streams into a temp
// file next to the database (never into memory, never over the database), is checked for
// completeness against Content-Length, and only when every one is complete do they go through
// ONE import, with its atomic swap: an update of Go and Debian adds both or neither. Any
// failure (HTTP error, dropped connection, stall, oversized body, damaged zip) throws a coded
// error, removes the temp files, and leaves the previous database in use (the error says so,
// or, when there was none, how to build one without the network).
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { removeStaleTemps, tempPathFor } from '../io/durable-file.ts';
import { TOOL_VERSION } from '../io/tool-version.ts';
import { InputError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { defaultVulnDbPath } from './db.ts';
import { type ImportOptions, type ImportProgress, type ImportResult, type ImportSource, importOsv } from './import.ts';
import { resolveSource } from './sources.ts';

/** Where OSV publishes one zip of every record per ecosystem. */
export const OSV_EXPORT_BASE = 'https://osv-vulnerabilities.storage.googleapis.com';

/** OSV's export of one ecosystem (`Go`, `Debian`, `Alpine`, `Ubuntu`): every release's records. */
export function osvEcosystemZip(ecosystem: string, base: string = OSV_EXPORT_BASE): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/** OSV's public export of the Go vulnerability database (the records of vuln.go.dev). */
export const OSV_GO_ALL_ZIP = osvEcosystemZip('Go');

/**
 * The ecosystems `db update` can fetch by name. `Go` is the default: K3s and its binaries.
 * The others are for the OS packages of images, and much larger than Go's export (Debian's
 * and Ubuntu's tens of thousands of records, each listing every affected version), so they
 * are fetched only when asked for.
 */
export const UPDATE_ECOSYSTEMS: readonly string[] = ['Go', 'Debian', 'Alpine', 'Ubuntu'];
/** No byte for this long: the download is abandoned. */
export const IDLE_TIMEOUT_MS = 30_000;

export type UpdateProgress = { phase: 'download'; bytes: number; total: number | undefined } | ImportProgress;

export interface UpdateOptions extends Omit<ImportOptions, 'progress'> {
  /** An http(s) URL, a file: URL or a local path (an all.zip, folder or JSON file). Default OSV_GO_ALL_ZIP. */
  source?: string | URL;
  /** Several sources, imported together (all or nothing); added to `source` and `ecosystems`. */
  sources?: readonly (string | URL)[];
  /** OSV ecosystems (UPDATE_ECOSYSTEMS) to fetch from `exportBase`; without any source: `['Go']`. */
  ecosystems?: readonly string[];
  /** Where the per-ecosystem exports are (a mirror); default OSV_EXPORT_BASE. */
  exportBase?: string;
  progress?: (p: UpdateProgress) => void;
  idleTimeoutMs?: number;
  maxDownloadBytes?: number;
}

export interface UpdateResult extends ImportResult {
  /** The URLs or paths the records came from (each recorded as an import source), comma-separated. */
  source: string;
  /** Bytes downloaded; undefined when every source was local. */
  downloadedBytes: number | undefined;
}

type Source = { kind: 'url'; url: URL } | { kind: 'file'; path: string };

function parseSource(source: string | URL): Source {
  const url =
    source instanceof URL
      ? source
      : URL.canParse(source) && /^[a-z][a-z0-9+.-]+:/i.test(source)
        ? new URL(source)
        : undefined;
  if (!url) return { kind: 'file', path: source as string };
  if (url.protocol === 'file:') return { kind: 'file', path: fileURLToPath(url) };
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'url', url };
  throw new InputError('USAGE', url.href, 'a source is an http(s) URL, a file: URL or a path');
}

/**
 * What a failed update leaves: the previous database, or (a first update, offline) nothing,
 * and then the way to a database without the network.
 */
function afterFailure(target: string): string {
  return existsSync(target)
    ? 'the previous database is still in use'
    : 'no database was written (there was none before); without the network, import an OSV export ' +
        'you have with `k3sguard db import PATH` (an all.zip, a folder of JSON files or one JSON file)';
}

/** Stream `url` into `dest`; returns the byte count. Throws DOWNLOAD_FAILED ending with `outcome`. */
async function download(url: URL, dest: string, outcome: string, opts: UpdateOptions): Promise<number> {
  const idleMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const max = opts.maxDownloadBytes ?? LIMITS.downloadBytes;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idleMs);
  const fail = (message: string, cause?: unknown): InputError =>
    new InputError('DOWNLOAD_FAILED', url.href, `${message}: ${outcome}`, { cause });
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, headers: { 'user-agent': `k3sguard/${TOOL_VERSION}` } });
    } catch (e) {
      throw fail(`cannot connect (${controller.signal.aborted ? `no answer in ${idleMs} ms` : causeText(e)})`, e);
    }
    if (!res.ok || !res.body) throw fail(`HTTP ${res.status} ${res.statusText}`.trim());
    // With a Content-Encoding, fetch decodes and Content-Length counts encoded bytes.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    const total = !encoded && Number.isSafeInteger(length) ? length : undefined;
    if (total !== undefined && total > max) throw fail(`${total} bytes announced, over the ${max}-byte limit`);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(), idleMs);
        if (bytes > max) return done(fail(`over the ${max}-byte limit`));
        opts.progress?.({ phase: 'download', bytes, total });
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
        counter,
        createWriteStream(dest),
      );
    } catch (e) {
      if (e instanceof InputError) throw e;
      const why = controller.signal.aborted ? `stalled for ${idleMs} ms` : causeText(e);
      throw fail(`download interrupted after ${bytes}${total === undefined ? '' : ` of ${total}`} bytes (${why})`, e);
    }
    if (total !== undefined && bytes !== total) throw fail(`connection closed after ${bytes} of ${total} bytes`);
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}

// undici reports "fetch failed" / "terminated" with the real reason in `cause`.
function causeText(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error && parts.length < 4; c = c.cause) parts.push(c.message);
  return parts.join(': ') || String(e);
}

/** The sources an update reads, in order: `source`, `sources`, then the named ecosystems. */
function updateSources(opts: UpdateOptions): Source[] {
  for (const e of opts.ecosystems ?? [])
    if (!UPDATE_ECOSYSTEMS.includes(e))
      throw new InputError(
        'USAGE',
        undefined,
        `unknown ecosystem ${JSON.stringify(e)}: db update knows ${UPDATE_ECOSYSTEMS.join(', ')}`,
      );
  const all: (string | URL)[] = [
    ...(opts.source !== undefined ? [opts.source] : []),
    ...(opts.sources ?? []),
    ...(opts.ecosystems ?? []).map((e) => osvEcosystemZip(e, opts.exportBase)),
  ];
  if (all.length === 0) all.push(osvEcosystemZip('Go', opts.exportBase));
  return all.map(parseSource);
}

/** Download (or read) OSV exports and import them together with the atomic swap of importOsv. */
export async function updateDb(dbPath: string | undefined, opts: UpdateOptions = {}): Promise<UpdateResult> {
  const target = resolve(dbPath ?? defaultVulnDbPath());
  const sources = updateSources(opts);
  const importOpts: ImportOptions = {
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.zipLimits ? { zipLimits: opts.zipLimits } : {}),
  };
  if (sources.some((s) => s.kind === 'url'))
    try {
      mkdirSync(dirname(target), { recursive: true });
      removeStaleTemps(target);
    } catch (e) {
      throw new InputError('OUTPUT', target, `cannot write next to the database: ${(e as Error).message}`, {
        cause: e,
      });
    }
  const temps: string[] = [];
  try {
    const toImport: ImportSource[] = [];
    let downloaded: number | undefined;
    for (const source of sources) {
      if (source.kind === 'file') {
        toImport.push({ path: source.path, label: resolve(source.path) });
        continue;
      }
      const tmp = tempPathFor(target, 'download');
      temps.push(tmp);
      downloaded = (downloaded ?? 0) + (await download(source.url, tmp, afterFailure(target), opts));
      // An error page or a proxy's login form served with 200 is not an export.
      if (resolveSource(tmp).kind !== 'zip')
        throw new InputError(
          'DOWNLOAD_FAILED',
          source.url.href,
          `the download is not a zip archive: ${afterFailure(target)}`,
        );
      toImport.push({ path: tmp, label: source.url.href });
    }
    const result = await importOsv(target, toImport, importOpts);
    return { ...result, source: toImport.map((s) => s.label).join(', '), downloadedBytes: downloaded };
  } finally {
    for (const tmp of temps) rmSync(tmp, { force: true });
  }
}
