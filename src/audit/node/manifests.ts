// What K3s takes from disk into the cluster without asking: auto-deploy manifests
// (server/manifests, applied at start and on every change), the charts it serves to HelmChart
// resources (server/static/charts), and the image tarballs it imports (agent/images). Each
// must be a file whose digest was reviewed (the lock); manifests are also read for images by
// tag and HelmCharts without a pinned version.
import { createHash } from 'node:crypto';
import { isMap, isSeq, type Node } from 'yaml';
import { sha256File } from '../../io/hashing.ts';
import { isInputError } from '../../model/errors.ts';
import { type NodeRuleId, nodeRule } from '../../model/rules/node.ts';
import { fileFinding, ruleFinding } from '../../model/rules/rule.ts';
import { parseImageRef } from '../../readers/images/refs.ts';
import { type NodeContext, parseNodeYaml } from './context.ts';
import { lockStatus } from './locked.ts';
import { pairOf, regionOf, scalarText, valueAt, type YamlFile } from './yamlpos.ts';

export const MANIFESTS_DIR = '/var/lib/rancher/k3s/server/manifests';
export const CHARTS_DIR = '/var/lib/rancher/k3s/server/static/charts';
export const AIRGAP_DIR = '/var/lib/rancher/k3s/agent/images';

/** The extensions K3s's deploy controller applies. */
const MANIFEST_EXT = /\.(?:ya?ml|json)$/;
/** The archive kinds K3s imports from agent/images (the `.txt` lists are pulled, not imported). */
const AIRGAP_EXT = /\.(?:tar|tar\.gz|tgz|tar\.zst|tzst|tar\.bz2|tbz|tar\.lz4|tar\.xz)$/;
const MAX_DEPTH = 32;
const EXACT_VERSION = /^v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

interface Found {
  /** The node path as named (under the directory as given). */
  path: string;
  name: string;
  siblings: string[];
}

/** Regular files under a node directory, symlinks followed inside the root, each directory once. */
function walkFiles(ctx: NodeContext, dir: string): Found[] {
  const out: Found[] = [];
  const seen = new Set<string>();
  const visit = (path: string, depth: number): void => {
    const listing = ctx.root.list(path);
    if (listing.kind === 'problem') ctx.problems.push(listing.problem);
    if (listing.kind !== 'dir') return;
    if (seen.has(listing.rel) || depth > MAX_DEPTH) {
      ctx.problems.push({
        file: path.replace(/^\/+/, ''),
        kind: 'symlink-loop',
        message: `reaches ${seen.has(listing.rel) ? `/${listing.rel} again (a directory symlink loop)` : `more than ${MAX_DEPTH} directories deep`}`,
      });
      return;
    }
    seen.add(listing.rel);
    for (const name of listing.names) {
      const child = `${path}/${name}`;
      const where = ctx.root.resolve(child);
      if (where.kind === 'problem') ctx.problems.push(where.problem);
      if (where.kind !== 'found') continue;
      if (where.st.isDirectory()) visit(child, depth + 1);
      else if (where.st.isFile()) out.push({ path: child, name, siblings: listing.names });
      else ctx.problems.push({ file: child.replace(/^\/+/, ''), kind: 'unreadable', message: 'is not a regular file' });
    }
  };
  visit(dir, 0);
  return out;
}

function lockCheck(ctx: NodeContext, id: NodeRuleId, file: string, name: string, sha256: string, what: string): void {
  if (!ctx.lock) return;
  const status = lockStatus(ctx.lock, ctx.lockName, name, sha256);
  if (status.kind === 'locked') return;
  ctx.findings.push(fileFinding(nodeRule(id), `/${file} ${what}, but ${status.why}.`, file));
}

/** Hash a file in streaming reads; a problem is recorded when it cannot be read. */
function digest(ctx: NodeContext, path: string): string | undefined {
  const file = path.replace(/^\/+/, '');
  const where = ctx.root.resolve(path);
  if (where.kind !== 'found') return undefined;
  try {
    const d = sha256File(where.host, file).sha256;
    ctx.audited.add(file);
    return d;
  } catch (e) {
    if (!isInputError(e)) throw e;
    ctx.problems.push({ file, kind: 'unreadable', message: e.message });
    return undefined;
  }
}

export function checkManifests(ctx: NodeContext): void {
  for (const f of walkFiles(ctx, MANIFESTS_DIR)) {
    // `<name>.skip` next to a manifest stops K3s from applying it.
    if (!MANIFEST_EXT.test(f.name) || f.siblings.includes(`${f.name}.skip`)) continue;
    const read = ctx.root.readText(f.path, ctx.maxFileSize);
    const file = f.path.replace(/^\/+/, '');
    let sha256: string | undefined;
    if (read.kind === 'text') {
      ctx.audited.add(read.file);
      ctx.texts.set(read.file, read.text);
      sha256 = createHash('sha256').update(read.bytes).digest('hex');
    } else if (read.kind === 'problem') {
      ctx.problems.push(read.problem);
      // Too large or binary for the content checks, but K3s may still apply it: lock it all the same.
      if (read.problem.kind === 'too-large' || read.problem.kind === 'binary') sha256 = digest(ctx, f.path);
    }
    if (sha256) lockCheck(ctx, 'K3SG-NODE-MANIFEST-UNLOCKED', file, f.name, sha256, 'is applied to the cluster by K3s');
    if (read.kind !== 'text') continue;
    const y = parseNodeYaml(ctx, read.file, read.text);
    for (const doc of y.docs) {
      imagesByTag(ctx, y, doc.contents);
      helmChartVersion(ctx, y, doc.contents);
    }
  }
}

export function checkCharts(ctx: NodeContext): void {
  if (!ctx.lock) return; // without a lock there is nothing to compare the charts with
  for (const f of walkFiles(ctx, CHARTS_DIR)) {
    const sha256 = digest(ctx, f.path);
    if (sha256) {
      const file = f.path.replace(/^\/+/, '');
      lockCheck(ctx, 'K3SG-NODE-CHART-UNLOCKED', file, f.name, sha256, 'is served to HelmChart resources');
    }
  }
}

export function checkAirgap(ctx: NodeContext): void {
  if (!ctx.lock) return;
  for (const f of walkFiles(ctx, AIRGAP_DIR)) {
    if (!AIRGAP_EXT.test(f.name)) continue;
    const sha256 = digest(ctx, f.path);
    if (sha256) {
      const file = f.path.replace(/^\/+/, '');
      lockCheck(ctx, 'K3SG-NODE-AIRGAP-UNLOCKED', file, f.name, sha256, 'is imported into containerd by K3s');
    }
  }
}

/** Every `image:` string anywhere in a document: containers, init containers, CronJobs, HelmChart values. */
function imagesByTag(ctx: NodeContext, y: YamlFile, root: unknown): void {
  // An explicit stack, not recursion: a document may be nested as deep as its parser allows.
  // An aliased subtree is shared (yaml-aliases.ts): walked once, reported once.
  const todo: unknown[] = [root];
  const seen = new Set<unknown>();
  while (todo.length > 0) {
    const node = todo.pop();
    if (seen.has(node)) continue;
    seen.add(node);
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) todo.push(node.items[i]);
      continue;
    }
    if (!isMap(node)) continue;
    const later: unknown[] = [];
    for (const pair of node.items) {
      const key = scalarText(pair.key);
      const text = key === 'image' ? scalarText(pair.value) : undefined;
      if (text === undefined) {
        later.push(pair.value);
        continue;
      }
      // K3s's own manifests write `%{SYSTEM_DEFAULT_REGISTRY}%rancher/...`: K3s fills it in.
      const ref = parseImageRef(text.replace(/%\{[A-Z_]+\}%/g, ''));
      if (!ref || ref.digest) continue;
      ctx.findings.push(
        ruleFinding(
          nodeRule('K3SG-NODE-MANIFEST-IMAGE-TAG'),
          `${text} is referenced by the tag ${ref.tag}, which the registry (or a mirror) can point at other content.`,
          regionOf(y, pair.value as Node),
        ),
      );
    }
    todo.push(...later.reverse());
  }
}

function helmChartVersion(ctx: NodeContext, y: YamlFile, top: unknown): void {
  const apiVersion = scalarText(valueAt(top, 'apiVersion')) ?? '';
  if (scalarText(valueAt(top, 'kind')) !== 'HelmChart' || !apiVersion.startsWith('helm.cattle.io/')) return;
  const spec = valueAt(top, 'spec');
  if (valueAt(spec, 'chartContent') !== undefined) return; // the chart itself is in the manifest
  const chart = scalarText(valueAt(spec, 'chart')) ?? '';
  if (/^(?:https?:\/\/|%\{KUBERNETES_API\}%).*\.tgz$/.test(chart)) return; // a URL of one chart file
  const name = scalarText(valueAt(valueAt(top, 'metadata'), 'name')) ?? '(unnamed)';
  const versionNode = valueAt(spec, 'version');
  const version = scalarText(versionNode);
  if (version !== undefined && EXACT_VERSION.test(version)) return;
  const why =
    version === undefined
      ? 'has no spec.version: the Helm controller installs whatever the repository serves as latest'
      : `has spec.version ${JSON.stringify(version)}, a range: the Helm controller takes whatever matches at the time`;
  const at = versionNode ?? pairOf(spec, 'chart') ?? valueAt(top, 'spec') ?? (top as Node);
  ctx.findings.push(
    ruleFinding(
      nodeRule('K3SG-NODE-HELMCHART-VERSION'),
      `HelmChart ${name} (chart ${chart || '?'}) ${why}.`,
      regionOf(y, at),
    ),
  );
}
