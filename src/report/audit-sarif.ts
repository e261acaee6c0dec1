// An AuditResult as SARIF 2.1.0 for GitHub code scanning: the rules come from the catalogue
// (full text, help in Markdown), artifact URIs are relative to %SRCROOT% (the audit root, which
// GitHub maps to the repository checkout), regions are the findings' lines and columns, and
// each result carries a partialFingerprint that survives unrelated edits (rule, file, the
// line's text, and which occurrence of that text it is; never the line number). Waived
// findings stay in the log with an `inSource` or `external` suppression.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { AuditResult, Waiver } from '../audit/result.ts';
import type { Finding, Severity } from '../model/inventory.ts';
import { findRule } from '../model/rules/catalogue.ts';
import type { AuditRule } from '../model/rules/rule.ts';
import { SARIF_LEVEL, SARIF_SCHEMA } from './sarif.ts';

type Json = Record<string, unknown>;

// GitHub ranks security alerts by this number (critical >= 9, high >= 7, medium >= 4).
const SECURITY_SEVERITY: Record<Severity, string | undefined> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  info: undefined,
  unknown: undefined,
};

function sarifRule(rule: AuditRule): Json {
  const properties: Json = { tags: ['security', 'supply-chain', `k3sguard-${rule.area}`], precision: 'high' };
  const score = SECURITY_SEVERITY[rule.severity];
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

/** A finding whose id is in no catalogue (should not happen): a rule from the finding itself. */
function adHocRule(f: Finding): AuditRule {
  return { id: f.id, area: 'iac', severity: f.severity, title: f.title, explanation: f.title, fix: '', appliesTo: [] };
}

function uriOf(file: string): { uri: string; uriBaseId?: string } {
  if (file.startsWith('/')) return { uri: pathToFileURL(file).href };
  return { uri: file.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

function suppression(w: Waiver): Json {
  return {
    kind: w.source === 'inline' ? 'inSource' : 'external',
    justification: w.reason,
    location: { physicalLocation: { artifactLocation: uriOf(w.file), region: { startLine: w.line } } },
  };
}

export function auditSarif(result: AuditResult, toolVersion: string): Json {
  const rules: Json[] = [];
  const ruleIndex = new Map<string, number>();
  const occurrences = new Map<string, number>();
  const entries: Array<{ finding: Finding; waiver?: Waiver }> = [
    ...result.findings.map((finding) => ({ finding })),
    ...result.waived,
  ];
  const results = entries.map(({ finding: f, waiver }) => {
    let index = ruleIndex.get(f.id);
    if (index === undefined) {
      index = rules.push(sarifRule(findRule(f.id) ?? adHocRule(f))) - 1;
      ruleIndex.set(f.id, index);
    }
    const r = f.region;
    const file = r?.file ?? f.location.join('/');
    const region: Json = { startLine: r?.line ?? 1, startColumn: r?.column ?? 1 };
    if (r?.endLine !== undefined) region.endLine = r.endLine;
    if (r?.endColumn !== undefined) region.endColumn = r.endColumn;
    if (r?.snippet) region.snippet = { text: r.snippet };
    const key = JSON.stringify([f.id, file, r?.snippet ?? f.message]);
    const nth = (occurrences.get(key) ?? 0) + 1;
    occurrences.set(key, nth);
    const out: Json = {
      ruleId: f.id,
      ruleIndex: index,
      level: SARIF_LEVEL[f.severity],
      message: { text: f.message },
      locations: [{ physicalLocation: { artifactLocation: uriOf(file), region } }],
      partialFingerprints: {
        'k3sguardAudit/v1': createHash('sha256').update(`${key}#${nth}`).digest('hex'),
      },
      properties: { 'k3sguard/severity': f.severity, 'k3sguard/location': [...f.location] },
    };
    if (waiver) out.suppressions = [suppression(waiver)];
    return out;
  });
  const notifications = result.problems.map((p) => ({
    level: 'warning',
    message: { text: `${p.file}: ${p.kind}: ${p.message}` },
    locations: [{ physicalLocation: { artifactLocation: uriOf(p.file) } }],
    properties: { 'k3sguard/problem': p.kind },
  }));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'k3sguard',
            version: toolVersion,
            semanticVersion: toolVersion,
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(`${result.root.replace(/\/$/, '')}/`).href } },
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
        results,
        properties: { 'k3sguard/area': result.area, 'k3sguard/files-audited': result.filesAudited.length },
      },
    ],
  };
}

export function auditSarifJson(result: AuditResult, toolVersion: string): string {
  return `${JSON.stringify(auditSarif(result, toolVersion), null, 2)}\n`;
}
