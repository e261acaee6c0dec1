// The SARIF 2.1.0 (OASIS) writer of every report, shaped for GitHub code scanning: the run, one
// rule (reportingDescriptor) per rule id used, one result per finding. What a rule says comes
// from the finding: a vulnerability's advisory, else the rule catalogue (src/model/rules/).
// Where a result is (its location and fingerprint) and why it is suppressed differ between a
// scan of a binary and an audit of text files: scan-sarif.ts and audit-sarif.ts say that and
// hand the results here. docs/scan-formats.md and docs/audit.md give the mapping.
//
// GitHub ranks security alerts by a rule's `security-severity`. A vulnerability gets one only
// from its CVSS score: a number is never made up from a band or from `unknown`. A k3sguard rule
// gets the fixed number of the severity the catalogue gives it (its severity is ours to state).
import type { Finding, Severity } from '../model/inventory.ts';
import { findRule } from '../model/rules/catalogue.ts';
import type { Rule } from '../model/rules/rule.ts';

export const SARIF_SCHEMA =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

export type Json = Record<string, unknown>;

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

// GitHub's bands: critical >= 9, high >= 7, medium >= 4, low below.
const RULE_SECURITY_SEVERITY: Record<Severity, string | undefined> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  info: undefined,
  unknown: undefined,
};

/** Where a vulnerability's id is explained: GitHub for GHSA ids, osv.dev for every other. */
export function advisoryUrl(id: string): string {
  return id.startsWith('GHSA-')
    ? `https://github.com/advisories/${id}`
    : `https://osv.dev/vulnerability/${encodeURIComponent(id)}`;
}

/** A vulnerability finding's rule is the vulnerability (its first id); any other's, its rule id. */
export function sarifRuleId(f: Finding): string {
  return f.vulnerability?.ids[0] ?? f.id;
}

function vulnerabilityRule(f: Finding, v: NonNullable<Finding['vulnerability']>): Json {
  const id = sarifRuleId(f);
  const properties: Json = { tags: ['security', 'vulnerability'] };
  if (v.cvss) properties['security-severity'] = v.cvss.score.toFixed(1);
  const ids = [...new Set(v.ids)];
  return {
    id,
    shortDescription: { text: v.summary ?? f.title },
    defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
    properties,
    name: id,
    fullDescription: { text: `${v.summary ?? f.title} (${ids.join(', ')})` },
    helpUri: advisoryUrl(id),
    help: {
      text: `${ids.join(', ')}: ${v.summary ?? f.title}. See ${ids.map(advisoryUrl).join(' ')}`,
      markdown: `${ids.map((i) => `[${i}](${advisoryUrl(i)})`).join(', ')}: ${v.summary ?? f.title}`,
    },
  };
}

function catalogueRule(rule: Rule): Json {
  const properties: Json = { tags: ['security', 'supply-chain', `k3sguard-${rule.area}`], precision: 'high' };
  const score = RULE_SECURITY_SEVERITY[rule.severity];
  if (score) properties['security-severity'] = score;
  return {
    id: rule.id,
    name: rule.id
      .replace(/^K3SG-/, '')
      .toLowerCase()
      .replace(/(?:^|-)([a-z])/g, (_, c: string) => c.toUpperCase()),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.explanation },
    help: { text: `${rule.explanation}\n\nFix: ${rule.fix}`, markdown: `${rule.explanation}\n\n**Fix:** ${rule.fix}` },
    defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
    properties,
  };
}

/** A finding whose id is in no catalogue (a test's made-up finding): what the finding itself says. */
function findingRule(f: Finding): Json {
  return {
    id: f.id,
    shortDescription: { text: f.title },
    defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
    properties: { tags: ['security', 'k3sguard'] },
  };
}

function sarifRule(f: Finding): Json {
  if (f.vulnerability) return vulnerabilityRule(f, f.vulnerability);
  const rule = findRule(f.id);
  return rule ? catalogueRule(rule) : findingRule(f);
}

/** One finding as the caller places it. */
export interface SarifResultInput {
  finding: Finding;
  /** The SARIF `location` object (physical, and logical where there is one). */
  location: Json;
  /** `partialFingerprints`: one stable name (versioned, e.g. `k3sguardFinding/v1`) and its value. */
  fingerprints: Record<string, string>;
  /** Result properties besides `k3sguard/location` (first) and `k3sguard/severity` (last). */
  properties?: Json;
  suppressions?: Json[];
}

export interface SarifRunInput {
  tool: { name: string; version: string };
  results: readonly SarifResultInput[];
  /** `%SRCROOT%` and the like, when result URIs are relative to a base. */
  originalUriBaseIds?: Json;
  /** Problems met on the way (files not read), as the invocation's tool notifications. */
  notifications?: Json[];
  /** The run's properties (what was scanned or audited). */
  properties: Json;
}

/** The SARIF log of one run. */
export function sarifLog(input: SarifRunInput): Json {
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const results = input.results.map(({ finding: f, location, fingerprints, properties, suppressions }) => {
    const ruleId = sarifRuleId(f);
    let index = ruleIndex.get(ruleId);
    if (index === undefined) {
      index = rules.push(sarifRule(f)) - 1;
      ruleIndex.set(ruleId, index);
    }
    const out: Json = {
      ruleId,
      ruleIndex: index,
      level: SARIF_LEVEL[f.severity],
      message: { text: f.message },
      locations: [location],
      partialFingerprints: fingerprints,
      properties: { 'k3sguard/location': [...f.location], ...properties, 'k3sguard/severity': f.severity },
    };
    if (suppressions) out.suppressions = suppressions;
    return out;
  });
  const { name, version } = input.tool;
  const run: Json = { tool: { driver: { name, version, semanticVersion: version, rules } } };
  if (input.originalUriBaseIds) run.originalUriBaseIds = input.originalUriBaseIds;
  if (input.notifications) {
    run.invocations = [{ executionSuccessful: true, toolExecutionNotifications: input.notifications }];
  }
  run.results = results;
  run.properties = input.properties;
  return { $schema: SARIF_SCHEMA, version: '2.1.0', runs: [run] };
}

/** The log as the file written: indented JSON and a final newline. */
export function sarifText(log: Json): string {
  return `${JSON.stringify(log, null, 2)}\n`;
}
