// Scan findings as SARIF (written by sarif.ts): where each finding of an inventory is, as GitHub
// code scanning wants it. docs/scan-formats.md gives the mapping field by field.
//
// A finding inside the bundle is in no file on disk: its artifact is the file scanned (the
// K3s binary), and the path inside it (`k3s > bundle:<hash> > bin/runc`) is its logical
// location.
//
// A VEX-suppressed finding stays in the log with a `suppressions` entry (kind `external`: the
// decision lives in the VEX file). Its `status` is left out: the 2.1.0 schema names that
// property `state` (a spelling error in the schema, oasis-tcs/sarif-spec#449, later fixed to
// `status`), so either spelling fails one of the two schemas; the VEX status goes in properties.
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Component, Finding, Inventory } from '../model/inventory.ts';
import { type Json, type SarifResultInput, sarifLog, sarifRuleId, sarifText } from './sarif.ts';
import { locationText } from './sbomshared.ts';

export interface SarifOptions {
  /**
   * Directory that artifact URIs are written relative to (for GitHub: the repository root);
   * without it they are absolute `file://` URIs.
   */
  baseDir?: string;
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

function properties(f: Finding, chain: readonly Component[]): Json {
  const v = f.vulnerability;
  const out: Json = {};
  if (f.component !== undefined) out['k3sguard/component'] = f.component;
  const purl = chain.at(-1)?.purl;
  if (purl) out['k3sguard/purl'] = purl;
  if (v) {
    out['k3sguard/ids'] = [...new Set(v.ids)];
    out['k3sguard/module'] = v.module;
    out['k3sguard/version'] = v.version;
    out['k3sguard/via'] = v.via;
    if (v.fixed) out['k3sguard/fixed'] = v.fixed;
    out['k3sguard/reachability'] = v.reachability;
    if (v.symbols) out['k3sguard/symbols'] = v.symbols;
    if (v.cvss) out['k3sguard/cvss'] = v.cvss;
  }
  return out;
}

function result(f: Finding, inv: Inventory, chain: readonly Component[], opts: SarifOptions): SarifResultInput {
  const uri = artifactUri(diskPath(inv, chain), opts);
  const out: SarifResultInput = {
    finding: f,
    location: {
      // Line 1: GitHub places alerts on a line; a binary has none of its own.
      physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
      logicalLocations: [
        { name: f.location.at(-1) ?? inv.target, fullyQualifiedName: locationText(f.location), kind: 'resource' },
      ],
    },
    fingerprints: { 'k3sguardFinding/v1': fingerprint(sarifRuleId(f), uri, f) },
    properties: properties(f, chain),
  };
  const s = f.vulnerability?.suppressed;
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
  return sarifLog({
    tool: inv.tool,
    results: findings.map((f) => {
      const chain = (f.component !== undefined && byRef.get(f.component)) || [inv.root];
      return result(f, inv, chain, opts);
    }),
    properties: { 'k3sguard/target': inv.target, 'k3sguard/target-kind': inv.targetKind },
  });
}

export function toSarifJson(inv: Inventory, findings: readonly Finding[], opts: SarifOptions = {}): string {
  return sarifText(toSarif(inv, findings, opts));
}
