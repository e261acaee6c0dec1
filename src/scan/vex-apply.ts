// Applying an OpenVEX document to scan findings (docs/scan-formats.md, "VEX").
//
// A statement covers a finding when
//   - its vulnerability `name` or one of its `aliases` is one of the finding's ids (GO-, GHSA-,
//     CVE-; compared without regard to case), and
//   - one of its products identifies the finding's component or a container of it (the binary
//     it is in, the bundle, the K3s binary that carries the bundle), and, when that product
//     lists subcomponents, one of them identifies the component or a container too.
// A product identifies a component by purl (`identifiers.purl`, or an `@id` that is a purl):
// type, namespace and name equal, the version equal when the statement gives one (none means
// every version), and every qualifier it gives present with the same value. A Go module is
// known by the purl of the code built (a fork's), of the module required, and of the upstream a
// fork stands for; the K3s binary by `pkg:golang/github.com/k3s-io/k3s@<version>`; stdlib by
// `pkg:golang/stdlib@<version>`. A `hashes["sha-256"]` equal to a file's (or bundle's) sha256
// identifies it too. CPEs are not matched. A statement without products covers nothing: a
// VEX file must say what it is about before it may hide a finding.
//
// Of the statements covering a finding, the latest (statement `last_updated`, `timestamp`,
// else the document's; the later one in the file on a tie) decides, as OpenVEX says later
// statements supersede earlier ones: `not_affected` suppresses the finding, with its
// justification and impact statement; `affected`, `fixed` and `under_investigation` do not.
import type { Component, Finding } from '../model/inventory.ts';
import { hasChildren } from '../model/inventory.ts';
import { componentPurl, goModulePurl, isReportableVersion } from '../model/purl.ts';
import type { LoadedVex, VexProduct, VexStatement } from './vex.ts';

export interface Purl {
  type: string;
  /** Namespace segments and name, percent-decoded. */
  path: string[];
  version?: string;
  qualifiers: Map<string, string>;
}

/** A purl's parts, decoded; undefined when the text is not a purl. */
export function parsePurl(text: string): Purl | undefined {
  if (!text.startsWith('pkg:')) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash); // the subpath: within a package, not another one
  const qualifiers = new Map<string, string>();
  const question = rest.indexOf('?');
  if (question >= 0) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) qualifiers.set(pair.slice(0, eq).toLowerCase(), decode(pair.slice(eq + 1)));
    }
    rest = rest.slice(0, question);
  }
  const at = rest.lastIndexOf('@');
  const version = at >= 0 ? decode(rest.slice(at + 1)) : undefined;
  if (at >= 0) rest = rest.slice(0, at);
  const [type, ...path] = rest.split('/').filter((s) => s !== '');
  if (!type || path.length === 0) return undefined;
  const purl: Purl = { type: type.toLowerCase(), path: path.map(decode), qualifiers };
  if (version !== undefined && version !== '') purl.version = version;
  return purl;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Does the statement's purl `p` name the component purl `c`? */
function purlCovers(p: Purl, c: Purl): boolean {
  if (p.type !== c.type || p.path.length !== c.path.length || p.path.some((s, i) => s !== c.path[i])) return false;
  if (p.version !== undefined && p.version !== c.version) return false;
  for (const [k, v] of p.qualifiers) if (c.qualifiers.get(k) !== v) return false;
  return true;
}

interface Identity {
  purls: Purl[];
  sha256?: string;
}

/** Every purl (and hash) a component is known by. */
function identityOf(c: Component): Identity {
  const texts: string[] = [];
  const own = c.purl ?? componentPurl(c);
  if (own) texts.push(own);
  if (c.type === 'go-module') {
    for (const m of [c.module, c.replacement, c.upstream]) {
      if (m?.path.split('/').some((s) => s !== '') && !/^[./]/.test(m.path)) {
        texts.push(goModulePurl(m.path, isReportableVersion(m.version) ? m.version : undefined));
      }
    }
  }
  const out: Identity = { purls: texts.map(parsePurl).filter((p): p is Purl => p !== undefined) };
  if ((c.type === 'file' || c.type === 'k3s-bundle') && c.sha256) out.sha256 = c.sha256.toLowerCase();
  return out;
}

function productCovers(p: VexProduct, chain: readonly Identity[]): boolean {
  const purls = [p['@id'], p.identifiers?.purl]
    .map((t) => (t === undefined ? undefined : parsePurl(t)))
    .filter((x): x is Purl => x !== undefined);
  const sha256 = p.hashes?.['sha-256']?.toLowerCase();
  return chain.some(
    (id) => purls.some((q) => id.purls.some((c) => purlCovers(q, c))) || (sha256 !== undefined && sha256 === id.sha256),
  );
}

function statementCovers(s: VexStatement, ids: ReadonlySet<string>, chain: readonly Identity[]): boolean {
  const names = [s.vulnerability.name, ...(s.vulnerability.aliases ?? [])].map((n) => n.toUpperCase());
  if (!names.some((n) => ids.has(n))) return false;
  return (s.products ?? []).some(
    (p) =>
      productCovers(p, chain) &&
      (!p.subcomponents || p.subcomponents.length === 0 || p.subcomponents.some((sub) => productCovers(sub, chain))),
  );
}

/** Component ref -> the identities of the component and of each container up to the root. */
function chains(root: Component): Map<string, Identity[]> {
  const out = new Map<string, Identity[]>();
  const visit = (c: Component, above: readonly Identity[]): void => {
    const chain = [identityOf(c), ...above];
    if (!out.has(c.ref)) out.set(c.ref, chain); // refs are unique; should one repeat, the first wins
    if (hasChildren(c)) for (const child of c.children) visit(child, chain);
  };
  visit(root, []);
  return out;
}

/**
 * The findings, with `vulnerability.suppressed` set on those a `not_affected` statement of
 * `vex` covers (see above). `root` is the inventory's root: it gives each finding's component
 * and containers. Findings that are no vulnerabilities are returned as they are.
 */
export function applyVex(findings: readonly Finding[], vex: LoadedVex, root: Component): Finding[] {
  const byRef = chains(root);
  const doc = vex.document;
  const when = (s: VexStatement) => Date.parse(s.last_updated ?? s.timestamp ?? doc.last_updated ?? doc.timestamp);
  return findings.map((f) => {
    const v = f.vulnerability;
    const chain = f.component === undefined ? undefined : byRef.get(f.component);
    if (!v || !chain) return f;
    const ids = new Set(v.ids.map((id) => id.toUpperCase()));
    let decisive: VexStatement | undefined;
    for (const s of doc.statements) {
      if (statementCovers(s, ids, chain) && (!decisive || when(s) >= when(decisive))) decisive = s;
    }
    if (decisive?.status !== 'not_affected') return f;
    const suppressed: NonNullable<typeof v.suppressed> = { document: vex.source };
    if (decisive.justification) suppressed.justification = decisive.justification;
    if (decisive.impact_statement) suppressed.statement = decisive.impact_statement;
    return { ...f, vulnerability: { ...v, suppressed } };
  });
}
