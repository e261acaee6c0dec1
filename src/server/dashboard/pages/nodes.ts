// The nodes list with its filters. The filter form is a plain GET form (the URL is the state, so
// a filtered list can be bookmarked); htmx swaps in only the results when a filter changes.
import { emptyRow, nodeHref, plural, when, withQuery } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { NodeRow, NodesView } from '../views.ts';

export const NODE_RESULTS_ID = 'node-results';
/** Nodes per page of the list. */
export const NODES_PAGE = 100;

function option(value: string, label: string, selected: string | undefined): Html {
  return html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;
}

export function nodesPage(v: NodesView, now: Date): Html {
  const f = v.filter;
  return html`<h1>Nodes</h1>
<form class="filters" method="get" action="/nodes" hx-get="/nodes" hx-target="#${NODE_RESULTS_ID}" hx-trigger="change, submit" hx-push-url="true">
  <label>Cluster
    <input name="cluster" value="${f.cluster ?? ''}" placeholder="all" autocomplete="off" spellcheck="false">
  </label>
  <label>K3s version
    <select name="k3s">${option('', 'all', f.k3sVersion)}${v.k3sVersions.map((k) => option(k, k, f.k3sVersion))}</select>
  </label>
  <label>Last report
    <select name="seen">${option('', 'any time', f.seen)}${option('fresh', 'recent', f.seen)}${option('stale', 'stale or never', f.seen)}</select>
  </label>
  <label>Findings
    <select name="findings">${option('', 'with or without', f.findings)}${option('yes', 'with findings', f.findings)}${option('no', 'without', f.findings)}</select>
  </label>
  <button type="submit">Filter</button>
</form>
<div id="${NODE_RESULTS_ID}" aria-live="polite">${nodeResults(v, now)}</div>`;
}

/** The part htmx swaps in: the count, the page of nodes, links to the pages before and after. */
export function nodeResults(v: NodesView, now: Date): Html {
  const { total, offset, nodes } = v;
  const pageLink = (to: number, label: string) =>
    html`<a href="${withQuery('/nodes', {
      cluster: v.filter.cluster,
      k3s: v.filter.k3sVersion,
      seen: v.filter.seen,
      findings: v.filter.findings,
      offset: to > 0 ? String(to) : undefined,
    })}">${label}</a>`;
  const shown = nodes.length > 0 && nodes.length < total ? ` (${offset + 1} to ${offset + nodes.length} shown)` : '';
  return html`<p class="count">${plural(total, 'node')}${shown}</p>
${nodeTable(nodes, now)}
${
  offset > 0 || offset + nodes.length < total
    ? html`<nav class="pages" aria-label="Pages of nodes">${offset > 0 ? pageLink(Math.max(0, offset - NODES_PAGE), '‹ Previous') : ''} ${
        offset + nodes.length < total ? pageLink(offset + nodes.length, 'Next ›') : ''
      }</nav>`
    : ''
}`;
}

export function nodeTable(nodes: readonly NodeRow[], now: Date): Html {
  return html`<table>
  <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">K3s version</th><th scope="col">Role</th><th scope="col">Last report</th><th scope="col" class="num">Findings</th><th scope="col" class="num">Advisories</th></tr></thead>
  <tbody>${
    nodes.length === 0
      ? emptyRow(7, 'No node matches.')
      : nodes.map(
          (n) => html`<tr>
    <th scope="row"><a href="${nodeHref(n.name)}">${n.name}</a></th>
    <td>${n.cluster ?? ''}</td>
    <td>${n.k3sVersion ?? html`<span class="none">unknown</span>`}</td>
    <td>${n.role ?? ''}</td>
    <td>${when(n.lastSeenAt, now)}${n.stale ? html` <span class="stale">stale</span>` : ''}</td>
    <td class="num">${n.findings}</td>
    <td class="num">${n.vulnerabilities}</td>
  </tr>`,
        )
  }</tbody>
</table>`;
}
