// The dashboard's static files: two npm packages' browser builds (htmx, uPlot) served as they
// were installed, and the dashboard's own stylesheet and script (assets/), all read once at start
// and kept in memory. Each is served at /static/<hash>/<name>, the hash of its content: a page
// always names the bytes it was written for, so the files are cached for a year ("immutable")
// and a new release is fetched at once. Scripts are files, never inline, so the pages run under a
// Content-Security-Policy without 'unsafe-inline' (csp.ts).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { IN_SEA, seaAssetText } from '../../io/sea.ts';

export type AssetName =
  | 'htmx.min.js'
  | 'uPlot.iife.min.js'
  | 'uPlot.min.css'
  | 'dashboard.css'
  | 'dashboard.js'
  | 'favicon.svg';

interface AssetSource {
  readonly name: AssetName;
  readonly type: string;
  /** An installed package's file, or one of assets/ beside this module. */
  readonly from: { readonly package: string; readonly path: string } | { readonly own: string };
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

export const ASSET_SOURCES: readonly AssetSource[] = [
  { name: 'htmx.min.js', type: JS, from: { package: 'htmx.org', path: 'dist/htmx.min.js' } },
  { name: 'uPlot.iife.min.js', type: JS, from: { package: 'uplot', path: 'dist/uPlot.iife.min.js' } },
  { name: 'uPlot.min.css', type: CSS, from: { package: 'uplot', path: 'dist/uPlot.min.css' } },
  { name: 'dashboard.css', type: CSS, from: { own: 'assets/dashboard.css' } },
  { name: 'dashboard.js', type: JS, from: { own: 'assets/dashboard.js' } },
  // Named by every page, so the browser does not ask for /favicon.ico (a 404 in its console).
  { name: 'favicon.svg', type: 'image/svg+xml', from: { own: 'assets/favicon.svg' } },
];

/** The key of a dashboard file among the single executable's assets (tools/sea/build.ts embeds them). */
export const seaDashboardAsset = (name: AssetName) => `dashboard:${name}`;

/** Where a dashboard file is on disk (in a git clone or the npm package). */
export function assetPath(source: AssetSource): string {
  if ('own' in source.from) return fileURLToPath(new URL(source.from.own, import.meta.url));
  return createRequire(import.meta.url).resolve(`${source.from.package}/${source.from.path}`);
}

export interface Asset {
  readonly name: AssetName;
  readonly type: string;
  readonly body: Buffer;
  /** `/static/<hash>/<name>`: what pages link to. */
  readonly url: string;
}

export interface Assets {
  readonly byUrl: ReadonlyMap<string, Asset>;
  url(name: AssetName): string;
}

let loaded: Assets | undefined;

/** The files, read once per process (the dashboard's routes and the login page share them). */
export function dashboardAssets(): Assets {
  loaded ??= loadAssets();
  return loaded;
}

export function loadAssets(): Assets {
  const byName = new Map<AssetName, Asset>();
  for (const source of ASSET_SOURCES) {
    const body = IN_SEA
      ? Buffer.from(seaAssetText(seaDashboardAsset(source.name)), 'utf8')
      : readFileSync(assetPath(source));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    byName.set(source.name, { name: source.name, type: source.type, body, url: `/static/${hash}/${source.name}` });
  }
  return {
    byUrl: new Map([...byName.values()].map((a) => [a.url, a])),
    url: (name) => (byName.get(name) as Asset).url,
  };
}
