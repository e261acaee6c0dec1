// The playbook as Markdown (readable as plain text, for a ticket or a wiki) and as one
// self-contained HTML page (printable; every value from the evidence escaped). Both carry the
// same content in the same order; commands are in code blocks, nothing else is.

import { quoteControls } from '../model/quote.ts';
import { escapeHtml } from '../report/escape.ts';
import type { Playbook } from './playbook.ts';

function header(p: Playbook): { title: string; facts: string[] } {
  const n = p.node;
  return {
    title: `Incident response playbook: ${n.name} (K3s ${n.versionText}, ${n.role})`,
    facts: [
      `Data dir ${n.dataDir}; config ${n.configFile}; binary ${n.binary}; unit ${n.unit}.service${n.role === 'server' ? `; manifests ${n.manifestsDir}; datastore: ${datastoreText(n.datastore)}` : ''}.`,
      n.evidence
        ? `Filled in from the evidence ${n.evidence.file}.`
        : 'No evidence given: paths are K3s defaults; pass --evidence to fill in this node.',
    ],
  };
}

function datastoreText(d: Playbook['node']['datastore']): string {
  return d === 'etcd'
    ? 'embedded etcd'
    : d === 'sqlite'
      ? 'SQLite (single server)'
      : d === 'external'
        ? 'an external datastore'
        : 'embedded etcd assumed (SQLite or an external datastore: see the snapshot step)';
}

/** Markdown: prose has its controls quoted and angle brackets escaped; code blocks are fenced with enough backticks. */
export function playbookMarkdown(p: Playbook): string {
  // An angle bracket in prose (a placeholder, or a value from the evidence) would be read as HTML.
  const q = (text: string) => quoteControls(text).replace(/[<>]/g, '\\$&');
  const h = header(p);
  const lines = [`# ${q(h.title)}`, '', ...h.facts.map((f) => q(f)), ''];
  if (p.shows.length > 0) lines.push('## What the evidence shows', '', ...p.shows.map((s) => `- ${q(s)}`), '');
  p.phases.forEach((phase, i) => {
    lines.push(`## ${i + 1}. ${phase.name}`, '');
    phase.steps.forEach((s, j) => {
      lines.push(`### ${i + 1}.${j + 1} ${q(s.title)}`, '', `Why: ${q(s.why)}`, '', `Where: ${q(s.where)}.`, '');
      if (s.commands.length > 0) {
        const body = s.commands.map((c) => c.run.split('\n').map(quoteControls).join('\n')).join('\n');
        const fence = '`'.repeat(Math.max(3, longestRun(body) + 1));
        lines.push(`${fence}sh`, body, fence, '');
      }
      for (const v of s.versionNotes) lines.push(`> ${q(v)}`, '');
    });
  });
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

function longestRun(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fff}
pre{background:#f4f4f6;padding:.75rem;overflow-x:auto;border-radius:4px}code{font:13px/1.4 ui-monospace,monospace}
.why{margin:.25rem 0}.where{color:#555}.note{border-left:3px solid #999;padding-left:.75rem;color:#333}
@media (prefers-color-scheme:dark){body{background:#161618;color:#e6e6e6}pre{background:#26262a}.where,.note{color:#bbb}}
@media print{pre{white-space:pre-wrap}}`;

export function playbookHtml(p: Playbook): string {
  const e = escapeHtml;
  const h = header(p);
  // Inline code in notes: escaped first, then the backtick spans turned into <code>.
  const inline = (text: string) => e(text).replace(/`([^`]+)`/g, '<code>$1</code>');
  const out = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${e(h.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${e(h.title)}</h1>`,
    ...h.facts.map((f) => `<p>${e(f)}</p>`),
  ];
  if (p.shows.length > 0) {
    out.push('<h2>What the evidence shows</h2>', '<ul>', ...p.shows.map((s) => `<li>${e(s)}</li>`), '</ul>');
  }
  p.phases.forEach((phase, i) => {
    out.push(`<h2>${i + 1}. ${e(phase.name)}</h2>`);
    phase.steps.forEach((s, j) => {
      out.push(
        `<h3>${i + 1}.${j + 1} ${e(s.title)}</h3>`,
        `<p class="why">Why: ${inline(s.why)}</p>`,
        `<p class="where">Where: ${e(s.where)}.</p>`,
      );
      if (s.commands.length > 0)
        out.push(`<pre><code>${s.commands.map((c) => c.run.split('\n').map(e).join('\n')).join('\n')}</code></pre>`);
      for (const v of s.versionNotes) out.push(`<p class="note">${inline(v)}</p>`);
    });
  });
  out.push('</body>', '</html>');
  return `${out.join('\n')}\n`;
}
