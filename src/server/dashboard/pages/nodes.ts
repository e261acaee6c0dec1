// The nodes list with its filters. The filter form is a plain GET form (the URL is the state, so
// a filtered list can be bookmarked); htmx swaps in only the results when a filter changes.
import { emptyRow, nodeHref, plural, when } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { NodeRow, NodesView } from '../views.ts';

export const NODE_RESULTS_ID = 'node-results';

function option(value: string, label: string, selected: string | undefined): Html {
  return html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;
}

export function nodesPage(v: NodesView, now: Date): Html {
  const f = v.filter;
  return html`<h1>Nodes</h1>
<form class="filters" method="get" action="/nodes" hx-get="/nodes" hx-target="#${NODE_RESULTS_ID}" hx-trigger="change, submit" hx-push-url="true">
  <label>Cluster
    <select name="cluster">${option('', 'all', f.cluster)}${v.clusters.map((c) => option(c, c, f.cluster))}</select>
  </label>
  <label>K3s version
    <select name="k3s">${option('', 'all', f.k3sVersion)}${v.k3sVersions.map((k) => option(k, k, f.k3sVersion))}</select>
  </label>
  <label>Last report
    <select name="seen">${option('', 'any time', f.seen)}${option('fresh', 'recent', f.seen)}${option('stale', 'stale', f.seen)}</select>
  </label>
  <label>Findings
    <select name="findings">${option('', 'with or without', f.findings)}${option('yes', 'with findings', f.findings)}${option('no', 'without', f.findings)}</select>
  </label>
  <button type="submit">Filter</button>
</form>
<div id="${NODE_RESULTS_ID}" aria-live="polite">${nodeResults(v.nodes, now)}</div>`;
}

/** The part htmx swaps in. */
export function nodeResults(nodes: readonly NodeRow[], now: Date): Html {
  return html`<p class="count">${plural(nodes.length, 'node')}</p>
${nodeTable(nodes, now)}`;
}

export function nodeTable(nodes: readonly NodeRow[], now: Date): Html {
  return html`<table>
  <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">K3s version</th><th scope="col">Role</th><th scope="col">Last report</th><th scope="col" class="num">Findings</th></tr></thead>
  <tbody>${
    nodes.length === 0
      ? emptyRow(6, 'No node matches.')
      : nodes.map(
          (n) => html`<tr>
    <th scope="row"><a href="${nodeHref(n.name)}">${n.name}</a></th>
    <td>${n.cluster ?? ''}</td>
    <td>${n.k3sVersion ?? html`<span class="none">unknown</span>`}</td>
    <td>${n.role ?? ''}</td>
    <td>${when(n.lastSeenAt, now)}${n.stale ? html` <span class="stale">stale</span>` : ''}</td>
    <td class="num">${n.findings}</td>
  </tr>`,
        )
  }</tbody>
</table>`;
}
