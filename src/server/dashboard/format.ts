// Small pieces the pages share: links to the dashboard's pages (path segments percent-encoded, so
// a node or advisory name is always one segment), times, severities and digests as shown.
import { type Html, html } from './html.ts';

export const nodeHref = (name: string) => `/nodes/${encodeURIComponent(name)}`;
export const advisoryHref = (id: string) => `/advisories/${encodeURIComponent(id)}`;

/** A query string from the parameters that have a value. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

export const componentHref = (name: string, below?: string) => withQuery('/components', { name, below });

const SEVERITY_CLASSES = new Set(['critical', 'high', 'medium', 'low', 'info', 'unknown']);

/** Severity as a badge; its class comes from a fixed set, whatever the data says. */
export function severity(value: string | null | undefined): Html {
  const s = (value ?? 'unknown').toLowerCase();
  return html`<span class="sev sev-${SEVERITY_CLASSES.has(s) ? s : 'unknown'}">${s}</span>`;
}

/** `sha256:0123456789ab…`, the whole digest in the title. */
export function digest(value: string | null | undefined): Html {
  if (!value) return html`<span class="none">none</span>`;
  const [algo, hex] = value.includes(':') ? value.split(':', 2) : ['', value];
  const short = `${algo ? `${algo}:` : ''}${(hex ?? '').slice(0, 12)}`;
  return html`<code class="digest" title="${value}">${short}${short.length < value.length ? '…' : ''}</code>`;
}

/** A time as `<time>`: how long ago (the page's time), the exact UTC time as its title. */
export function when(iso: string | null | undefined, now: Date): Html {
  if (!iso) return html`<span class="none">never</span>`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return html`${iso}`;
  return html`<time datetime="${iso}" title="${iso}">${ago(now.getTime() - t)}</time>`;
}

export function ago(ms: number): string {
  if (ms < 0) return 'in the future';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

/** A count with its noun, `1 node`, `3 nodes`. */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** An empty table's one line, spanning its columns. */
export const emptyRow = (columns: number, text: string) =>
  html`<tr><td colspan="${columns}" class="none">${text}</td></tr>`;
