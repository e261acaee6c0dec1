// Waivers: a finding someone has looked at and accepted, with the reason written next to it.
// Waived findings stay in every report (with the waiver) so a waiver can be reviewed, but they
// never count for `--fail-on`. Two places to write one:
//   - inline, in the audited file: `# k3sguard:ignore K3SG-IAC-IMAGE-TAG reason` (or `//` in
//     Terraform and JS-like files); alone on its line it covers the next code line, after code
//     it covers its own line;
//   - in the policy file, under `audit.waivers`, by rule id and (optionally) a path glob.
import { LineCounter, parseDocument } from 'yaml';
import { InputError } from '../model/errors.ts';
import type { Finding } from '../model/inventory.ts';
import { AUDIT_AREAS, findRule } from '../model/rules/catalogue.ts';
import { PolicyReader } from '../policy/image-policy.ts';
import type { AuditResult, WaivedFinding, Waiver } from './result.ts';

export const WAIVER_MARKER = 'k3sguard:ignore';

export interface InlineWaiver {
  ruleIds: string[];
  reason: string;
  /** The comment's own line (1-based). */
  line: number;
  /** The line whose findings it covers. */
  covers: number;
}

const INLINE = /(^|\s)(?:#|\/\/)\s*k3sguard:ignore\s+([A-Za-z0-9-]+(?:\s*,\s*[A-Za-z0-9-]+)*)(?:\s+(.*?))?\s*$/;

/** Every inline waiver of a file's text (fast: texts without the marker are not split). */
export function parseInlineWaivers(text: string): InlineWaiver[] {
  if (!text.includes(WAIVER_MARKER)) return [];
  const lines = text.split('\n');
  const out: InlineWaiver[] = [];
  // Comment-only waivers stack up until the next line that is neither blank nor a waiver.
  let pending: InlineWaiver[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    const m = INLINE.exec(raw);
    const trimmed = raw.trim();
    if (m) {
      const waiver: InlineWaiver = {
        ruleIds: (m[2] as string).split(',').map((s) => s.trim().toUpperCase()),
        reason: m[3]?.trim() || '(no reason given)',
        line,
        covers: line,
      };
      const commentOnly = trimmed.startsWith('#') || trimmed.startsWith('//');
      if (commentOnly) pending.push(waiver);
      else out.push(waiver);
      return;
    }
    if (trimmed === '' || pending.length === 0) return;
    for (const w of pending) out.push({ ...w, covers: line });
    pending = [];
  });
  return out;
}

/** Split one file's findings into those still standing and those an inline waiver covers. */
export function applyInlineWaivers(
  findings: Finding[],
  waivers: InlineWaiver[],
  file: string,
): { findings: Finding[]; waived: WaivedFinding[] } {
  if (waivers.length === 0) return { findings, waived: [] };
  const kept: Finding[] = [];
  const waived: WaivedFinding[] = [];
  for (const finding of findings) {
    const w = waivers.find((v) => v.covers === finding.region?.line && v.ruleIds.includes(finding.id));
    if (w)
      waived.push({ finding, waiver: { source: 'inline', ruleId: finding.id, reason: w.reason, file, line: w.line } });
    else kept.push(finding);
  }
  return { findings: kept, waived };
}

export interface PolicyWaiver {
  rule: string;
  /** Glob over the finding's file (relative to the audit root); absent: every file. */
  path?: string;
  reason: string;
  /** The policy file and the line of this entry. */
  file: string;
  line: number;
  matches: (file: string) => boolean;
}

/** `audit.waivers` of a policy file (the rest of the file is parseImagePolicy's). */
export function parsePolicyWaivers(file: string, text: string): PolicyWaiver[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) throw new InputError('POLICY_INVALID', file, `${file}: not valid YAML`);
  const r = new PolicyReader(file, lines);
  const top = doc.contents;
  if (top === null) return [];
  const section = r.map(top, 'the policy', ['apiVersion', 'kind', 'images', 'audit']).get('audit');
  if (section === undefined) return [];
  const waiversNode = r.map(section, 'audit', ['waivers']).get('waivers');
  if (waiversNode === undefined) return [];
  const out: PolicyWaiver[] = [];
  const items = (waiversNode as { items?: unknown[] }).items;
  if (!Array.isArray(items)) return r.fail(waiversNode, 'audit.waivers must be a list of {rule, path, reason}');
  for (const item of items) {
    const entry = r.map(item, 'each audit waiver', ['rule', 'path', 'reason']);
    const ruleNode = entry.get('rule');
    const reasonNode = entry.get('reason');
    if (ruleNode === undefined)
      r.fail(item as never, 'a waiver needs "rule:" (a rule id, see k3sguard audit --list-rules)');
    if (reasonNode === undefined) r.fail(item as never, 'a waiver needs "reason:" (why the finding is accepted)');
    const rule = r.string(ruleNode, 'rule');
    const known = findRule(rule);
    // A bundle, image or policy rule is never raised by an audit: waiving it would waive nothing.
    if (!known) r.fail(ruleNode, `unknown rule "${rule}"; see k3sguard audit --list-rules`);
    else if (!AUDIT_AREAS.includes(known.area))
      r.fail(ruleNode, `"${rule}" is a ${known.area} rule, not an audit rule; see k3sguard audit --list-rules`);
    const pathNode = entry.get('path');
    const path = pathNode === undefined ? undefined : r.string(pathNode, 'path');
    const re = path === undefined ? undefined : pathGlob(path);
    const offset = (item as { range?: [number] }).range?.[0] ?? 0;
    const waiver: PolicyWaiver = {
      rule,
      reason: r.string(reasonNode, 'reason'),
      file,
      line: lines.linePos(offset).line,
      matches: (f) => re === undefined || re.test(f),
    };
    if (path !== undefined) waiver.path = path;
    out.push(waiver);
  }
  return out;
}

/** Move the findings a policy waiver covers to `waived`. */
export function applyPolicyWaivers(result: AuditResult, waivers: PolicyWaiver[]): AuditResult {
  if (waivers.length === 0) return result;
  const findings: Finding[] = [];
  const waived: WaivedFinding[] = [...result.waived];
  for (const finding of result.findings) {
    const file = finding.region?.file ?? finding.location.join('/');
    const w = waivers.find((v) => v.rule === finding.id && v.matches(file));
    if (!w) {
      findings.push(finding);
      continue;
    }
    const waiver: Waiver = { source: 'policy', ruleId: finding.id, reason: w.reason, file: w.file, line: w.line };
    waived.push({ finding, waiver });
  }
  return { ...result, findings, waived };
}

/** `*` within a path segment, `**` across segments, `?` one character; matched against the whole path. */
export function pathGlob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole directories; a trailing `**` everything below.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
