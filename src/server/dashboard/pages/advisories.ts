// The advisories that affect the fleet, and one advisory: who is affected, in which component
// and where inside the binary, and what to upgrade to.
import { advisoryHref, componentHref, emptyRow, nodeHref, plural, severity } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { AdvisoryRow, AdvisoryView } from '../views.ts';

export function advisoriesPage(rows: readonly AdvisoryRow[], severityShown?: string): Html {
  return html`<h1>Advisories</h1>
<p class="count">${plural(rows.length, 'advisory', 'advisories')}${severityShown ? html` of severity ${severity(severityShown)}` : ''} affecting at least one node${
    severityShown ? html` (<a href="/advisories">all severities</a>)` : ''
  }</p>
<table>
  <thead><tr><th scope="col">Advisory</th><th scope="col">Severity</th><th scope="col">Summary</th><th scope="col">Components</th><th scope="col">Fixed in</th><th scope="col" class="num">Nodes</th></tr></thead>
  <tbody>${
    rows.length === 0
      ? emptyRow(6, 'No advisory affects the fleet.')
      : rows.map(
          (a) => html`<tr>
    <th scope="row"><a href="${advisoryHref(a.id)}">${a.id}</a>${a.aliases.length ? html`<br><small>${a.aliases.join(', ')}</small>` : ''}</th>
    <td>${severity(a.severity)}</td>
    <td>${a.summary ?? ''}</td>
    <td>${a.components.map((c, i) => html`${i > 0 ? html`<br>` : ''}<code>${c}</code>`)}</td>
    <td>${a.fixed.join(', ')}</td>
    <td class="num">${a.nodes}</td>
  </tr>`,
        )
  }</tbody>
</table>`;
}

export function advisoryPage(v: AdvisoryView): Html {
  return html`<p><a href="/advisories">Advisories</a> ›</p>
<h1>${v.id}</h1>
<dl class="facts">
  <dt>Severity</dt><dd>${severity(v.severity)}</dd>
  ${v.aliases.length ? html`<dt>Also known as</dt><dd>${v.aliases.join(', ')}</dd>` : ''}
  <dt>Summary</dt><dd>${v.summary ?? html`<span class="none">none given</span>`}</dd>
  <dt>Fixed in</dt><dd>${v.fixed.length ? v.fixed.join(', ') : html`<span class="none">no fixed version published</span>`}</dd>
  <dt>Affected</dt><dd>${plural(v.total, 'node')}</dd>
</dl>
<section aria-labelledby="h-upgrade">
  <h2 id="h-upgrade">What to upgrade</h2>
  <table>
    <thead><tr><th scope="col">Component</th><th scope="col">Installed</th><th scope="col">Upgrade to</th><th scope="col">Where</th><th scope="col">Reachability</th><th scope="col" class="num">Nodes</th></tr></thead>
    <tbody>${
      v.places.length === 0
        ? emptyRow(6, 'No node is affected.')
        : v.places.map(
            (p) => html`<tr>
      <td>${p.component ? html`<a href="${componentHref(p.component, p.fixed ?? undefined)}">${p.component}</a>` : ''}</td>
      <td>${p.version ?? ''}</td>
      <td>${p.fixed ?? html`<span class="none">no fix known</span>`}</td>
      <td><code>${p.location ?? ''}</code></td>
      <td>${p.reachability ?? ''}</td>
      <td class="num">${p.nodes}</td>
    </tr>`,
          )
    }</tbody>
  </table>
</section>
<section aria-labelledby="h-affected">
  <h2 id="h-affected">Affected nodes</h2>
  ${v.affected.length < v.total ? html`<p class="count">The first ${v.affected.length} of ${v.total} shown.</p>` : ''}
  <table>
    <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">K3s version</th><th scope="col">Component</th><th scope="col">Installed</th><th scope="col">Upgrade to</th><th scope="col">Where</th></tr></thead>
    <tbody>${
      v.affected.length === 0
        ? emptyRow(7, 'No node is affected.')
        : v.affected.map(
            (a) => html`<tr>
      <th scope="row"><a href="${nodeHref(a.node)}">${a.node}</a></th>
      <td>${a.cluster ?? ''}</td>
      <td>${a.k3sVersion ?? ''}</td>
      <td>${a.component ?? ''}</td>
      <td>${a.version ?? ''}</td>
      <td>${a.fixed ?? html`<span class="none">no fix known</span>`}</td>
      <td><code>${a.location ?? ''}</code></td>
    </tr>`,
          )
    }</tbody>
  </table>
</section>`;
}
