// Scan findings as a CycloneDX 1.6 BOM with `vulnerabilities`: the inventory's SBOM exactly as
// `k3sguard sbom` writes it (cyclonedx.ts), plus one vulnerability object per finding, its
// `affects` pointing at the bom-ref of the component the finding concerns. docs/scan-formats.md
// gives the mapping. One object per finding rather than per vulnerability: reachability and VEX
// analysis differ from one binary to another, and CycloneDX holds them per vulnerability object.
// Findings that are not vulnerabilities (tampering) have no place in `vulnerabilities`: they
// stay in the JSON and SARIF reports.
import type { Component, Finding, Inventory, VulnerabilityInfo } from '../model/inventory.ts';
import { walk } from '../model/inventory.ts';
import { type CycloneDxOptions, toCycloneDxJson } from './cyclonedx.ts';
import { advisoryUrl } from './sarif.ts';
import { locationText, uniqueRefs } from './sbomshared.ts';

type Json = Record<string, unknown>;

/** Who publishes an id, and where its page is. */
export function vulnerabilitySource(id: string): { name: string; url: string } {
  if (id.startsWith('GO-')) return { name: 'Go Vulnerability Database', url: `https://pkg.go.dev/vuln/${id}` };
  if (id.startsWith('GHSA-')) return { name: 'GitHub Advisory Database', url: advisoryUrl(id) };
  if (id.startsWith('CVE-')) return { name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${id}` };
  return { name: 'OSV', url: advisoryUrl(id) };
}

const CVSS_METHOD: Record<string, string> = { '2.0': 'CVSSv2', '3.0': 'CVSSv3', '3.1': 'CVSSv31', '4.0': 'CVSSv4' };

// OpenVEX justifications in CycloneDX's terms (the closest of its impact-analysis reasons);
// the OpenVEX label itself is kept in the analysis detail.
const JUSTIFICATION: Record<string, string> = {
  component_not_present: 'code_not_present',
  vulnerable_code_not_present: 'code_not_present',
  vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment',
  inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

function ratings(f: Finding, v: VulnerabilityInfo): Json[] {
  if (v.cvss) {
    const rating: Json = { score: v.cvss.score, severity: f.severity, vector: v.cvss.vector };
    rating.method = CVSS_METHOD[v.cvss.version] ?? 'other';
    return [rating];
  }
  // No score: the severity alone, which is `unknown` unless a record rated it.
  return [{ severity: f.severity }];
}

function analysis(s: NonNullable<VulnerabilityInfo['suppressed']>): Json {
  const out: Json = { state: 'not_affected' };
  const justification = s.justification === undefined ? undefined : JUSTIFICATION[s.justification];
  if (justification) out.justification = justification;
  const parts = [s.justification && `OpenVEX ${s.justification}`, s.statement, `VEX document ${s.document}`];
  out.detail = parts.filter((p) => p).join('; ');
  return out;
}

function properties(f: Finding, v: VulnerabilityInfo): Json[] {
  const p: Array<[string, string]> = [
    ['k3sguard:location', locationText(f.location)],
    ['k3sguard:module', v.module],
    ['k3sguard:via', v.via],
    ['k3sguard:reachability', v.reachability],
  ];
  for (const s of v.symbols ?? []) p.push(['k3sguard:symbol', s]);
  if (v.fixed) p.push(['k3sguard:fixed', v.fixed]);
  return p.map(([name, value]) => ({ name, value }));
}

function vulnerability(f: Finding, v: VulnerabilityInfo, bomRef: string, affected: string | undefined): Json {
  const ids = [...new Set(v.ids)];
  const [id = f.id, ...others] = ids;
  const out: Json = { 'bom-ref': bomRef, id, source: vulnerabilitySource(id) };
  if (others.length > 0) out.references = others.map((o) => ({ id: o, source: vulnerabilitySource(o) }));
  out.ratings = ratings(f, v);
  if (v.summary) out.description = v.summary;
  out.detail = f.message;
  if (v.fixed) out.recommendation = `Upgrade ${v.module} to ${v.fixed} or later.`;
  out.advisories = ids.map((i) => ({ title: i, url: vulnerabilitySource(i).url }));
  if (v.suppressed) out.analysis = analysis(v.suppressed);
  if (affected) out.affects = [{ ref: affected, versions: [{ version: v.version, status: 'affected' }] }];
  out.properties = properties(f, v);
  return out;
}

/**
 * The CycloneDX 1.6 JSON of `inv` with the vulnerability findings of `findings`. A finding
 * whose component is not in the inventory is listed without `affects` rather than dropped.
 */
export function toCycloneDxVulnerabilityJson(
  inv: Inventory,
  findings: readonly Finding[],
  opts: CycloneDxOptions = {},
): string {
  const bom = JSON.parse(toCycloneDxJson(inv, opts)) as Json;
  // The bom-refs toCycloneDxJson gave each component, by component ref (the first one wins,
  // as in uniqueRefs).
  const refs = uniqueRefs(inv.root);
  const bomRefOf = new Map<string, string>();
  for (const { component } of walk(inv.root)) {
    const id = refs.get(component as Component);
    if (id !== undefined && !bomRefOf.has(component.ref)) bomRefOf.set(component.ref, id);
  }
  const taken = new Set(refs.values());
  const vulnerabilities: Json[] = [];
  for (const f of findings) {
    const v = f.vulnerability;
    if (!v) continue;
    const affected = f.component === undefined ? undefined : bomRefOf.get(f.component);
    // A bom-ref unique in the whole BOM: the vulnerability and where it was found.
    const base = `vulnerability:${v.ids[0] ?? f.id}@${affected ?? locationText(f.location)}`;
    let bomRef = base;
    for (let n = 2; taken.has(bomRef); n++) bomRef = `${base}~${n}`;
    taken.add(bomRef);
    vulnerabilities.push(vulnerability(f, v, bomRef, affected));
  }
  bom.vulnerabilities = vulnerabilities;
  return `${JSON.stringify(bom, null, 2)}\n`;
}
