// An AuditResult as SARIF 2.1.0 for GitHub code scanning, written by sarif.ts (whose rules come
// from the catalogue: full text, help in Markdown). Here: artifact URIs are relative to
// %SRCROOT% (the audit root, which GitHub maps to the repository checkout), regions are the
// findings' lines and columns, and each result carries a partialFingerprint that survives
// unrelated edits (rule, file, the line's text, and which occurrence of that text it is; never
// the line number). Waived
// findings stay in the log with an `inSource` or `external` suppression.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { AuditResult, Waiver } from '../audit/result.ts';
import type { Finding } from '../model/inventory.ts';
import { type Json, type SarifResultInput, sarifLog, sarifText } from './sarif.ts';

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
  const occurrences = new Map<string, number>();
  const entries: Array<{ finding: Finding; waiver?: Waiver }> = [
    ...result.findings.map((finding) => ({ finding })),
    ...result.waived,
  ];
  const results = entries.map(({ finding: f, waiver }): SarifResultInput => {
    const r = f.region;
    const file = r?.file ?? f.location.join('/');
    const region: Json = { startLine: r?.line ?? 1, startColumn: r?.column ?? 1 };
    if (r?.endLine !== undefined) region.endLine = r.endLine;
    if (r?.endColumn !== undefined) region.endColumn = r.endColumn;
    if (r?.snippet) region.snippet = { text: r.snippet };
    const key = JSON.stringify([f.id, file, r?.snippet ?? f.message]);
    const nth = (occurrences.get(key) ?? 0) + 1;
    occurrences.set(key, nth);
    return {
      finding: f,
      location: { physicalLocation: { artifactLocation: uriOf(file), region } },
      fingerprints: { 'k3sguardAudit/v1': createHash('sha256').update(`${key}#${nth}`).digest('hex') },
      ...(waiver ? { suppressions: [suppression(waiver)] } : {}),
    };
  });
  return sarifLog({
    tool: { name: 'k3sguard', version: toolVersion },
    results,
    originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(`${result.root.replace(/\/$/, '')}/`).href } },
    notifications: result.problems.map((p) => ({
      level: 'warning',
      message: { text: `${p.file}: ${p.kind}: ${p.message}` },
      locations: [{ physicalLocation: { artifactLocation: uriOf(p.file) } }],
      properties: { 'k3sguard/problem': p.kind },
    })),
    properties: { 'k3sguard/area': result.area, 'k3sguard/files-audited': result.filesAudited.length },
  });
}

export function auditSarifJson(result: AuditResult, toolVersion: string): string {
  return sarifText(auditSarif(result, toolVersion));
}
