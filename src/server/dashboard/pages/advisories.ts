// The advisories that affect the fleet, and one advisory: who is affected, in which component
// and where inside the binary, and what to upgrade to.
import { advisoryHref, componentHref, emptyRow, nodeHref, plural, severity } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { AdvisoryRow, AdvisoryView } from '../views.ts';

export function advisoriesPage(rows: readonly AdvisoryRow[]): Html {
  return html`<h1>Advisories</h1>
<p class="count">${plural(rows.length, 'advisory', 'advisories')} affecting at least one node</p>
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
  const upgrades = new Map<string, Set<string>>();
  for (const a of v.affected) {
    const set = upgrades.get(a.component) ?? new Set<string>();
    set.add(a.fixed ?? '');
    upgrades.set(a.component, set);
  }
  return html`<p><a href="/advisories">Advisories</a> ›</p>
<h1>${v.id}</h1>
<dl class="facts">
  <dt>Severity</dt><dd>${severity(v.severity)}</dd>
  ${v.aliases.length ? html`<dt>Also known as</dt><dd>${v.aliases.join(', ')}</dd>` : ''}
  <dt>Summary</dt><dd>${v.summary ?? html`<span class="none">none given</span>`}</dd>
  <dt>Affected</dt><dd>${plural(new Set(v.affected.map((a) => a.node)).size, 'node')}</dd>
</dl>
<section aria-labelledby="h-upgrade">
  <h2 id="h-upgrade">What to upgrade to</h2>
  <table>
    <thead><tr><th scope="col">Component</th><th scope="col">Fixed in</th></tr></thead>
    <tbody>${
      upgrades.size === 0
        ? emptyRow(2, 'No node is affected.')
        : [...upgrades].map(
            ([component, fixed]) =>
              html`<tr><td><a href="${componentHref(component)}">${component}</a></td><td>${
                [...fixed].filter(Boolean).join(', ') || html`<span class="none">no fixed version published</span>`
              }</td></tr>`,
          )
    }</tbody>
  </table>
</section>
<section aria-labelledby="h-affected">
  <h2 id="h-affected">Affected nodes</h2>
  <table>
    <thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">Component</th><th scope="col">Installed</th><th scope="col">Fixed in</th><th scope="col">Where</th><th scope="col">Reachability</th></tr></thead>
    <tbody>${
      v.affected.length === 0
        ? emptyRow(7, 'No node is affected.')
        : v.affected.map(
            (a) => html`<tr>
      <th scope="row"><a href="${nodeHref(a.node)}">${a.node}</a></th>
      <td>${a.cluster ?? ''}</td>
      <td>${a.component}</td>
      <td>${a.version}</td>
      <td>${a.fixed ?? html`<span class="none">none</span>`}</td>
      <td><code>${a.location}</code></td>
      <td>${a.reachability ?? ''}</td>
    </tr>`,
          )
    }</tbody>
  </table>
</section>`;
}
