// The human view of an inventory: an indented tree with counts, then the findings. Every
// name, version and message comes from the input: each goes through `q` (quoteControls), so
// none can send the terminal a control sequence or forge a line.
import type {
  BinaryInfo,
  BundleComponent,
  Component,
  DirectoryComponent,
  FileComponent,
  Finding,
  GoModuleComponent,
  ImageArchiveComponent,
  ImageComponent,
  Inventory,
  OsPackageComponent,
} from '../model/inventory.ts';
import { walk } from '../model/inventory.ts';
import { quoteControls as q } from '../model/quote.ts';
import { type Paint, painter, SEVERITY_STYLE } from './paint.ts';

export interface TableOptions {
  /** List every module (default) or only count them. */
  modules: boolean;
  /** List a folder's files that are not Go binaries, and its symlinks, too; by default they are only counted. */
  verbose?: boolean;
  color: boolean;
}

/**
 * A folder's entry the table counts instead of listing: a file that is not a Go binary (a
 * script, a C program, data) or a symlink. A folder such as /usr/bin holds hundreds of each,
 * and a line each buries the Go binaries the inventory is about. A packed file stays listed:
 * it may hide a Go binary. Bundle members and links are always listed: each one is checked
 * against the bundle's manifest.
 */
function countedInFolder(c: Component): 'not-go' | 'symlink' | undefined {
  if (c.type === 'symlink') return 'symlink';
  if (c.type === 'file' && (c.binary.format === 'elf' || c.binary.format === 'other')) return 'not-go';
  return undefined;
}

/** The line that says what the table left out of its folders, if anything. */
function notListedLine(notGo: number, symlinks: number): string | undefined {
  const parts = [
    ...(notGo > 0 ? [notGo === 1 ? '1 file that is not a Go binary' : `${notGo} files that are not Go binaries`] : []),
    ...(symlinks > 0 ? [count(symlinks, 'symlink')] : []),
  ];
  return parts.length > 0 ? `not listed: ${parts.join(', ')} (--verbose lists them)` : undefined;
}

export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

function describeBinary(b: BinaryInfo): string {
  return q(binaryText(b));
}

function binaryText(b: BinaryInfo): string {
  switch (b.format) {
    case 'go':
      return `ELF ${b.arch.name} · Go ${b.buildInfo.goVersion}`;
    case 'go-no-buildinfo':
      return `ELF ${b.arch.name} · Go ${b.goVersion ?? '(version unknown)'} · build info stripped: module list missing`;
    case 'elf':
      return `ELF ${b.arch.name} · not a Go binary`;
    case 'packed':
      return `packed (${b.packer}): contents cannot be inspected`;
    case 'other':
      return `not a Go binary: ${b.detail}`;
  }
}

function moduleLine(m: GoModuleComponent): string {
  // A main module recorded as `(devel)` shows the version the inventory found for it (the
  // K3s -X ldflag), and says so; never `(devel)` as if it were a version.
  const recorded = m.module.version;
  const shown = m.replacement ? recorded : (m.version ?? recorded);
  let line = `${m.module.path} ${shown}`;
  if (m.role === 'main') line += shown !== recorded ? ` (main; build info says ${recorded})` : ' (main)';
  if (m.replacement) line += ` => ${m.replacement.path}${m.replacement.version ? ` ${m.replacement.version}` : ''}`;
  if (m.upstream) line += `  [fork of ${m.upstream.path} ${m.upstream.version}]`;
  return q(line);
}

function renderFile(f: FileComponent, depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const pad = '  '.repeat(depth);
  out.push(
    `${pad}${paint('bold', q(f.path))}  ${describeBinary(f.binary)} · ${humanSize(f.size)} · sha256 ${f.sha256.slice(0, 16)}…`,
  );
  if (f.k3s) {
    const v = q(f.k3s.version ?? 'version not recorded');
    const commit = f.k3s.commit ? `, commit ${q(f.k3s.commit)}` : '';
    out.push(
      `${pad}  ${paint('cyan', `K3s ${v}`)}${commit} (from ${f.k3s.source === 'ldflags' ? '-ldflags' : 'strings'})`,
    );
  }
  if (f.binary.format === 'go') {
    const bi = f.binary.buildInfo;
    const mods = f.children.filter((c): c is GoModuleComponent => c.type === 'go-module');
    if (!bi.main) {
      out.push(
        `${pad}  package ${q(bi.path ?? '?')}: GOPATH build, no module list recorded; stdlib ${q(bi.goVersion)}`,
      );
    } else {
      const replaced = mods.filter((m) => m.replacement).length;
      const forks = mods.filter((m) => m.upstream).length;
      out.push(
        `${pad}  ${count(mods.length, 'module')}, ${replaced} replaced, ${count(forks, 'fork')}; stdlib ${q(bi.goVersion)}`,
      );
      if (opts.modules) for (const m of mods) out.push(`${pad}    ${moduleLine(m)}`);
    }
  }
  for (const c of f.children) if (c.type === 'k3s-bundle') renderBundle(c, depth + 1, opts, paint, out);
}

function renderBundle(b: BundleComponent, depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const pad = '  '.repeat(depth);
  const where = b.offset !== undefined ? ` at offset ${b.offset}` : '';
  const sizes = b.compressedSize !== undefined ? `${humanSize(b.compressedSize)} -> ` : '';
  const hash =
    b.sha256 === undefined
      ? ''
      : b.sha256 === b.declaredHash
        ? ', sha256 matches its name'
        : ', SHA256 DIFFERS FROM ITS NAME';
  out.push(
    `${pad}${paint('bold', `bundle ${q(b.declaredHash)}`)}${where} (${sizes}${humanSize(b.uncompressedSize)}${hash})`,
  );
  renderChildren(b.children, depth + 1, opts, paint, out);
}

function renderChildren(children: Component[], depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const pad = '  '.repeat(depth);
  for (const c of children) {
    if (c.type === 'file') renderFile(c, depth, opts, paint, out);
    else if (c.type === 'symlink') out.push(`${pad}${q(c.path)} -> ${q(c.target)}`);
    else if (c.type === 'directory') renderDirectory(c, depth, opts, paint, out);
    else if (c.type === 'k3s-bundle') renderBundle(c, depth, opts, paint, out);
    else if (c.type === 'image-archive') renderArchive(c, depth, opts, paint, out);
    else if (c.type === 'image') renderImage(c, depth, opts, paint, out);
  }
}

function renderArchive(a: ImageArchiveComponent, depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const size = a.size !== undefined ? `, ${humanSize(a.size)}` : '';
  const compression = a.compression === 'none' ? '' : `, ${a.compression}`;
  const hash = a.sha256 ? ` · sha256 ${a.sha256.slice(0, 16)}…` : '';
  out.push(
    `${'  '.repeat(depth)}${paint('bold', q(a.name))} (${a.format}${compression}${size})${hash}: ${count(a.children.length, 'image')}`,
  );
  renderChildren(a.children, depth + 1, opts, paint, out);
}

function renderImage(i: ImageComponent, depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const pad = '  '.repeat(depth);
  const p = i.platform;
  const platform = q(p ? `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : 'platform not recorded');
  const digest = i.manifestDigest ?? i.configDigest;
  out.push(
    `${pad}${paint('bold', `image ${q(i.names.join(', ')) || '(no name)'}`)}  ${platform} · ${count(i.layers.length, 'layer')}${digest ? ` · ${q(digest)}` : ''}`,
  );
  const packages = i.children.filter((c): c is OsPackageComponent => c.type === 'os-package');
  const os = q(i.os ? (i.os.prettyName ?? [i.os.id, i.os.versionId].filter((x) => x).join(' ')) : 'no os-release');
  const managers = [...new Set(packages.map((c) => c.manager))].join('/') || 'OS';
  out.push(`${pad}  ${os}; ${count(packages.length, `${managers} package`)}`);
  if (opts.modules) {
    for (const c of packages) {
      const source =
        c.source.name !== c.name || c.source.version !== c.version
          ? `  (source ${c.source.name} ${c.source.version})`
          : '';
      out.push(`${pad}    ${q(`${c.name} ${c.version}${c.arch ? ` ${c.arch}` : ''}${source}`)}`);
    }
  }
  renderChildren(
    i.children.filter((c) => c.type !== 'os-package'),
    depth + 1,
    opts,
    paint,
    out,
  );
}

function renderDirectory(d: DirectoryComponent, depth: number, opts: TableOptions, paint: Paint, out: string[]): void {
  const shown = opts.verbose ? d.children : d.children.filter((c) => !countedInFolder(c));
  const lines: string[] = [];
  renderChildren(shown, depth + 1, opts, paint, lines);
  // A subfolder whose every line was counted instead says nothing: leave it out too.
  if (depth > 0 && lines.length === 0 && shown.length < d.children.length) return;
  out.push(`${'  '.repeat(depth)}${paint('bold', q(d.path.endsWith('/') ? d.path : `${d.path}/`))}`);
  for (const line of lines) out.push(line);
}

export function renderFindings(findings: readonly Finding[], color: boolean): string {
  if (findings.length === 0) return '';
  const paint = painter(color);
  const lines = [paint('bold', `FINDINGS (${findings.length})`)];
  for (const f of findings) {
    lines.push(
      `  ${paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase().padEnd(8))} ${q(f.id)}  ${q(f.location.join(' › '))}`,
    );
    lines.push(`           ${q(`${f.title}: ${f.message}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderInventoryTable(inv: Inventory, opts: TableOptions): string {
  const paint = painter(opts.color);
  const out: string[] = [`${paint('bold', 'TARGET')} ${q(inv.target)} (${inv.targetKind})`];
  renderChildren([inv.root], 0, opts, paint, out);
  for (const n of inv.notes) out.push(`note: ${q(`${n.location.join(' › ')}: ${n.message}`)}`);

  let files = 0;
  let goBinaries = 0;
  let modules = 0;
  let forks = 0;
  let bundles = 0;
  let images = 0;
  let packages = 0;
  let notGo = 0;
  let symlinks = 0;
  for (const { component: c, parent } of walk(inv.root)) {
    const counted = parent?.type === 'directory' ? countedInFolder(c) : undefined;
    if (counted === 'not-go') notGo++;
    else if (counted === 'symlink') symlinks++;
    if (c.type === 'image') images++;
    if (c.type === 'os-package') packages++;
    if (c.type === 'file') {
      files++;
      if (c.binary.format === 'go' || c.binary.format === 'go-no-buildinfo') goBinaries++;
    } else if (c.type === 'go-module') {
      modules++;
      if (c.upstream) forks++;
    } else if (c.type === 'k3s-bundle') bundles++;
  }
  const notListed = opts.verbose ? undefined : notListedLine(notGo, symlinks);
  if (notListed) out.push(notListed);
  const imageCounts = images > 0 ? `${count(images, 'image')}, ${count(packages, 'OS package')}, ` : '';
  out.push(
    '',
    `Summary: ${imageCounts}${count(files, 'file')}, ${count(goBinaries, 'Go binary', 'Go binaries')}, ${count(bundles, 'K3s bundle')}, ${count(modules, 'module')} (${count(forks, 'fork')}); ${count(inv.findings.length, 'finding')}`,
  );
  const findings = renderFindings(inv.findings, opts.color);
  return `${out.join('\n')}\n${findings ? `\n${findings}` : ''}`;
}
