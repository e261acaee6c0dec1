// Findings as SARIF 2.1.0 (OASIS), shaped for GitHub code scanning; docs/scan-formats.md gives
// the mapping field by field. Any Finding fits: vulnerability findings get one rule per
// vulnerability (its first id), other findings one rule per finding id.
//
// A finding inside the bundle is in no file on disk: its artifact is the file scanned (the
// K3s binary), and the path inside it (`k3s > bundle:<hash> > bin/runc`) is its logical
// location. Severity is given to GitHub as `security-severity` only where a CVSS score exists:
// a number is never made up from a band or from `unknown`.
//
// A VEX-suppressed finding stays in the log with a `suppressions` entry (kind `external`: the
// decision lives in the VEX file). Its `status` is left out: the 2.1.0 schema names that
// property `state` (a spelling error in the schema, oasis-tcs/sarif-spec#449, later fixed to
// `status`), so either spelling fails one of the two schemas; the VEX status goes in properties.
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Component, Finding, Inventory, Severity } from '../model/inventory.ts';
import { locationText } from './sbomshared.ts';

export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export interface SarifOptions {
  /**
   * Directory that artifact URIs are written relative to (for GitHub: the repository root);
   * without it they are absolute `file://` URIs.
   */
  baseDir?: string;
}

// GitHub shows `error` as error, `warning` as warning, `note` as note; `unknown` severity is a
// warning: it is a known vulnerability whose severity is not recorded, not a minor one.
export const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  unknown: 'warning',
  low: 'note',
  info: 'note',
};

type Json = Record<string, unknown>;

/** Where a vulnerability's id is explained: GitHub for GHSA ids, osv.dev for every other. */
export function advisoryUrl(id: string): string {
  return id.startsWith('GHSA-')
    ? `https://github.com/advisories/${id}`
    : `https://osv.dev/vulnerability/${encodeURIComponent(id)}`;
}

function ruleIdOf(f: Finding): string {
  return f.vulnerability?.ids[0] ?? f.id;
}

function rule(f: Finding): Json {
  const v = f.vulnerability;
  const id = ruleIdOf(f);
  const properties: Json = { tags: v ? ['security', 'vulnerability'] : ['security', 'k3sguard'] };
  if (v?.cvss) properties['security-severity'] = v.cvss.score.toFixed(1);
  const out: Json = {
    id,
    shortDescription: { text: v?.summary ?? f.title },
    defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
    properties,
  };
  if (v) {
    const ids = [...new Set(v.ids)];
    out.name = id;
    out.fullDescription = { text: `${v.summary ?? f.title} (${ids.join(', ')})` };
    out.helpUri = advisoryUrl(id);
    out.help = {
      text: `${ids.join(', ')}: ${v.summary ?? f.title}. See ${ids.map(advisoryUrl).join(' ')}`,
      markdown: `${ids.map((i) => `[${i}](${advisoryUrl(i)})`).join(', ')}: ${v.summary ?? f.title}`,
    };
  }
  return out;
}

/** Component ref -> the chain of components from the root down to it. */
function chains(root: Component): Map<string, Component[]> {
  const out = new Map<string, Component[]>();
  const visit = (c: Component, above: Component[]): void => {
    const chain = [...above, c];
    if (!out.has(c.ref)) out.set(c.ref, chain);
    if ('children' in c) for (const child of c.children) visit(child, chain);
  };
  visit(root, []);
  return out;
}

/**
 * The file on disk a finding is in: a member of a directory or an extracted data dir is its
 * own file; anything inside an embedded bundle (or a binary's modules) is in the file scanned.
 */
function diskPath(inv: Inventory, chain: readonly Component[]): string {
  let path = inv.target;
  for (const c of chain.slice(1)) {
    if (c.type === 'k3s-bundle') break; // an embedded bundle: its members are not on disk
    if (c.type === 'file' || c.type === 'directory') path = `${inv.target}/${c.path}`;
  }
  return path;
}

function artifactUri(path: string, opts: SarifOptions): string {
  const absolute = resolve(path);
  if (opts.baseDir !== undefined) {
    const rel = relative(resolve(opts.baseDir), absolute);
    if (!isAbsolute(rel)) return rel.split(sep).map(encodeURIComponent).join('/');
  }
  return pathToFileURL(absolute).href;
}

/** Stable across runs: the bundle's hash is left out, so a new K3s build keeps its alerts. */
function fingerprint(ruleId: string, uri: string, f: Finding): string {
  const where = f.location.map((l) => l.replace(/^bundle:[0-9a-f]{64}$/, 'bundle'));
  const what = f.vulnerability ? `${f.vulnerability.module}` : (f.component ?? '');
  return createHash('sha256')
    .update(JSON.stringify([ruleId, uri, where, what]))
    .digest('hex');
}

function result(f: Finding, ruleIndex: number, inv: Inventory, chain: readonly Component[], opts: SarifOptions): Json {
  const ruleId = ruleIdOf(f);
  const uri = artifactUri(diskPath(inv, chain), opts);
  const v = f.vulnerability;
  const properties: Json = { 'k3sguard/location': [...f.location] };
  if (f.component !== undefined) properties['k3sguard/component'] = f.component;
  const purl = chain.at(-1)?.purl;
  if (purl) properties['k3sguard/purl'] = purl;
  if (v) {
    properties['k3sguard/ids'] = [...new Set(v.ids)];
    properties['k3sguard/module'] = v.module;
    properties['k3sguard/version'] = v.version;
    properties['k3sguard/via'] = v.via;
    if (v.fixed) properties['k3sguard/fixed'] = v.fixed;
    properties['k3sguard/reachability'] = v.reachability;
    if (v.symbols) properties['k3sguard/symbols'] = v.symbols;
    if (v.cvss) properties['k3sguard/cvss'] = v.cvss;
  }
  properties['k3sguard/severity'] = f.severity;
  const out: Json = {
    ruleId,
    ruleIndex,
    level: SARIF_LEVEL[f.severity],
    message: { text: f.message },
    locations: [
      {
        // Line 1: GitHub places alerts on a line; a binary has none of its own.
        physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
        logicalLocations: [
          { name: f.location.at(-1) ?? inv.target, fullyQualifiedName: locationText(f.location), kind: 'resource' },
        ],
      },
    ],
    partialFingerprints: { 'k3sguardFinding/v1': fingerprint(ruleId, uri, f) },
    properties,
  };
  const s = v?.suppressed;
  if (s) {
    const why = [s.justification, s.statement].filter((x) => x).join(': ') || 'not_affected';
    out.suppressions = [
      {
        kind: 'external',
        justification: `${why} (VEX ${s.document})`,
        properties: { 'k3sguard/vex-status': 'not_affected', 'k3sguard/vex-document': s.document },
      },
    ];
  }
  return out;
}

/** The SARIF log object of `findings` (from `inv`'s scan). */
export function toSarif(inv: Inventory, findings: readonly Finding[], opts: SarifOptions = {}): Json {
  const byRef = chains(inv.root);
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const results = findings.map((f) => {
    const id = ruleIdOf(f);
    let index = ruleIndex.get(id);
    if (index === undefined) {
      index = rules.push(rule(f)) - 1;
      ruleIndex.set(id, index);
    }
    const chain = (f.component !== undefined && byRef.get(f.component)) || [inv.root];
    return result(f, index, inv, chain, opts);
  });
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: inv.tool.name, version: inv.tool.version, semanticVersion: inv.tool.version, rules } },
        results,
        properties: { 'k3sguard/target': inv.target, 'k3sguard/target-kind': inv.targetKind },
      },
    ],
  };
}

export function toSarifJson(inv: Inventory, findings: readonly Finding[], opts: SarifOptions = {}): string {
  return `${JSON.stringify(toSarif(inv, findings, opts), null, 2)}\n`;
}
