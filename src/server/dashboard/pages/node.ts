// One node: what its newest report said (identity, K3s, inventory and what is inside the K3s
// binary), its open findings (a vulnerability links to its advisory page), its drift events and
// the history of its reports.
import { advisoryHref, componentHref, digest, emptyRow, plural, severity, when } from '../format.ts';
import { type Html, html } from '../html.ts';
import type { EventRow, FindingRow, NodeView } from '../views.ts';

export function nodePage(v: NodeView, now: Date): Html {
  const n = v.node;
  return html`<p><a href="/nodes">Nodes</a> ›</p>
<h1>${n.name}</h1>
<dl class="facts">
  <dt>Cluster</dt><dd>${n.cluster ?? html`<span class="none">none</span>`}</dd>
  <dt>Hostname</dt><dd>${n.hostname ?? ''}</dd>
  <dt>Machine id</dt><dd><code>${n.machineId ?? ''}</code></dd>
  <dt>K3s version</dt><dd>${n.k3sVersion ?? html`<span class="none">unknown</span>`}</dd>
  <dt>Role</dt><dd>${n.role ?? ''}</dd>
  <dt>Last report</dt><dd>${when(n.lastSeenAt, now)}${n.stale ? html` <span class="stale">stale</span>` : ''}</dd>
  <dt>Last check</dt><dd>${when(n.lastCheckAt, now)}</dd>
  <dt>Inventory</dt><dd>${digest(n.inventoryDigest)}</dd>
</dl>
<section aria-labelledby="h-findings">
  <h2 id="h-findings">Findings (${v.findings.length})</h2>
  ${findingTable(v.findings, now)}
</section>
<section aria-labelledby="h-inventory">
  <h2 id="h-inventory">Inventory</h2>
  <table>
    <thead><tr><th scope="col">Kind</th><th scope="col">Names</th><th scope="col">Digest</th><th scope="col">Detail</th></tr></thead>
    <tbody>${
      v.inventory.length === 0
        ? emptyRow(4, 'The newest report lists no artifact.')
        : v.inventory.map(
            (i) =>
              html`<tr><td>${i.kind}</td><td>${i.names.map((name, k) => html`${k > 0 ? html`<br>` : ''}<code>${name}</code>`)}</td><td>${digest(i.digest)}</td><td>${i.detail ?? ''}</td></tr>`,
          )
    }</tbody>
  </table>
  <h3 id="h-components">Components (${v.components.length})</h3>
  ${
    v.components.length === 0
      ? html`<p class="none">No component recorded for this node's artifacts.</p>`
      : html`<details${v.components.length <= 30 ? html` open` : ''}>
    <summary>${plural(v.components.length, 'component')} inside the node's artifacts</summary>
    <table>
      <thead><tr><th scope="col">Component</th><th scope="col">Version</th><th scope="col">Where</th><th scope="col">Artifact</th></tr></thead>
      <tbody>${v.components.map(
        (c) =>
          html`<tr><td><a href="${componentHref(c.name)}">${c.name}</a></td><td>${c.version}</td><td><code>${c.location}</code></td><td>${digest(c.artifact)}</td></tr>`,
      )}</tbody>
    </table>
  </details>`
  }
</section>
<section aria-labelledby="h-events">
  <h2 id="h-events">Drift events (${v.events.length})</h2>
  ${eventTable(v.events, now, false)}
</section>
<section aria-labelledby="h-reports">
  <h2 id="h-reports">Report history (${v.reports.length})</h2>
  <table>
    <thead><tr><th scope="col">Check finished</th><th scope="col">Received</th><th scope="col" class="num">Findings</th><th scope="col">Inventory</th><th scope="col">Report id</th></tr></thead>
    <tbody>${
      v.reports.length === 0
        ? emptyRow(5, 'No report yet.')
        : v.reports.map(
            (r) =>
              html`<tr><td>${when(r.checkFinishedAt, now)}</td><td>${when(r.receivedAt, now)}</td><td class="num">${r.findings}</td><td>${digest(r.inventory)}</td><td>${digest(r.id)}</td></tr>`,
          )
    }</tbody>
  </table>
</section>`;
}

export function findingTable(findings: readonly FindingRow[], now: Date): Html {
  return html`<table>
    <thead><tr><th scope="col">Severity</th><th scope="col">Finding</th><th scope="col">Component</th><th scope="col">Fixed in</th><th scope="col">Where</th><th scope="col">Since</th></tr></thead>
    <tbody>${
      findings.length === 0
        ? emptyRow(6, 'No open finding.')
        : findings.map(
            (f) => html`<tr>
      <td>${severity(f.severity)}</td>
      <td>${f.advisory ? html`<a href="${advisoryHref(f.advisory)}">${f.advisory}</a> ` : html`<code>${f.ruleId}</code> `}${f.title}</td>
      <td>${f.component ? html`<a href="${componentHref(f.component)}">${f.component}</a>${f.version ? html` ${f.version}` : ''}` : ''}</td>
      <td>${f.fixed ?? ''}</td>
      <td><code>${f.location ?? ''}</code></td>
      <td>${f.firstSeen ? when(f.firstSeen, now) : ''}</td>
    </tr>`,
          )
    }</tbody>
  </table>`;
}

export function eventTable(events: readonly EventRow[], now: Date, withNode: boolean): Html {
  const columns = withNode ? 6 : 5;
  return html`<table>
    <thead><tr><th scope="col">When</th>${withNode ? html`<th scope="col">Node</th>` : ''}<th scope="col">Type</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Finding</th></tr></thead>
    <tbody>${
      events.length === 0
        ? emptyRow(columns, 'No drift event.')
        : events.map(
            (e) =>
              html`<tr><td>${when(e.time, now)}</td>${withNode ? html`<td>${e.node ?? ''}</td>` : ''}<td>${e.type}</td><td>${e.status ?? ''}</td><td>${e.severity ? severity(e.severity) : ''}</td><td>${e.ruleId ? html`<code>${e.ruleId}</code> ` : ''}${e.title ?? ''}</td></tr>`,
          )
    }</tbody>
  </table>`;
}
